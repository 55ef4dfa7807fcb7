"""Signed webhooks against a real HTTP receiver on 127.0.0.1: same-transaction outbox, signatures on every delivery,
back-off and failure, replay, and the private-address guard."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from incidents.services import incident_comment, incident_create
from tests.conftest import client_for
from tests.factories import UserFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import MAX_ATTEMPTS, webhook_deliver, webhook_replay, webhooks_flush
from webhooks.signing import signature, signature_verify
from webhooks.ssrf import UnsafeTarget, target_check

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server that checks the signature of every request it gets."""

    def __init__(self):
        self.requests, self.status, self.secret = [], 200, ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = signature_verify(secret=receiver.secret, body=body, header=self.headers["X-ITSM-Signature"])
                receiver.requests.append({"headers": dict(self.headers), "body": json.loads(body), "valid": valid})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def endpoint(receiver):
    hook = WebhookEndpoint.objects.create(
        name="Receiver", url=receiver.url, events=["ticket.created", "ticket.commented"], allow_private_network=True
    )
    receiver.secret = hook.secret
    return hook


def test_event_is_written_with_the_change_and_delivered_signed(endpoint, receiver, agent, end_user):
    with transaction.atomic():
        incident = incident_create(by=agent, caller=end_user, short_description="Disk full")
        assert WebhookDelivery.objects.filter(event="ticket.created").count() == 1  # same transaction
    delivery = WebhookDelivery.objects.get(event="ticket.created")
    assert webhook_deliver(delivery_id=delivery.pk) is True
    request = receiver.requests[-1]
    assert request["valid"] is True
    assert request["headers"]["X-ITSM-Delivery"] == str(delivery.delivery_id)
    assert request["headers"]["X-ITSM-Event"] == "ticket.created"
    assert request["body"]["ticket"]["number"] == incident.number
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.response_code == 200 and delivery.attempts == 1
    assert webhook_deliver(delivery_id=delivery.pk) is False  # idempotent: delivered once


def test_rolled_back_change_sends_nothing(endpoint, agent, end_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        incident_create(by=agent, caller=end_user, short_description="Disk full")
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


def test_unsubscribed_events_are_not_sent(endpoint, agent, end_user):
    incident = incident_create(by=agent, caller=end_user, short_description="Disk full")
    incident_comment(incident=incident, by=agent, body="On it", kind="work_note")
    assert set(WebhookDelivery.objects.values_list("event", flat=True)) == {"ticket.created"}


def test_failures_back_off_then_fail_and_replay_uses_the_same_id(endpoint, receiver, agent, end_user):
    receiver.status = 500
    incident_create(by=agent, caller=end_user, short_description="Disk full")
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code == 500
    assert delivery.next_attempt_at > timezone.now()
    assert webhooks_flush() == 0 and WebhookDelivery.objects.get().attempts == 1  # not yet due
    for _ in range(MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        webhooks_flush()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == MAX_ATTEMPTS
    assert all(r["valid"] for r in receiver.requests) and len(receiver.requests) == MAX_ATTEMPTS
    receiver.status = 204
    assert webhook_replay(delivery_id=delivery.pk) is True
    ids = {r["headers"]["X-ITSM-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.delivery_id)}


def test_signature_refuses_tampering_and_old_timestamps():
    body = b'{"a": 1}'
    now = int(time.time())
    header = signature(secret="s3cret", body=body, timestamp=now)
    assert signature_verify(secret="s3cret", body=body, header=header)
    assert not signature_verify(secret="s3cret", body=b'{"a": 2}', header=header)
    assert not signature_verify(secret="other", body=body, header=header)
    old = signature(secret="s3cret", body=body, timestamp=now - 600)
    assert not signature_verify(secret="s3cret", body=body, header=old)
    assert not signature_verify(secret="s3cret", body=body, header="garbage")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
    ],
)
def test_private_and_odd_targets_are_refused(url):
    with pytest.raises(UnsafeTarget):
        target_check(url)


def test_api_refuses_loopback_unless_allowed_and_is_admin_only(receiver):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(admin)
    refused = client.post("/api/v1/webhook-endpoints/", {"name": "x", "url": receiver.url}, format="json")
    assert refused.status_code == 400 and "url" in refused.json()
    bad_event = client.post(
        "/api/v1/webhook-endpoints/",
        {"name": "x", "url": receiver.url, "allow_private_network": True, "events": ["nope"]},
        format="json",
    )
    assert bad_event.status_code == 400 and "events" in bad_event.json()
    assert not WebhookEndpoint.objects.exists()
    created = client.post(
        "/api/v1/webhook-endpoints/", {"name": "x", "url": receiver.url, "allow_private_network": True}, format="json"
    )
    assert created.status_code == 201 and created.json()["secret"]
    assert client_for(UserFactory()).get("/api/v1/webhook-endpoints/").status_code == 403


def test_a_stale_delivery_at_delivery_time_is_refused_if_the_target_turned_private(endpoint, agent, end_user):
    incident_create(by=agent, caller=end_user, short_description="Disk full")
    WebhookEndpoint.objects.update(allow_private_network=False)
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk) is False
    assert "refused" in WebhookDelivery.objects.get().last_error
