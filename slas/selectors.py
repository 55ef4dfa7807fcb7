"""SLA engine reads."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from slas.engine import percentage
from slas.enums import ClockStage
from slas.models import Schedule


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
