"""SLA engine reads."""

from django.db.models import QuerySet

from slas.models import Schedule


def schedule_list() -> QuerySet[Schedule]:
    """Schedules with their spans and holidays, ready to build calendars without further queries."""
    return Schedule.objects.prefetch_related("spans", "holidays")
