"""The SLA sweep under failure: real Celery workers and beats against PostgreSQL and Redis.

Each scenario arranges a few hundred incidents (created through the services, in the past) whose clocks have warning
and breach milestones due, breaks something while workers sweep them, and then checks that every due milestone was
recorded exactly once, at the instant it was reached (a breach at the clock's due time, not at detection), with
exactly one journal entry and exactly one queued notification each:

1. a worker killed with SIGKILL in the middle of a sweep, then a fresh worker;
2. two beats and two workers at once, while further milestones come due;
3. Redis flushed (queued and unacknowledged sweep messages lost) while a worker sweeps and beat ticks.

Plus a fast in-process check that two sweeps in threads never share a clock (SKIP LOCKED).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import time_machine
from celery import Celery
from django.conf import settings
from django.db import connection, connections
from django.db.models import Q

from itsm.enums import JournalKind
from itsm.models import JournalEntry, OutboxMessage
from slas.enums import BREACH_PERCENT, SLAActionKind
from slas.models import SLAAction, SLAClock, SLADefinition, SLAMilestone
from slas.services import sla_sweep
from tests.conftest import require_service, tcp_reachable
from tests.factories import AgentFactory, UserFactory, incident_factory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
DURATION = 40  # 24x7, so each milestone is exactly start + ceil(DURATION * percent / 100)
THRESHOLDS = [50, 75, 90]
PERCENTS = (*THRESHOLDS, BREACH_PERCENT)
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


# --- arrangement ------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_url(postgres) -> Iterator[str]:
    url = settings.ITSM_TEST_REDIS_URL
    parsed = urlparse(url)
    require_service(
        tcp_reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379), f"Redis is not available at {url}"
    )
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def desk(db, team):
    """A 24x7 resolution SLA that notifies the assignee at 50, 75 and 90 percent and at the breach."""
    definition = SLADefinition.objects.create(
        name="Resolution 40s",
        target="resolution",
        practice="incident",
        active=True,
        start_condition={"state_category": OPEN},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=DURATION,
        thresholds=THRESHOLDS,
    )
    for percent in PERCENTS:
        SLAAction.objects.create(definition=definition, percent=percent, kind=SLAActionKind.NOTIFY_ASSIGNEE)
    assignee = AgentFactory(username="sla_assignee")
    team.members.add(assignee)
    return {
        "definition": definition,
        "assignee": assignee,
        "caller": UserFactory(username="sla_caller", email=""),
        "team": team,
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _open_incidents(desk, starts: list[datetime]) -> None:
    """Log one incident, through the service, at each of these instants (each gets one clock)."""
    with time_machine.travel(starts[0], tick=False) as traveller:
        for start in starts:
            traveller.move_to(start)
            incident_factory(
                by=desk["assignee"],
                caller=desk["caller"],
                assignment_group=desk["team"],
                assigned_to=desk["assignee"],
                short_description="Mail is down",
            )


def _milestones_due() -> dict[tuple[int, int], datetime]:
    """Every (clock, percent) with the instant it is reached, computed independently of the engine."""
    due = {}
    for clock in SLAClock.objects.all():
        assert clock.due_at == clock.started_at + timedelta(seconds=DURATION)
        for percent in PERCENTS:
            due[(clock.pk, percent)] = clock.started_at + timedelta(seconds=-(-DURATION * percent // 100))
    return due


def _assert_exactly_once(due: dict[tuple[int, int], datetime], *, assignee) -> None:
    """Every due milestone recorded once at its instant, journaled once, and its notification queued once."""
    recorded = {(m.clock_id, m.percent): m for m in SLAMilestone.objects.all()}
    assert SLAMilestone.objects.count() == len(recorded) == len(due)
    missing = sorted(due.keys() - recorded.keys())
    extra = sorted(recorded.keys() - due.keys())
    assert not missing and not extra, f"missing {missing[:10]} (of {len(missing)}), extra {extra[:10]}"
    wrong = {key: (m.reached_at, due[key]) for key, m in recorded.items() if m.reached_at != due[key]}
    assert not wrong, f"reached_at differs from the computed instant: {list(wrong.items())[:5]}"
    due_at = dict(SLAClock.objects.values_list("pk", "due_at"))
    for (clock_id, percent), milestone in recorded.items():
        if percent == BREACH_PERCENT:  # the breach is recorded at the due time, not at detection
            assert milestone.reached_at == due_at[clock_id]
        assert milestone.recorded_at >= milestone.reached_at
        assert milestone.detection_lag_seconds < 600

    journal = Counter(JournalEntry.objects.filter(kind=JournalKind.SLA).values_list("ticket__sla_clocks", flat=True))
    per_clock = Counter(clock_id for clock_id, _ in due)
    assert journal == per_clock, "each milestone is journaled exactly once"

    queued = Counter(OutboxMessage.objects.filter(event__startswith="sla.").values_list("dedupe_key", flat=True))
    wanted = Counter(
        f"{'sla.breached' if percent == BREACH_PERCENT else 'sla.warning'}:clock{clock_id}:{percent}:{assignee.pk}"
        for clock_id, percent in due
    )
    assert queued == wanted, "each milestone queues exactly one notification"
    assert not SLAClock.objects.filter(Q(has_breached=False) | Q(next_milestone_at__isnull=False)).exists()


# --- real processes ---------------------------------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _other_backends() -> int:
    """Sessions on the test database other than this one (a killed worker's linger until PostgreSQL notices)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


class Cluster:
    """Celery workers and beats as subprocesses, each in its own process group so a kill reaches its children."""

    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.tmp_path = tmp_path
        self.redis_url = redis_url
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "itsm.settings.base",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "ITSM_VAR_DIR": str(tmp_path),
            "DEBUG": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "ITSM_SLA_SWEEP_SECONDS": "1",
            "ITSM_OUTBOX_SWEEP_SECONDS": "3600",
            "ITSM_AUTO_CLOSE_SWEEP_SECONDS": "3600",
        }

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log ---\n{self.log(name)[-3000:]}" for name in self.processes)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        with (self.tmp_path / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "itsm", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def worker(self, name: str, *, concurrency: int = 1) -> subprocess.Popen:
        return self._start(
            name,
            [
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )

    def wait_ready(self, *names: str) -> None:
        """Wait until these workers consume their queue (started together, they boot in parallel)."""
        for name in names:
            process = self.processes[name]
            _wait(
                lambda: " ready." in self.log(name) or process.poll() is not None,  # noqa: B023
                timeout=90,
                what=f"{name} to be ready",
            )
            assert process.poll() is None, f"{name} exited:\n{self.log(name)[-3000:]}"

    def beat(self, name: str) -> subprocess.Popen:
        return self._start(
            name,
            [
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.tmp_path / f'{name}-schedule'}",
                f"--pidfile={self.tmp_path / f'{name}.pid'}",
            ],
        )

    def send_sweep(self, **kwargs) -> None:
        with Celery("sweep-failure-tests", broker=self.redis_url, set_as_current=False) as app:
            app.send_task("slas.sweep", kwargs=kwargs)

    def kill(self, name: str) -> None:
        """SIGKILL the process and its pool children (its whole process group), as a crash or the OOM killer would."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.terminate()  # the main process only: a warm shutdown lets the pool finish its task
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        self.kill(name)  # whatever is left of its group

    def stop_all(self) -> None:
        # Beats first, so that no sweep is sent while the workers shut down; every process is ended even if one fails.
        for name in sorted(self.processes, key=lambda name: not name.startswith("beat")):
            try:
                self.stop(name)
            except Exception:
                self.kill(name)
        # The database is flushed after the test: wait for the killed workers' sessions to be gone first.
        _wait(lambda: _other_backends() == 0, timeout=30, what="worker sessions to end")

    def assert_no_task_failed(self) -> None:
        for name in self.processes:
            log = self.log(name)
            assert "raised unexpected" not in log and "Traceback" not in log, f"{name}:\n{log[-4000:]}"


@pytest.fixture
def cluster(tmp_path, redis_url) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, redis_url)
    try:
        yield cluster
    finally:
        cluster.stop_all()


# --- scenarios --------------------------------------------------------------------------------------------------

CLOCKS = 300


def _past(count: int) -> list[datetime]:
    """Starts of `count` clocks whose four milestones are all in the past (by 5 s to two minutes)."""
    now = _now()
    return [now - timedelta(seconds=DURATION + 5 + i % 120) for i in range(count)]


def _coming(count: int) -> list[datetime]:
    """Starts of `count` clocks whose 90 % and breach milestones fall in the next few seconds."""
    now = _now()
    return [now - timedelta(seconds=DURATION - 3 - i % 6) for i in range(count)]


def _sweeping() -> bool:
    """Whether another session is inside a transaction that has locked or written rows (a batch half done)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def _all_recorded(due: dict) -> Callable[[], bool]:
    last = max(due.values())
    return lambda: _now() > last + timedelta(seconds=2) and SLAMilestone.objects.count() >= len(due)


