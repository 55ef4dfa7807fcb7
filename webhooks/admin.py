"""Admin for webhooks: endpoints (URL checked against private addresses) and the delivery log with replay."""

from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_replay


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active", "allow_private_network", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    # Django 5.2 warns (and the test settings fail) on a form URLField that does not say which scheme to assume.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "event", "status", "attempts", "response_code", "next_attempt_at")
    list_filter = ("status", "event", "endpoint")
    search_fields = ("delivery_id", "dedupe_key")
    list_select_related = ("endpoint",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ("replay",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description=_("Replay (send again with the same delivery id)"), permissions=["replay"])
    def replay(self, request, queryset) -> None:
        results = [webhook_replay(delivery_id=pk) for pk in queryset.values_list("pk", flat=True)]
        self.message_user(
            request,
            _("%(ok)d delivered, %(failed)d failed again.")
            % {"ok": sum(results), "failed": len(results) - sum(results)},
            messages.SUCCESS if all(results) else messages.WARNING,
        )
