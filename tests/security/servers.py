"""Real servers for the security suites: gunicorn serving the test database, as production would."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

from tests.itsm.test_celery_runtime import _stop

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on, for processes started beside it."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off) on the test database; no limits that a fuzzer would trip."""
    from django.conf import settings

    env = {
        **os.environ,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the files the test process stored
        "DJANGO_SETTINGS_MODULE": "itsm.settings.base",
        "DATABASE_URL": database_url(),
        "ITSM_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "ITSM_API_THROTTLE_ANON": "1000000/min",
        "ITSM_API_THROTTLE_USER": "1000000/min",
        "ITSM_LOGIN_FAILURE_LIMIT": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # after-commit tasks go to the file-system queue in tmp_path; nothing consumes them
    env.pop("CACHE_URL", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn(tmp_path: Path, *, workers: int = 2, **extra_env: str) -> Iterator[str]:
    """Serve the app on a free loopback port; yields the base URL, and stops the server (its whole group) after."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "itsm.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={workers}",
                "--timeout=60",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=server_env(tmp_path, **extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        _stop(process)
