"""Kernel views: the home redirect and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from itsm.rules import is_agent


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Agents start in the workspace, everyone else in the self-service portal."""
    return redirect("/workspace/" if is_agent(request.user) else "/portal/")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers; 503 otherwise. No login, no session, no template.

    Served by itsm.middleware.HealthCheckMiddleware ahead of host validation; the URL pattern stays for reverse().
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
