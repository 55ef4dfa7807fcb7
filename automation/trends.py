"""Monthly trend figures for continual improvement: volume, MTTR, first-contact resolution, reopen rate, SLA
compliance and backlog age, per practice, service and team; and an initiative's metric against its target.

Each figure is read in a few grouped queries over the whole period (the backlog age: one query per month), so the
cost grows with the number of months, not of tickets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Avg, Count, DateTimeField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from itsm.enums import JournalKind, StateCategory
from itsm.models import JournalEntry, Ticket

METRICS = {
    "volume": ("Tickets opened", "lower"),
    "mttr_hours": ("Mean time to resolve (hours)", "lower"),
    "first_contact_rate": ("First-contact resolution (%)", "higher"),
    "reopen_rate": ("Reopen rate (%)", "lower"),
    "sla_compliance": ("SLA compliance (%)", "higher"),
    "backlog_age_days": ("Average backlog age (days)", "lower"),
}
MAX_MONTHS = 36


def _month_starts(months: int, now: datetime) -> list[datetime]:
    year, month = now.year, now.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _next(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def _key(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m")


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def trends_by_month(
    *,
    practice: str | None = None,
    service_id: int | None = None,
    team_id: int | None = None,
    months: int = 12,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per calendar month (UTC), oldest first, ending with the current month."""
    now = now or timezone.now()
    starts = _month_starts(max(1, min(months, MAX_MONTHS)), now)
    since = starts[0]
    scope = Q()
    if practice:
        scope &= Q(kind=practice)
    if service_id:
        scope &= Q(service_id=service_id)
    if team_id:
        scope &= Q(assignment_group_id=team_id)
    tickets = Ticket.objects.filter(scope)
    related = Q(**{f"ticket__{k}": v for k, v in scope.children}) if scope.children else Q()

    def by_month(queryset, field: str, **aggregates) -> dict[str, dict]:
        rows = queryset.annotate(m=TruncMonth(field, tzinfo=UTC)).values("m").annotate(**aggregates).order_by()
        return {_key(row["m"]): row for row in rows}

    created = by_month(tickets.filter(opened_at__gte=since), "opened_at", n=Count("id"))
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    # First contact: resolved by the group that had it when it was logged (no person moved it to another group).
    moved = JournalEntry.objects.filter(
        ticket=OuterRef("pk"), kind=JournalKind.FIELD_CHANGE, field="assignment_group", actor__isnull=False
    )
    resolved = by_month(
        tickets.filter(resolved_at__gte=since).annotate(moved=Exists(moved)),
        "resolved_at",
        n=Count("id"),
        mttr=Avg(duration),
        first=Count("id", filter=Q(moved=False)),
    )
    transitions = by_month(
        JournalEntry.objects.filter(related, kind=JournalKind.TRANSITION, created_at__gte=since),
        "created_at",
        resolves=Count("id", filter=Q(transition="resolve")),
        reopens=Count("id", filter=Q(transition="reopen")),
    )
    from slas.models import SLAClock

    clocks = by_month(
        SLAClock.objects.filter(related, started_at__gte=since).exclude(stage="cancelled"),
        "started_at",
        total=Count("id"),
        breached=Count("id", filter=Q(has_breached=True)),
    )
    rows = []
    for start in starts:
        end = min(_next(start), now)
        key = _key(start)
        done, moves, clock = resolved.get(key, {}), transitions.get(key, {}), clocks.get(key, {})
        open_at_end = tickets.filter(opened_at__lt=end).exclude(resolved_at__lt=end).exclude(closed_at__lt=end)
        open_at_end = open_at_end.exclude(state_category=StateCategory.CANCELLED, closed_at__isnull=True)
        age = open_at_end.aggregate(
            age=Avg(
                ExpressionWrapper(
                    Value(end, output_field=DateTimeField()) - F("opened_at"), output_field=DurationField()
                )
            ),
            n=Count("id"),
        )
        rows.append(
            {
                "month": key,
                "volume": created.get(key, {}).get("n", 0),
                "resolved": done.get("n", 0),
                "mttr_hours": round(done["mttr"].total_seconds() / 3600, 1) if done.get("mttr") else None,
                "first_contact_rate": _percent(done.get("first", 0), done.get("n", 0)),
                "reopen_rate": _percent(moves.get("reopens", 0), moves.get("resolves", 0)),
                "sla_compliance": _percent(clock.get("total", 0) - clock.get("breached", 0), clock.get("total", 0)),
                "backlog": age["n"],
                "backlog_age_days": round(age["age"].total_seconds() / 86400, 1) if age["age"] else None,
            }
        )
    return rows


def initiative_trend(initiative, *, months: int = 12, now: datetime | None = None) -> dict[str, Any]:
    """The initiative's metric by month in its scope, beside its baseline and target, and whether the latest month
    with a value meets the target."""
    rows = trends_by_month(
        practice=initiative.practice or None,
        service_id=initiative.service_id,
        team_id=initiative.team_id,
        months=months,
        now=now,
    )
    label, better = METRICS[initiative.metric]
    points = [{"month": row["month"], "value": row[initiative.metric]} for row in rows]
    latest = next((p["value"] for p in reversed(points) if p["value"] is not None), None)
    target = initiative.target_value
    met = None if latest is None else (latest <= target if better == "lower" else latest >= target)
    return {
        "metric": initiative.metric,
        "label": label,
        "better": better,
        "baseline": initiative.baseline_value,
        "target": target,
        "latest": latest,
        "target_met": met,
        "points": points,
    }
