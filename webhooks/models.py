"""Webhook endpoints (what to send where, signed with which secret) and their deliveries (the outbox)."""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webhooks.events import WEBHOOK_EVENTS


def _secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribes to, each POST signed with HMAC-SHA256 and its secret."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=_secret)
    events = models.JSONField(_("events"), default=list, help_text=_("Event names; an empty list means every event."))
    active = models.BooleanField(_("active"), default=True)
    allow_private_network = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_("Admins only: let this endpoint reach loopback, private or link-local addresses."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from webhooks.ssrf import UnsafeTarget, target_check

        errors = {}
        if not isinstance(self.events, list) or any(e not in WEBHOOK_EVENTS for e in self.events):
            errors["events"] = _("Must be a list of: %s.") % ", ".join(WEBHOOK_EVENTS)
        try:
            target_check(self.url, allow_private=self.allow_private_network)
        except UnsafeTarget as exc:
            errors["url"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of the change, sent (and retried) by a worker."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    event = models.CharField(_("event"), max_length=64)
    payload = models.TextField(_("payload (JSON)"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt not before"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.status})"
