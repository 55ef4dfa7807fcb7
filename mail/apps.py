from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    """E-mail: notification templates and preferences, outgoing mail from the outbox, mailboxes and ingestion."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from itsm.registry import NotificationChannel, event_listener_register, notification_channel_register
        from mail import outbound

        notification_channel_register(
            NotificationChannel(
                compose=outbound.notification_compose,
                send=outbound.mail_send,
                compose_many=outbound.notification_compose_many,
            )
        )
        event_listener_register(outbound.on_ticket_event)
