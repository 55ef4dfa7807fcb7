"""Dashboard figures, computed once for the workspace pages and the API (/api/v1/dashboards/...).

Every figure is one aggregate query bounded by the user's teams or tickets and a date window, so the cost follows
the window, not the size of the ticket table.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from itsm.enums import JournalKind, Priority
from itsm.models import JournalEntry, Team, Ticket
from slas.enums import ACTIVE_STAGES
from slas.models import SLAClock

DUE_SOON_HOURS = 4
AGE_BUCKETS = [("< 1 day", 0, 1), ("1-3 days", 1, 3), ("3-7 days", 3, 7), ("7-30 days", 7, 30), ("> 30 days", 30, None)]


def _ticket_row(ticket: Ticket, due_at: datetime | None = None) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "short_description": ticket.short_description,
        "priority": ticket.priority,
        "state_category": ticket.state_category,
        "due_at": due_at,
    }


def agent_dashboard(*, user, now: datetime | None = None) -> dict[str, Any]:
    """My open tickets, those with an SLA clock due within DUE_SOON_HOURS, and those already breached."""
    now = now or timezone.now()
    mine = Ticket.objects.filter(assigned_to=user, active=True)
    by_priority = dict(mine.values_list("priority").annotate(n=Count("id")).order_by())
    clocks = SLAClock.objects.filter(ticket__assigned_to=user, ticket__active=True, stage__in=ACTIVE_STAGES)
    due_soon = list(
        clocks.filter(has_breached=False, due_at__gte=now, due_at__lt=now + timedelta(hours=DUE_SOON_HOURS))
        .select_related("ticket")
        .order_by("due_at")[:10]
    )
    breached = list(clocks.filter(has_breached=True).select_related("ticket").order_by("due_at")[:10])
    return {
        "my_open": sum(by_priority.values()),
        "my_open_by_priority": [
            {"priority": value, "label": str(label), "count": by_priority.get(value, 0)}
            for value, label in Priority.choices
        ],
        "due_soon_count": clocks.filter(
            has_breached=False, due_at__gte=now, due_at__lt=now + timedelta(hours=DUE_SOON_HOURS)
        ).count(),
        "breached_count": clocks.filter(has_breached=True).values("ticket").distinct().count(),
        "due_soon": [_ticket_row(c.ticket, c.due_at) for c in due_soon],
        "breached": [_ticket_row(c.ticket, c.due_at) for c in breached],
    }


def team_dashboard(*, team_ids: list[int], days: int = 14, now: datetime | None = None) -> dict[str, Any]:
    """Backlog by age, created vs resolved per day, MTTR by priority, SLA compliance by team and priority, and the
    reopen rate, for the given teams over the last `days` days."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    tickets = Ticket.objects.filter(assignment_group__in=team_ids)

    backlog = []
    open_tickets = tickets.filter(active=True)
    for label, low, high in AGE_BUCKETS:
        window = Q(opened_at__lte=now - timedelta(days=low))
        if high is not None:
            window &= Q(opened_at__gt=now - timedelta(days=high))
        backlog.append({"label": label, "count": open_tickets.filter(window).count()})

    created = dict(
        tickets.filter(opened_at__gte=since)
        .annotate(day=TruncDate("opened_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    resolved = dict(
        tickets.filter(resolved_at__gte=since)
        .annotate(day=TruncDate("resolved_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    first: date = since.date()
    per_day = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        per_day.append({"day": day, "created": created.get(day, 0), "resolved": resolved.get(day, 0)})

    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    mttr_rows = (
        tickets.filter(resolved_at__gte=since)
        .values("priority")
        .annotate(mttr=Avg(duration), n=Count("id"))
        .order_by("priority")
    )
    mttr = [
        {
            "priority": row["priority"],
            "label": str(Priority(row["priority"]).label),
            "hours": round(row["mttr"].total_seconds() / 3600, 1) if row["mttr"] else None,
            "resolved": row["n"],
        }
        for row in mttr_rows
    ]
    all_resolved = tickets.filter(resolved_at__gte=since).aggregate(mttr=Avg(duration), n=Count("id"))

    clock_rows = (
        SLAClock.objects.filter(ticket__assignment_group__in=team_ids, started_at__gte=since)
        .exclude(stage="cancelled")
        .values("ticket__assignment_group__name", "ticket__priority")
        .annotate(total=Count("id"), breached=Count("id", filter=Q(has_breached=True)))
        .order_by("ticket__assignment_group__name", "ticket__priority")
    )
    compliance = [
        {
            "team": row["ticket__assignment_group__name"],
            "priority": row["ticket__priority"],
            "priority_label": str(Priority(row["ticket__priority"]).label),
            "total": row["total"],
            "met": row["total"] - row["breached"],
            "percent": round(100 * (row["total"] - row["breached"]) / row["total"], 1) if row["total"] else None,
        }
        for row in clock_rows
    ]

    # Reopen rate: reopens over resolutions in the window, both read from the journal (a reopened ticket has no
    # resolved_at any more, so counting tickets would hide exactly the reopened ones).
    transitions = JournalEntry.objects.filter(
        ticket__assignment_group__in=team_ids, kind=JournalKind.TRANSITION, created_at__gte=since
    ).aggregate(
        resolutions=Count("id", filter=Q(transition="resolve")),
        reopened=Count("id", filter=Q(transition="reopen")),
    )
    reopened, resolutions = transitions["reopened"], transitions["resolutions"]
    resolved_count = all_resolved["n"] or 0
    return {
        "days": days,
        "teams": list(Team.objects.filter(pk__in=team_ids).values_list("name", flat=True)),
        "backlog_by_age": backlog,
        "backlog_total": sum(b["count"] for b in backlog),
        "created_vs_resolved": per_day,
        "mttr_hours": round(all_resolved["mttr"].total_seconds() / 3600, 1) if all_resolved["mttr"] else None,
        "mttr_by_priority": mttr,
        "sla_compliance": compliance,
        "resolved": resolved_count,
        "reopened": reopened,
        "resolutions": resolutions,
        "reopen_rate": round(100 * reopened / resolutions, 1) if resolutions else None,
    }


# --- server-rendered SVG charts ------------------------------------------------------------------------------------


def bar_chart(items: list[tuple[str, float]], *, width: int = 420, height: int = 180) -> dict[str, Any]:
    """Coordinates for a vertical bar chart (labels under the bars, values above)."""
    left, bottom, top = 8, 24, 16
    peak = max((value for _label, value in items), default=0) or 1
    slot = (width - left * 2) / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        h = (height - bottom - top) * value / peak
        x = left + index * slot + slot * 0.18
        bars.append(
            {
                "x": round(x, 1),
                "y": round(height - bottom - h, 1),
                "w": round(slot * 0.64, 1),
                "h": round(h, 1),
                "cx": round(x + slot * 0.32, 1),
                "label": label,
                "value": value,
            }
        )
    return {"width": width, "height": height, "base": height - bottom, "bars": bars}


def line_chart(days: list[dict], keys: tuple[str, str], *, width: int = 1100, height: int = 220) -> dict[str, Any]:
    """Coordinates for two lines over days (polyline points), with a few gridlines and date labels."""
    left, right, bottom, top = 34, 28, 24, 12
    peak = max((max(d[keys[0]], d[keys[1]]) for d in days), default=0) or 1
    step = (width - left - right) / max(len(days) - 1, 1)

    def y(value: float) -> float:
        return round(height - bottom - (height - bottom - top) * value / peak, 1)

    lines = [" ".join(f"{round(left + i * step, 1)},{y(d[key])}" for i, d in enumerate(days)) for key in keys]
    grid = [{"y": y(peak * f), "label": round(peak * f)} for f in (0, 0.5, 1)]
    every = max(1, len(days) // 7)
    labels = [
        {"x": round(left + i * step, 1), "label": d["day"].strftime("%d %b")}
        for i, d in enumerate(days)
        if i % every == 0
    ]
    return {
        "width": width,
        "height": height,
        "lines": lines,
        "grid": grid,
        "labels": labels,
        "left": left,
        "right": width - right,
        "base": height - bottom,
    }
