from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Automation and improvement")

    def ready(self) -> None:
        from automation.triggers import ACTIVE_TRIGGERS, trigger_on_event
        from itsm.registry import event_listener_register

        event_listener_register(trigger_on_event)
        ACTIVE_TRIGGERS.connect()

        from automation.learning import CATEGORISER_SETTINGS, RUNS_IN_USE
        from automation.services import ACTIVE_RULE_PRACTICES

        for cache in (ACTIVE_RULE_PRACTICES, CATEGORISER_SETTINGS, RUNS_IN_USE):
            cache.connect()

        from automation.suggestions import suggestion_apply, suggestion_dismiss, suggestion_pending
        from itsm.registry import SuggestionProvider, suggestion_provider_register

        suggestion_provider_register(
            SuggestionProvider(pending=suggestion_pending, apply=suggestion_apply, dismiss=suggestion_dismiss)
        )
