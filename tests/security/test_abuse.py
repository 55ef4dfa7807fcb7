"""Suite 6, abuse: login brute force is locked out per account and per client address (django-axes), a spoofed
`X-Forwarded-For` resets nothing (only `ITSM_TRUSTED_PROXY_COUNT` proxies are believed), and the API is throttled
per user and per anonymous client with the counts kept in Redis (atomic, shared by every web process).
"""

from __future__ import annotations

import random
import threading
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from rest_framework.test import APIClient

from itsm.api.throttling import AnonymousClientThrottle, UserThrottle
from tests.conftest import require_service
from tests.factories import UserFactory
from tests.security.conftest import report

pytestmark = pytest.mark.django_db

LOGIN_URLS = {"form": "/accounts/login/", "admin": "/admin/login/", "token": "/api/v1/auth/token/"}
ATTEMPTS = {"tried": 0}


def _random_ip() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def _login(entry: str, username: str, password: str, ip: str, forwarded: str | None = None):
    client = APIClient(REMOTE_ADDR=ip)
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    ATTEMPTS["tried"] += 1
    return client.post(LOGIN_URLS[entry], {"username": username, "password": password}, **extra)


def _signed_in(entry: str, response) -> bool:
    if entry == "token":
        return response.status_code == 200 and "token" in response.json()
    return response.status_code == 302 and "login" not in response["Location"]


@pytest.fixture
def victim(db):
    return UserFactory(username="victim", is_staff=True, password="correct-horse")


@pytest.mark.parametrize("entry", ["form", "admin", "token"])
def test_account_locked_after_five_failures_even_from_other_addresses(victim, entry):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert not _signed_in(entry, _login(entry, "victim", "wrong", _random_ip()))
    # The right password from yet another address is refused: the account is locked.
    response = _login(entry, "victim", "correct-horse", _random_ip())
    assert not _signed_in(entry, response)
    assert response.status_code in (429, 400) if entry == "token" else response.status_code == 429


@pytest.mark.parametrize("entry", ["form", "token"])
def test_address_locked_after_five_failures_on_different_accounts(victim, entry):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(entry, f"guess{n}", "wrong", "198.51.100.7")
    assert not _signed_in(entry, _login(entry, "victim", "correct-horse", "198.51.100.7"))
    # Another address is not affected.
    assert _signed_in(entry, _login(entry, "victim", "correct-horse", "198.51.100.8"))


def test_a_spoofed_forwarded_for_does_not_reset_the_address_lockout(victim, settings):
    settings.ITSM_TRUSTED_PROXY_COUNT = 0  # clients connect directly: the header is the client's own words
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login("form", f"guess{n}", "wrong", "198.51.100.9", forwarded=_random_ip())
    response = _login("form", "victim", "correct-horse", "198.51.100.9", forwarded=_random_ip())
    assert response.status_code == 429


def test_behind_one_proxy_only_the_proxys_entry_counts(victim, settings):
    settings.ITSM_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    client_ip = "203.0.113.50"
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The client writes a random X-Forwarded-For; the proxy appends the address it saw.
        _login("form", f"guess{n}", "wrong", proxy, forwarded=f"{_random_ip()}, {client_ip}")
    locked = _login("form", "victim", "correct-horse", proxy, forwarded=f"{_random_ip()}, {client_ip}")
    assert locked.status_code == 429
    other_client = _login("form", "victim", "correct-horse", proxy, forwarded=f"{client_ip}, 203.0.113.51")
    assert _signed_in("form", other_client)


def test_login_failures_are_recorded_for_the_admin(victim):
    from axes.models import AccessAttempt

    _login("form", "victim", "wrong", "192.0.2.10")
    attempt = AccessAttempt.objects.get(username="victim")
    assert attempt.ip_address == "192.0.2.10" and attempt.failures_since_start == 1
    report("abuse", f"{ATTEMPTS['tried']} login attempts tried")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("entry", ["form", "token"])
