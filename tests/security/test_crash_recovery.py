"""Suite 9: crashes. A real Celery worker and beat (Redis db of this run, PostgreSQL) sweep SLA clocks, send the
notifications they queue through a real SMTP server (aiosmtpd, slow on purpose) and deliver webhooks to a real
HTTP receiver. Twice, in the middle of that, the worker and beat are killed with SIGKILL and Redis is flushed (the
queued and unacknowledged messages are gone); then everything is started again and left to finish.

Nothing lost: every due SLA milestone is recorded, every notification is sent or, for the few a killed worker was
sending at that instant, marked for an admin as "may have gone out" once its claim expires (never silently
dropped); every webhook delivery arrives. Nothing done twice: each milestone recorded, journaled and queued once,
no Message-ID reaches the mail server twice, no webhook delivery id reaches the receiver twice.

The SIGKILL of a worker half way through one sweep batch (rolled back as a whole) and two beats at once are trialled
in tests/slas/test_sweep_failures.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis as redis_lib
from aiosmtpd.controller import Controller

from itsm.enums import OutboxStatus
from itsm.models import OutboxMessage
from slas.models import SLAClock, SLAMilestone
from tests.security.conftest import report
from tests.security.servers import free_port
from tests.slas.test_sweep_failures import (  # noqa: F401 (fixtures)
    _assert_exactly_once,
    _milestones_due,
    _open_incidents,
    _past,
    _sweeping,
    _wait,
    cluster,
    desk,
    redis_url,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
    pytest.mark.redis,
]

CLOCKS = 30
KILLS = 2
CONCURRENCY = 2


class SlowSMTP:
    """Records the Message-ID of every message it accepts; takes a while over each, so a kill lands mid-send."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        with self.lock:
            self.ids.append(message_from_bytes(envelope.content)["Message-ID"])
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    deliveries: list[str] = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.02)
        Receiver.deliveries.append(self.headers.get("X-ITSM-Delivery", ""))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_sigkill_and_redis_flush_lose_nothing_and_repeat_nothing(desk, cluster, redis_url):  # noqa: F811
    from itsm.models import Ticket
    from mail.outbound import our_message_id
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    smtp_sink = SlowSMTP()
    smtp = Controller(smtp_sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    Receiver.deliveries = []
    http = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    client = redis_lib.Redis.from_url(redis_url)
    try:
        WebhookEndpoint.objects.create(
            name="Crash receiver", url=f"http://127.0.0.1:{http.server_port}/hook", allow_private_network=True
        )
        _open_incidents(desk, _past(CLOCKS))
        due = _milestones_due()
        cluster.env |= {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "ITSM_OUTBOX_SWEEP_SECONDS": "1",
            "ITSM_WEBHOOK_SWEEP_SECONDS": "1",
        }
        kills = []
        for trial in range(1, KILLS + 2):
            cluster.worker(f"w{trial}", concurrency=CONCURRENCY)
            cluster.beat(f"beat{trial}")
            cluster.wait_ready(f"w{trial}")
            if trial > KILLS:
                break
            if trial == 1:  # during the first SLA sweep (its batch is one transaction: rolled back whole)
                _wait(_sweeping, timeout=120, what="the first sweep", interval=0.01)
            else:  # while notifications and webhooks are being sent
                sent_before = len(smtp_sink.ids)
                _wait(lambda n=sent_before: len(smtp_sink.ids) >= n + 10, timeout=120, what="sending under way")
            cluster.kill(f"w{trial}")
            cluster.kill(f"beat{trial}")
            kills.append(
                f"kill {trial}: {SLAMilestone.objects.count()}/{len(due)} milestones, {len(smtp_sink.ids)} mails, "
                f"{len(Receiver.deliveries)} webhooks"
            )
            client.flushdb()  # the queue, the unacknowledged tasks and beat's messages are lost

        def settled() -> bool:
            open_clocks = SLAClock.objects.filter(next_milestone_at__isnull=False).exists()
            unsent = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, claimed_at__isnull=True).exists()
            undelivered = WebhookDelivery.objects.filter(status="pending", claimed_at__isnull=True).exists()
            return not (open_clocks or unsent or undelivered) and SLAMilestone.objects.count() >= len(due)

        _wait(settled, timeout=240, what="the restarted worker and beat to finish", interval=0.5)
        time.sleep(2)  # a few more sweeps: nothing may happen twice
        cluster.stop_all()
    finally:
        smtp.stop()
        http.shutdown()
        http.server_close()
        client.flushdb()
        client.close()

    # SLA: every milestone once, journaled once, its notification queued once.
    _assert_exactly_once(due, assignee=desk["assignee"])

    # Mail: no Message-ID twice; every row sent (and received) or in doubt because a killed worker was sending it.
    received = Counter(smtp_sink.ids)
    assert not [mid for mid, n in received.items() if n > 1], f"mail sent twice: {received.most_common(3)}"
    rows = list(OutboxMessage.objects.all())
    sent = [row for row in rows if row.status == OutboxStatus.SENT]
    in_doubt = [row for row in rows if row.status == OutboxStatus.PENDING and row.claimed_at is not None]
    assert len(sent) + len(in_doubt) == len(rows), Counter(row.status for row in rows)
    assert len(in_doubt) <= KILLS * CONCURRENCY
    missing = [row.pk for row in sent if received[our_message_id("m", row.pk)] != 1]
    assert not missing, f"rows marked sent that the mail server never got: {missing[:10]}"

    # Webhooks: every delivery arrived, none twice (a killed worker's claim is only retried after it expires).
    deliveries = Counter(Receiver.deliveries)
    assert not [d for d, n in deliveries.items() if n > 1], deliveries.most_common(3)
    rows = list(WebhookDelivery.objects.all())
    assert rows, "the ticket events were queued for the webhook"
    undelivered = [r for r in rows if r.status != "delivered" and r.claimed_at is None]
    assert not undelivered, f"{len(undelivered)} webhook deliveries lost"
    cluster.assert_no_task_failed()

    line = (
        f"{KILLS} SIGKILLs of worker and beat, each with a Redis flush, then a restart ({KILLS + 1} starts); "
        f"{len(due)} SLA milestones once each; {len(sent)} mails once each ({len(in_doubt)} in doubt, flagged); "
        f"{len(deliveries)} webhook deliveries once each over {Ticket.objects.count()} tickets; " + "; ".join(kills)
    )
    print("\ncrash recovery: " + line)
    report("9 crash recovery", line)
