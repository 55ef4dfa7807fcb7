"""From a real Celery worker and beat: an incident's 50/75/90 % warnings and its breach each fire once, at the
instants they were reached, and appear in the journal and the outbox."""

import os
import time
from datetime import timedelta

import pytest
from django.conf import settings

from itsm.enums import JournalKind
from itsm.models import OutboxMessage
from slas.enums import SLAActionKind
from slas.models import SLAAction, SLAClock, SLADefinition, SLAMilestone
from tests.conftest import require_service, tcp_reachable
from tests.factories import incident_factory
from tests.itsm.test_celery_runtime import _database_url, _start, _stop

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


def test_warnings_and_breach_fire_once_from_worker_and_beat(postgres, agent, team, tmp_path):
    require_service(tcp_reachable("127.0.0.1", 6379), "Redis is not available on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(settings.ITSM_TEST_REDIS_URL).flushdb()
    definition = SLADefinition.objects.create(
        name="Resolution 20 s",
        target="resolution",
        practice="incident",
        active=True,
        start_condition={"state_category": ["new", "active", "pending_customer", "pending_third_party"]},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=20,
    )
    for percent in (50, 75, 90, 100):
        SLAAction.objects.create(definition=definition, percent=percent, kind=SLAActionKind.NOTIFY_ASSIGNEE)
    incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    clock = SLAClock.objects.get(ticket=incident)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.ITSM_TEST_REDIS_URL,
        "ITSM_VAR_DIR": str(tmp_path),
        "ITSM_SLA_SWEEP_SECONDS": "1",
        "DEBUG": "false",
    }
    worker = _start(
        ["worker", "--loglevel=INFO", "--concurrency=1", "--without-gossip", "--without-mingle"],
        env,
        tmp_path / "worker.log",
    )
    beat = _start(
        ["beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat-schedule")], env, tmp_path / "beat.log"
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and SLAMilestone.objects.filter(clock=clock).count() < 4:
            assert worker.poll() is None and beat.poll() is None
            time.sleep(0.5)
        time.sleep(3)  # a few more sweeps: nothing may fire twice
    finally:
        _stop(beat)
        _stop(worker)
    logs = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    milestones = {m.percent: m for m in SLAMilestone.objects.filter(clock=clock)}
    assert set(milestones) == {50, 75, 90, 100}, logs
    start = clock.started_at
    for percent, offset in ((50, 10), (75, 15), (90, 18), (100, 20)):
        assert milestones[percent].reached_at == start + timedelta(seconds=offset)
        assert milestones[percent].recorded_at >= milestones[percent].reached_at
    clock.refresh_from_db()
    assert clock.has_breached and clock.due_at == start + timedelta(seconds=20)
    assert incident.journal.filter(kind=JournalKind.SLA).count() == 4
    outbox = OutboxMessage.objects.filter(ticket=incident, event__in=["sla.warning", "sla.breached"])
    assert outbox.count() == 4 and outbox.filter(event="sla.breached").count() == 1
