"""Test settings: PostgreSQL when one is reachable (always in CI), otherwise SQLite; eager nothing.

`DATABASE_URL` wins when set. Without it the suite probes 127.0.0.1:5432 and uses PostgreSQL there, so a developer
machine with a local server tests against the real thing; `ITSM_REQUIRE_SERVICES=1` makes a missing server an error.
"""

import os
import socket

from itsm.settings.base import *  # noqa: F403
from itsm.settings.base import env


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


REQUIRE_SERVICES = env.bool("ITSM_REQUIRE_SERVICES", default=False)

if "DATABASE_URL" not in os.environ and _reachable("127.0.0.1", 5432):
    DATABASES = {"default": env.db_url_config("postgres://postgres@127.0.0.1:5432/itsm")}
    DATABASES["default"]["ATOMIC_REQUESTS"] = False
if REQUIRE_SERVICES and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("ITSM_REQUIRE_SERVICES=1 but no PostgreSQL is configured or reachable on 127.0.0.1:5432")

ITSM_TEST_REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
# After-commit tasks of the test process go to an in-memory queue, never to a real worker's queue.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Tests never run collectstatic: serve from the finders.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# API throttles and other cache users count in Redis under test as in production (a key prefix per test process
# keeps parallel runs apart); without a reachable Redis, a local cache, unless services are required.
if _reachable("127.0.0.1", 6379) or "REDIS_URL" in os.environ:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ITSM_TEST_REDIS_URL,
            "KEY_PREFIX": f"itsm-test-{os.getpid()}",
        }
    }
elif REQUIRE_SERVICES:
    raise RuntimeError("ITSM_REQUIRE_SERVICES=1 but no Redis is reachable on 127.0.0.1:6379")
# Generous limits so the suite's own traffic from 127.0.0.1 is never throttled; tests/security/test_abuse.py sets
# tight ones to prove the limits.
ITSM_API_THROTTLE_RATES = {"anon": "100000/min", "user": "100000/min"}