def test_fifty_parallel_guesses_lock_the_account(entry):
    """50 wrong passwords for one account at once, from 50 addresses, each on its own database connection (as 50
    web workers would be): none is a 500, the account ends locked (the right password is refused), and the failures
    are all counted, not lost to concurrent updates of the attempt rows."""
    from axes.models import AccessAttempt
    from django.db import connection

    require_service(connection.vendor == "postgresql", "PostgreSQL is not available")
    UserFactory(username="victim", is_staff=True, password="correct-horse")
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            barrier.wait()
            response = _login(entry, "victim", f"wrong-{n}", f"198.18.{n // 250}.{n % 250 + 1}")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 50 and max(statuses) < 500, statuses
    assert not _signed_in(entry, _login(entry, "victim", "correct-horse", "192.0.2.99"))
    counted = sum(AccessAttempt.objects.filter(username="victim").values_list("failures_since_start", flat=True))
    assert counted >= 50, counted
    report("abuse", f"50 parallel wrong passwords ({entry}): {counted} counted, locked, no 500")


# --- API throttling ---------------------------------------------------------------------------------------------


@pytest.fixture
def redis_cache():
    backend = caches["default"]
    require_service(
        type(backend).__name__ == "RedisCache", "the default cache is not Redis (no Redis on 127.0.0.1:6379)"
    )
    return redis.Redis.from_url(settings.ITSM_TEST_REDIS_URL)


def _counts(raw: redis.Redis, pattern: str) -> list[int]:
    return [int(raw.get(key)) for key in raw.scan_iter(match=f"*{pattern}*")]


def test_anonymous_clients_throttled_per_address_counted_in_redis(redis_cache, settings):
    # Three, below the login lockout's five, so the 429 is the throttle's own.
    settings.ITSM_API_THROTTLE_RATES = {"anon": "3/min", "user": "1000/min"}
    # DRF checks throttles after permissions, so anonymous traffic meets them on the open endpoint that matters:
    # the token endpoint (every other endpoint answers 401 first).
    ip = _random_ip()
    bad = {"username": "nobody", "password": "guess"}
    answers = [APIClient(REMOTE_ADDR=ip).post("/api/v1/auth/token/", bad).status_code for _ in range(3)]
    assert answers == [400] * 3
    # A new X-Forwarded-For on the request does not open a new bucket.
    throttled = APIClient(REMOTE_ADDR=ip).post("/api/v1/auth/token/", bad, HTTP_X_FORWARDED_FOR=_random_ip())
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1
    assert _counts(redis_cache, f"throttle:anon:{ip}:") == [4]  # the count lives in Redis
    assert APIClient(REMOTE_ADDR=_random_ip()).post("/api/v1/auth/token/", bad).status_code == 400  # another client


def test_signed_in_users_throttled_per_user_wherever_they_come_from(redis_cache, settings, end_user, other_end_user):
    settings.ITSM_API_THROTTLE_RATES = {"anon": "1000/min", "user": "5/min"}
    client = APIClient()
    client.force_authenticate(end_user)
    for _ in range(5):
        assert client.get("/api/v1/incidents/", REMOTE_ADDR=_random_ip()).status_code == 200
    assert client.get("/api/v1/incidents/", REMOTE_ADDR=_random_ip()).status_code == 429
    assert _counts(redis_cache, f"throttle:user:{end_user.pk}:") == [6]
    other = APIClient()
    other.force_authenticate(other_end_user)
    assert other.get("/api/v1/incidents/").status_code == 200


@pytest.mark.parametrize("throttle_class", [AnonymousClientThrottle, UserThrottle])
def test_the_cap_is_exact_under_concurrent_requests(redis_cache, settings, throttle_class):
    """40 requests at once from 8 threads, each with its own Redis connection (as separate web processes would
    have): exactly the limit gets through, because add + incr are atomic in Redis."""
    settings.ITSM_API_THROTTLE_RATES = {"anon": "10/min", "user": "10/min"}
    user = SimpleNamespace(is_authenticated=True, pk=random.randint(10**6, 10**7))
    if throttle_class is AnonymousClientThrottle:
        user = AnonymousUser()
    request = SimpleNamespace(user=user, META={"REMOTE_ADDR": _random_ip()})
    barrier = threading.Barrier(8)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        for _ in range(5):
            result = throttle_class().allow_request(request, None)
            with lock:
                allowed.append(result)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40
    assert sum(allowed) == 10
    report("abuse throttling", "40 concurrent API requests per bucket, exactly 10 admitted (Redis INCR)")
