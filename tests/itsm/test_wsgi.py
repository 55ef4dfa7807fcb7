"""The WSGI entry point: what gunicorn's workers load, and their garbage-collection settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_web_process_freezes_its_startup_objects_and_collects_young_objects_less_often(tmp_path):
    probe = (
        "import gc, sys, itsm.wsgi\n"
        "print(gc.get_freeze_count(), *gc.get_threshold(), 'incidents.api.views' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ITSM_VAR_DIR"] = str(tmp_path)
    answer = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    frozen, gen0, gen1, gen2, views_loaded = answer.stdout.split()
    assert int(frozen) > 50_000  # Django, the apps and the views: out of every collection
    assert (int(gen0), int(gen1), int(gen2)) == (10_000, 10, 10)
    assert views_loaded == "True"  # the URL configuration was loaded before freezing
