from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _definition_matches_changed(sender, instance, action, **kwargs) -> None:
    # Many-to-many edits do not touch updated_at; bump it so other processes see the change too.
    if action.startswith("post_"):
        from slas.models import SLADefinition

        if not kwargs.get("reverse"):
            changed = SLADefinition.objects.filter(pk=instance.pk)
        else:  # edited from the other side (e.g. a catalog item's definitions): pk_set holds the definitions
            pk_set = kwargs.get("pk_set")
            changed = SLADefinition.objects.filter(pk__in=pk_set) if pk_set else SLADefinition.objects.all()
        changed.update(updated_at=timezone.now())
        from slas.services import definitions_cache_clear

        definitions_cache_clear()


class SlasConfig(AppConfig):
    name = "slas"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from slas.models import Holiday, Schedule, ScheduleSpan, SLAAction, SLADefinition
        from slas.services import definitions_cache_clear

        for model in (SLADefinition, SLAAction, Schedule, ScheduleSpan, Holiday):
            post_save.connect(definitions_cache_clear, sender=model, dispatch_uid=f"sla-cache-save-{model.__name__}")
            post_delete.connect(definitions_cache_clear, sender=model, dispatch_uid=f"sla-cache-del-{model.__name__}")
        for field in (
            "match_services",
            "match_configuration_items",
            "match_assignment_groups",
            "match_categories",
            "match_catalog_items",
        ):
            m2m_changed.connect(
                _definition_matches_changed,
                sender=getattr(SLADefinition, field).through,
                dispatch_uid=f"sla-cache-m2m-{field}",
            )
