"""API rate limits per signed-in user and per anonymous client, counted atomically in the cache (Redis in
production and under test; a per-process local cache in the embedded `make run` default, which has no Redis).

DRF's own throttles keep a list of timestamps with a non-atomic read-then-write, so concurrent requests slip
through (encode/django-rest-framework#5181); these use a fixed window and the cache's atomic `add` + `incr`
(`SET NX` + `INCR` on Redis), so the cap holds exactly whatever the number of web processes.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

from itsm.security import client_ip

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'60/min' -> (60, 60): requests allowed and the window in seconds."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


class WindowThrottle(BaseThrottle):
    """A fixed-window counter per scope and client; the rate comes from `ITSM_API_THROTTLE_RATES[scope]`."""

    scope = ""
    cache_alias = "default"

    def client_key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        ident = self.client_key(request)
        if ident is None:
            return True
        rate = settings.ITSM_API_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True
        self.limit, self.window = parse_rate(rate)
        now = time.time()
        window_start = int(now // self.window) * self.window
        self.window_end = window_start + self.window
        self.now = now
        key = f"throttle:{self.scope}:{ident}:{window_start}"
        cache = caches[self.cache_alias]
        cache.add(key, 0, timeout=self.window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr: a new window starts with this request
            cache.add(key, 0, timeout=self.window + 1)
            count = cache.incr(key)
        return count <= self.limit

    def wait(self) -> float:
        return max(self.window_end - self.now, 1)


class AnonymousClientThrottle(WindowThrottle):
    """Anonymous requests, counted per client address (see itsm.security.client_ip)."""

    scope = "anon"

    def client_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return client_ip(request)


class UserThrottle(WindowThrottle):
    """Signed-in requests, counted per user whatever address they come from."""

    scope = "user"

    def client_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
