"""Webhook deliveries: written with the change that caused them, sent signed by a worker, retried with back-off.

Delivery is at least once: a worker that dies mid-request leaves a claim that expires and is sent again with the
same `X-ITSM-Delivery` id, which receivers use to drop repeats.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from itsm.configcache import ConfigCache
from itsm.models import Ticket
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.signing import SIGNATURE_HEADER, signature
from webhooks.ssrf import UnsafeTarget, target_check

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 8
RESPONSE_LIMIT = 64 * 1024


def webhook_backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes after each failure, at most six hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """The ticket as integrations see it."""
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "kind": ticket.kind,
        "short_description": ticket.short_description,
        "state": getattr(ticket, "state", None),
        "state_category": ticket.state_category,
        "active": ticket.active,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "caller": ticket.caller.get_username() if ticket.caller_id else None,
        "assignment_group": ticket.assignment_group.name if ticket.assignment_group_id else None,
        "assigned_to": ticket.assigned_to.get_username() if ticket.assigned_to_id else None,
        "opened_at": ticket.opened_at,
        "updated_at": ticket.updated_at,
    }


# The active endpoints' subscriptions, per process for a few seconds (itsm.configcache): most events have no
# subscriber, and the SLA sweep alone raises thousands. With a subscriber, the endpoints are read fresh.
ACTIVE_ENDPOINTS = ConfigCache(
    lambda: list(WebhookEndpoint.objects.filter(active=True).only("id", "events")), model="webhooks.WebhookEndpoint"
)


def webhook_on_event(*, event: str, ticket: Ticket, key: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue one delivery per subscribed endpoint, in the current transaction; sent after commit."""
    if not any(endpoint.wants(event) for endpoint in ACTIVE_ENDPOINTS.get()):
        return []
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if e.wants(event)]
    if not endpoints:
        return []
    keys = {f"{e.pk}:{event}:{ticket.pk}:{key}": e for e in endpoints}
    known = set(WebhookDelivery.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True))
    rows = []
    for dedupe_key, endpoint in keys.items():
        if dedupe_key in known:
            continue
        row = WebhookDelivery(endpoint=endpoint, dedupe_key=dedupe_key, event=event)
        row.payload = json.dumps(
            {
                "delivery_id": str(row.delivery_id),
                "event": event,
                "occurred_at": timezone.now(),
                "ticket": ticket_payload(ticket),
                "data": data,
            },
            cls=DjangoJSONEncoder,
        )
        rows.append(row)
    rows = WebhookDelivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(partial(_send_later, [row.pk for row in rows]))
    return rows


def _send_later(ids: list[int]) -> None:
    from webhooks.tasks import webhook_deliver_task

    for pk in ids:
        webhook_deliver_task.delay(delivery_id=pk)


def _post(endpoint: WebhookEndpoint, body: bytes, headers: dict[str, str]) -> int:
    """POST to the address we checked (no DNS rebinding, no redirects); returns the status code."""
    host, port, addresses = target_check(endpoint.url, allow_private=endpoint.allow_private_network)
    parts = urlsplit(endpoint.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    headers = headers | {"Host": host if port == default_port else f"{host}:{port}"}
    timeout = urllib3.Timeout(connect=5, read=settings.ITSM_WEBHOOK_TIMEOUT_SECONDS)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            addresses[0], port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", timeout=timeout
        )
    else:
        pool = urllib3.HTTPConnectionPool(addresses[0], port, timeout=timeout)
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers=headers, redirect=False, retries=False, preload_content=False
        )
        response.read(RESPONSE_LIMIT)
        response.release_conn()
        return response.status
    finally:
        pool.close()


def webhook_deliver(*, delivery_id: int) -> bool:
    """Send one due delivery, signed now; True when the endpoint answered 2xx."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = delivery.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "itsm-webhooks/1",
        "X-ITSM-Event": delivery.event,
        "X-ITSM-Delivery": str(delivery.delivery_id),
        SIGNATURE_HEADER: signature(secret=delivery.endpoint.secret, body=body, timestamp=int(time.time())),
    }
    code, error = None, ""
    try:
        code = _post(delivery.endpoint, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except UnsafeTarget as exc:
        error = f"refused: {exc}"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    if not error:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), response_code=code, last_error=""
        )
        return True
    failed = delivery.attempts >= MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
        next_attempt_at=None if failed else timezone.now() + webhook_backoff(delivery.attempts),
        claimed_at=None,
        response_code=code,
        last_error=error[:2000],
    )
    logger.info("webhook delivery %s failed (attempt %s): %s", delivery_id, delivery.attempts, error)
    return False


def webhook_replay(*, delivery_id: int) -> bool:
    """Send a delivery again now (same delivery id), whatever became of it; the admin's replay button."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.PENDING, next_attempt_at=None, claimed_at=None
    )
    return webhook_deliver(delivery_id=delivery_id)


def webhooks_flush(*, limit: int = 200) -> int:
    """Send the deliveries that are due (lost tasks, back-offs, expired claims); returns how many succeeded."""
    now = timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)),
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            status=DeliveryStatus.PENDING,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(webhook_deliver(delivery_id=pk) for pk in ids)
