"""A real Celery worker and beat, as `make run` starts them, close an old resolved incident on their own.

Runs once on the embedded default (kombu's filesystem transport) and once on Redis, both against the test
database on PostgreSQL, which the worker reaches through DATABASE_URL.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.models import Incident
from tests.conftest import require_service, tcp_reachable
from tests.factories import incident_in_state

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "itsm", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.parametrize("transport", ["filesystem", "redis"])
def test_worker_and_beat_auto_close(postgres, agent, transport, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.base",
        "DATABASE_URL": _database_url(),
        "ITSM_VAR_DIR": str(tmp_path),
        "ITSM_AUTO_CLOSE_SWEEP_SECONDS": "1",
        "ITSM_INCIDENT_AUTO_CLOSE_DAYS": str(settings.ITSM_INCIDENT_AUTO_CLOSE_DAYS),
        "DEBUG": "false",
    }
    env.pop("REDIS_URL", None)
    if transport == "redis":
        require_service(tcp_reachable("127.0.0.1", 6379), "Redis is not available on 127.0.0.1:6379")
        import redis

        redis.Redis.from_url(settings.ITSM_TEST_REDIS_URL).flushdb()
        env["REDIS_URL"] = settings.ITSM_TEST_REDIS_URL

    incident = incident_in_state("resolved", by=agent)
    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(days=30))

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
        while time.monotonic() < deadline:
            incident.refresh_from_db()
            if incident.state == "closed" or worker.poll() is not None or beat.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        _stop(beat)
        _stop(worker)
    logs = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert incident.state == "closed", f"worker log:\n{logs}\nbeat log:\n{(tmp_path / 'beat.log').read_text()[-2000:]}"
    assert incident.journal.filter(transition="close", actor=None).count() == 1
