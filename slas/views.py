"""Workspace pages of the SLA engine: the compliance report for team managers (and every agent)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from itsm.rules import is_agent
from slas.forms import sla_compliance_form
from slas.reports import compliance_total, sla_compliance

TABLE_TITLES = {
    "definition": _("By SLA definition"),
    "practice": _("By practice"),
    "team": _("By team"),
    "service": _("By service"),
    "priority": _("By priority"),
    "category": _("By category"),
}


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users who are not agents get 404, like the other workspace
    pages (the same rule as incidents.views.agent_required, kept here so the engine imports no practice)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@agent_required
def sla_report(request: HttpRequest) -> HttpResponse:
    """SLA compliance over a date range (default the last 30 days), grouped and filtered like the API's report."""
    form = sla_compliance_form(request.GET)
    rows, total = [], None
    if form.is_valid():
        rows = sla_compliance(**form.selector_kwargs())
        total = compliance_total(rows=rows)
    context = {
        "form": form,
        "rows": rows,
        "total": total,
        "group_label": dict(form.fields["group_by"].choices).get(form.data.get("group_by"), ""),
        "table_title": TABLE_TITLES.get(form.data.get("group_by"), ""),
    }
    return render(request, "slas/sla_report.html", context)
