"""Workspace pages of change enablement: the change calendar (a month of planned changes, blackouts and maintenance
windows)."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from changes.enums import ChangeWindowKind
from changes.selectors import change_calendar
from slas.views import agent_required


def _month(value: str | None) -> date | None:
    """The first day of a 'YYYY-MM' month, or None when it does not parse."""
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1) if 1900 <= year <= 9999 else None
    except ValueError:
        return None


def _change_url(number: str) -> str:
    """The change's workspace page (the API record where the workspace has no page for it)."""
    try:
        return reverse("workspace:goto", args=[number])
    except NoReverseMatch:
        return f"/api/v1/changes/{number}/"


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@agent_required
def change_calendar_page(request: HttpRequest) -> HttpResponse:
    """A month grid (Monday first) of changes by planned window, with blackout days shaded and maintenance windows."""
    first = _month(request.GET.get("month"))
    if first is None:
        context = {"error": _("month: use the form YYYY-MM, for example 2026-12.")}
        return render(request, "changes/calendar.html", context, status=400)
    grid_start = first - timedelta(days=first.weekday())
    last = first.replace(day=monthrange(first.year, first.month)[1])
    grid_end = last + timedelta(days=7 - last.weekday())  # exclusive, a Monday
    zone = timezone.get_current_timezone()
    start = datetime.combine(grid_start, time(), tzinfo=zone)
    end = datetime.combine(grid_end, time(), tzinfo=zone)
    data = change_calendar(user=request.user, start=start, end=end)
    today = timezone.localdate()
    weeks, week = [], []
    day = grid_start
    while day < grid_end:
        day_start = datetime.combine(day, time(), tzinfo=zone)
        day_end = day_start + timedelta(days=1)
        changes = [c for c in data["changes"] if c.planned_start < day_end and c.planned_end > day_start]
        windows = [w for w in data["windows"] if w.start < day_end and w.end > day_start]
        blackouts = [w for w in windows if w.window.kind == ChangeWindowKind.BLACKOUT]
        week.append(
            {
                "date": day,
                "in_month": day.month == first.month,
                "today": day == today,
                "changes": [
                    {
                        "change": c,
                        "starts": timezone.localtime(c.planned_start).date() == day,
                        "url": _change_url(c.number),
                    }
                    for c in changes
                ],
                "blackouts": [
                    {"occurrence": w, "label": day == grid_start or day.weekday() == 0 or w.start >= day_start}
                    for w in blackouts
                ],
                "maintenance": [
                    w for w in windows if w.window.kind == ChangeWindowKind.MAINTENANCE and w.start >= day_start
                ],
            }
        )
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    conflicted = [c for c in data["changes"] if c.conflicts.all()]
    context = {
        "month": first,
        "previous": _shift(first, -1),
        "next": _shift(first, 1),
        "this_month": today.replace(day=1),
        "weeks": weeks,
        "weekdays": [grid_start + timedelta(days=offset) for offset in range(7)],
        "change_count": len(data["changes"]),
        "conflicted": conflicted,
        "blackout_windows": sorted({w.window for w in data["windows"] if w.window.kind == "blackout"}, key=str),
        "maintenance_windows": sorted({w.window for w in data["windows"] if w.window.kind == "maintenance"}, key=str),
    }
    return render(request, "changes/calendar.html", context)