def _lag_summary() -> str:
    lags = sorted(m.detection_lag_seconds for m in SLAMilestone.objects.all())
    return f"detection lag median {lags[len(lags) // 2]} s, max {lags[-1]} s" if lags else "nothing recorded"


@pytest.mark.redis
def test_worker_killed_mid_sweep_loses_and_repeats_nothing(desk, cluster):
    _open_incidents(desk, _past(CLOCKS))
    due = _milestones_due()
    assert len(due) == 4 * CLOCKS

    cluster.worker("w1")
    cluster.wait_ready("w1")
    cluster.send_sweep(batch_size=1)  # one transaction per clock: slow enough to be caught half way
    _wait(
        lambda: SLAMilestone.objects.count() >= 20 and _sweeping(),
        timeout=120,
        what="the sweep to be half way through a batch",
        interval=0.01,
    )
    cluster.kill("w1")
    _wait(lambda: _other_backends() == 0, timeout=30, what="PostgreSQL to end the killed worker's session")
    killed_with = SLAMilestone.objects.count()
    assert killed_with < len(due), "the sweep finished before it could be killed; give it more to do"
    # The open batch was rolled back as a whole: a clock has all four milestones and nothing left due, or none.
    per_clock = Counter(SLAMilestone.objects.values_list("clock_id", flat=True))
    assert set(per_clock.values()) == {4}
    assert SLAClock.objects.filter(next_milestone_at__isnull=False).count() == CLOCKS - len(per_clock)

    cluster.worker("w2")
    cluster.wait_ready("w2")
    cluster.send_sweep()
    _wait(
        lambda: not SLAClock.objects.filter(next_milestone_at__isnull=False).exists(),
        timeout=180,
        what="a fresh worker to finish the sweep",
    )
    cluster.stop_all()
    print(f"killed with {killed_with}/{len(due)} milestones recorded; {_lag_summary()}")
    _assert_exactly_once(due, assignee=desk["assignee"])
    cluster.assert_no_task_failed()


