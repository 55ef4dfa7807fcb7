from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Change enablement")

    def ready(self) -> None:
        # The kernel's approvals call back into the change services through this registration (it never imports us).
        from changes import services
        from changes.enums import ChangeRisk, ChangeType
        from itsm.enums import TicketKind
        from itsm.registry import ApprovalPractice, approval_practice_register

        approval_practice_register(
            ApprovalPractice(
                kind=TicketKind.CHANGE,
                type_choices=list(ChangeType.choices),
                risk_choices=list(ChangeRisk.choices),
                on_approved=services.change_on_approved,
                on_rejected=services.change_on_rejected,
                configuration_items=services.change_configuration_items,
            )
        )
