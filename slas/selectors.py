"""SLA engine reads."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from slas.engine import percentage
from slas.enums import ClockStage
from slas.models import Schedule, SLAClock


def clocks_prefetch() -> Prefetch:
    """A ticket list's SLA clocks with their definitions and schedules, in one query for the page."""
    return Prefetch("sla_clocks", queryset=SLAClock.objects.select_related("definition", "schedule"))


def schedule_list() -> QuerySet[Schedule]:
    """Schedules with their spans and holidays, ready to build calendars without further queries."""
    return Schedule.objects.prefetch_related("spans", "holidays")


def clock_live(clock, *, now: datetime | None = None) -> dict:
    """A clock's figures as of now: business elapsed and remaining, percentage (from integer seconds), breach."""
    from slas.services import calendar_for

    moment = int((now or timezone.now()).timestamp())
    business, actual, paused = clock.business_elapsed, clock.actual_elapsed, clock.pause_total
    checkpoint = int(clock.checkpoint_at.timestamp())
    if clock.stage == ClockStage.IN_PROGRESS and moment > checkpoint:
        business += calendar_for(clock.schedule).elapsed_epoch(checkpoint, moment)
        actual += moment - checkpoint
    elif clock.stage == ClockStage.PAUSED and moment > checkpoint:
        paused += moment - checkpoint
    return {
        "business_elapsed_seconds": business,
        "business_remaining_seconds": max(0, clock.duration_seconds - business),
        "actual_elapsed_seconds": actual,
        "pause_seconds": paused,
        "percentage": percentage(business, clock.duration_seconds),
        "has_breached": clock.has_breached or business >= clock.duration_seconds,
    }


def clocks_for_display(*, ticket, now: datetime | None = None) -> list[dict]:
    """The ticket's clocks as people read them: name, stage, time left or overdue, percentage, a colour level."""
    rows = []
    for clock in ticket.sla_clocks.select_related("definition", "schedule").order_by("started_at", "pk"):
        live = clock_live(clock, now=now)
        breached = live["has_breached"]
        percent = live["percentage"]
        if breached:
            level = "breached"
        elif clock.stage in (ClockStage.COMPLETED, ClockStage.CANCELLED):
            level = "done"
        elif percent >= 75:
            level = "late"
        elif percent >= 50:
            level = "warn"
        else:
            level = "ok"
        rows.append({"clock": clock, "level": level, **live})
    return rows