@pytest.mark.redis
def test_two_beats_and_two_workers_record_each_milestone_once(desk, cluster):
    _open_incidents(desk, _past(CLOCKS - 60))
    _open_incidents(desk, _coming(30))  # these come due while the sweeps run

    cluster.worker("w1", concurrency=2)
    cluster.worker("w2", concurrency=2)
    cluster.beat("beat1")
    cluster.beat("beat2")
    cluster.wait_ready("w1", "w2")
    for _ in range(3):  # tickets keep arriving, some with milestones already due, while both beats fire
        time.sleep(1)
        _open_incidents(desk, _past(5) + _coming(5))
    due = _milestones_due()
    assert len(due) == 4 * CLOCKS
    _wait(_all_recorded(due), timeout=180, what="every milestone to be recorded", interval=0.5)
    cluster.stop_all()
    print(f"{len(due)} milestones; {_lag_summary()}")
    _assert_exactly_once(due, assignee=desk["assignee"])
    for name in ("beat1", "beat2"):
        assert cluster.log(name).count("Sending due task sla-sweep (slas.sweep)") >= 5, f"{name} sent sweeps"
    for name in ("w1", "w2"):
        assert "Task slas.sweep[" in cluster.log(name), f"{name} swept"
    cluster.assert_no_task_failed()


@pytest.mark.redis
def test_redis_flushed_mid_sweep_the_next_tick_sweeps_again(desk, cluster):
    import redis

    _open_incidents(desk, _past(CLOCKS - 40))
    client = redis.Redis.from_url(cluster.redis_url)
    cluster.worker("w1", concurrency=2)
    cluster.beat("beat")
    cluster.wait_ready("w1")
    _wait(lambda: _sweeping(), timeout=120, what="the first sweep", interval=0.01)
    client.flushdb()  # queued sweeps, the running sweep's unacknowledged message and queued sends are gone
    flushed_with = SLAMilestone.objects.count()
    time.sleep(2)
    client.flushdb()  # once more, between ticks
    # Only sweeps sent after the flushes can record these.
    _open_incidents(desk, _past(20) + _coming(20))
    due = _milestones_due()
    assert len(due) == 4 * CLOCKS
    _wait(_all_recorded(due), timeout=180, what="every milestone to be recorded after the flushes", interval=0.5)
    cluster.stop_all()
    client.close()
    print(f"flushed with {flushed_with}/{len(due)} milestones recorded; {_lag_summary()}")
    _assert_exactly_once(due, assignee=desk["assignee"])
    cluster.assert_no_task_failed()


def test_concurrent_sweeps_in_threads_share_no_clock(postgres, desk):
    _open_incidents(desk, _past(60))
    due = _milestones_due()
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            connection.ensure_connection()  # both connected before either starts, so their batches overlap
            barrier.wait(timeout=10)
            counts.append(sla_sweep(batch_size=3))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads) and not errors, errors
    assert sum(counts) == len(due), "no milestone was crossed by both sweeps"
    assert min(counts) > 0, "both sweeps took batches"
    _assert_exactly_once(due, assignee=desk["assignee"])
