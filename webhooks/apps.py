from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Signed outbound webhooks: endpoints subscribe to ticket events; deliveries go through an outbox."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from itsm.registry import event_listener_register
        from webhooks.services import webhook_on_event

        event_listener_register(webhook_on_event)
