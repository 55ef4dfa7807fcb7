"""Middleware of our own: the health check, answered ahead of the rest of the stack."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from itsm.views import healthz

HEALTHZ_PATH = "/healthz/"


class HealthCheckMiddleware:
    """Answer `/healthz/` before SecurityMiddleware and CommonMiddleware run, so that a probe on the container's own
    address gets its 200 (or 503) whatever ALLOWED_HOSTS and SECURE_SSL_REDIRECT say. Must come first in MIDDLEWARE.

    The answer reveals nothing but whether the database responds, and only the exact path is short-circuited.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)
