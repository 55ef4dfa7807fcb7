from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _profile_managers(user_id: int) -> list:
    from requests_app.models import Profile

    profile = Profile.objects.select_related("manager").filter(user_id=user_id).first()
    return [profile.manager] if profile and profile.manager and profile.manager.is_active else []


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        # The kernel's approvals call back into the request services through these registrations.
        from itsm.enums import TicketKind
        from itsm.registry import ApprovalPractice, approval_practice_register, manager_lookup_register
        from requests_app import services

        approval_practice_register(
            ApprovalPractice(
                kind=TicketKind.REQUESTED_ITEM,
                type_choices=[],
                risk_choices=[],
                on_approved=services.requested_item_on_approved,
                on_rejected=services.requested_item_on_rejected,
            )
        )
        manager_lookup_register(_profile_managers)

        # Mail: a mailbox set to "request" orders its catalog item; replies to a REQ or RITM become comments.
        from mail.inbound import ticket_commenter_register, ticket_creator_register
        from requests_app.mail import (
            request_comment_from_mail,
            request_create_from_mail,
            requested_item_comment_from_mail,
        )

        ticket_creator_register(TicketKind.REQUEST, request_create_from_mail, request_comment_from_mail)
        ticket_commenter_register(TicketKind.REQUESTED_ITEM, requested_item_comment_from_mail)
