from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Automation and improvement")

    def ready(self) -> None:
        from automation.triggers import trigger_on_event
        from itsm.registry import event_listener_register

        event_listener_register(trigger_on_event)

        from automation.suggestions import suggestion_apply, suggestion_dismiss, suggestion_pending
        from itsm.registry import SuggestionProvider, suggestion_provider_register

        suggestion_provider_register(
            SuggestionProvider(pending=suggestion_pending, apply=suggestion_apply, dismiss=suggestion_dismiss)
        )
