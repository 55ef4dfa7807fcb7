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
        # An edge added to or removed from the CI dependency graph can make or end conflicts between planned changes.
        from django.db.models.signals import m2m_changed

        from catalog.models import ConfigurationItem

        m2m_changed.connect(
            _ci_graph_changed, sender=ConfigurationItem.depends_on.through, dispatch_uid="changes.ci_graph_changed"
        )


def _ci_graph_changed(sender, action: str, instance, pk_set, **kwargs) -> None:
    from changes.services import change_conflicts_refresh_around, change_conflicts_refresh_planned

    if action in ("post_add", "post_remove") and pk_set:
        # Either side of the relation may be the instance; the edge's ends are the instance and pk_set.
        change_conflicts_refresh_around(ci_ids={instance.pk, *pk_set})
    elif action == "post_clear":
        change_conflicts_refresh_planned()
