"""A real Celery worker killed after the mail server accepted a notification and before the outbox row was marked
sent: the message is never delivered a second time, by a redelivered task or by the sweep of a new worker."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.utils import timezone

from incidents.services import incident_create
from itsm.enums import OutboxStatus
from itsm.models import OutboxMessage
from tests.conftest import require_service, tcp_reachable
from tests.itsm.test_celery_runtime import _database_url, _start, _stop
from tests.mail.test_imap import _free_port

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


class Sink:
    """An SMTP server that records every message; the first DATA kills the worker before the server answers."""

    def __init__(self):
        self.messages: list[bytes] = []
        self.victim: int | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope.content)
            if self.victim is not None:
                os.killpg(self.victim, signal.SIGKILL)
                self.victim = None
        return "250 OK"


def _wait(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_worker_killed_between_send_and_mark_never_sends_twice(postgres, agent, end_user, tmp_path):
    require_service(tcp_reachable("127.0.0.1", 6379), "Redis is not available on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(settings.ITSM_TEST_REDIS_URL).flushdb()
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.ITSM_TEST_REDIS_URL,
        "ITSM_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "DEBUG": "false",
    }
    app = Celery(broker=settings.ITSM_TEST_REDIS_URL)
    worker_args = ["worker", "--loglevel=INFO", "--concurrency=1", "--without-gossip", "--without-mingle"]
    incident = incident_create(by=agent, caller=end_user, short_description="Mail server trial")
    row = OutboxMessage.objects.get(ticket=incident, event="incident.created")
    first = _start(worker_args, env, tmp_path / "worker1.log")
    second = None
    try:
        sink.victim = first.pid  # the worker's process group (start_new_session)
        app.send_task("itsm.outbox_send", kwargs={"message_id": row.pk})
        assert _wait(lambda: first.poll() is not None), (tmp_path / "worker1.log").read_text()[-3000:]
        row.refresh_from_db()
        assert len(sink.messages) == 1
        assert row.status == OutboxStatus.PENDING and row.claimed_at is not None  # sent, never marked

        # Later: the claim has expired; a new worker gets the task again (as a redelivery would) and the sweep.
        OutboxMessage.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
        second = _start(worker_args, env, tmp_path / "worker2.log")
        app.send_task("itsm.outbox_send", kwargs={"message_id": row.pk})
        app.send_task("itsm.outbox_flush")
        assert _wait(lambda: OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.FAILED), (
            tmp_path / "worker2.log"
        ).read_text()[-3000:]
        # The new worker does send other mail: it is the guard, not a dead mail path, that kept the count at one.
        other = incident_create(by=agent, caller=end_user, short_description="Second")
        other_row = OutboxMessage.objects.get(ticket=other, event="incident.created")
        app.send_task("itsm.outbox_send", kwargs={"message_id": other_row.pk})
        assert _wait(lambda: OutboxMessage.objects.get(pk=other_row.pk).status == OutboxStatus.SENT)
    finally:
        if second is not None:
            _stop(second)
        _stop(first)
        smtp.stop()
    assert len(sink.messages) == 2
    assert sum(f"[{incident.number}]".encode() in m for m in sink.messages) == 1
    assert "may have gone out" in OutboxMessage.objects.get(pk=row.pk).last_error
