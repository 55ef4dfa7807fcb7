"""Who the client is, and login lockout: one answer to "which address sent this?" for django-axes and the API
throttles, so a client cannot pick its own bucket by sending an `X-Forwarded-For` header."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket peer, or with `ITSM_TRUSTED_PROXY_COUNT` = N proxies in front, the address
    the outermost trusted proxy saw (the N-th entry from the right of `X-Forwarded-For`).

    Entries further left were written by the client and are never believed; a header shorter than N (a request that
    bypassed a proxy) falls back to its leftmost entry, which is still no worse than the peer address.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.ITSM_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes with a request (the login form, the admin login, the
    API token endpoint); calls without a request (management commands, the shell) cannot be brute-forced over the
    network and authenticate as usual instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
