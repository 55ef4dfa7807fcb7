"""Production settings pass Django's deployment checks with no warnings when given a real secret and host."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _environ() -> dict[str, str]:
    # Another module's test may allow async-unsafe calls for Playwright; the deploy check must not inherit it.
    return {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "ALLOWED_HOSTS")
    }


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **_environ(),
        "DJANGO_SETTINGS_MODULE": "itsm.settings.production",
        "SECRET_KEY": "k3y-" + "x9Q!vB7#pL2$mN5^" * 4,
        "ALLOWED_HOSTS": "desk.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ITSM_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_missing_secret(tmp_path):
    env = _environ()
    env |= {"DJANGO_SETTINGS_MODULE": "itsm.settings.production", "ITSM_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
