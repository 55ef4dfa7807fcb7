"""SLA engine writes: schedules (validated as a whole), holiday filling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from itsm.rules import is_admin
from slas.models import Holiday, Schedule, ScheduleSpan


@dataclass(frozen=True)
class SpanInput:
    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class HolidayInput:
    date: date
    name: str = ""
    yearly: bool = False


def schedule_validate(*, timezone: str, spans: list[SpanInput], holidays: list[HolidayInput]) -> None:
    """Refuse an unknown timezone, a span that ends before it starts, overlapping spans and duplicate holidays."""
    errors: dict[str, str] = {}
    if timezone not in available_timezones():
        errors["timezone"] = f"'{timezone}' is not an IANA timezone name such as Europe/Berlin."
    for index, span in enumerate(spans):
        if not 0 <= span.start < span.end <= 86400:
            errors["spans"] = f"Span {index + 1}: the end must be after the start (and at most 24:00)."
            break
    else:
        by_day: dict[int, list[SpanInput]] = {}
        for span in spans:
            by_day.setdefault(span.weekday, []).append(span)
        for day_spans in by_day.values():
            day_spans.sort(key=lambda s: s.start)
            if any(a.end > b.start for a, b in pairwise(day_spans)):
                errors["spans"] = "Spans on the same weekday must not overlap."
                break
    keys = [(h.date.month, h.date.day) if h.yearly else h.date for h in holidays]
    if len(set(keys)) != len(keys) or len({h.date for h in holidays}) != len(holidays):
        errors["holidays"] = "Each holiday date may appear only once."
    if errors:
        raise ValidationError(errors)


def _ensure_admin(by) -> None:
    if not is_admin(by):
        raise PermissionDenied("Only admins can change schedules.")


@transaction.atomic
def schedule_save(
    *,
    by,
    schedule: Schedule | None = None,
    name: str | None = None,
    timezone: str | None = None,
    description: str | None = None,
    spans: list[SpanInput] | None = None,
    holidays: list[HolidayInput] | None = None,
) -> Schedule:
    """Create a schedule, or update one; given spans or holidays replace the existing ones wholesale."""
    _ensure_admin(by)
    schedule = schedule or Schedule()
    if name is not None:
        schedule.name = name.strip()
    if timezone is not None:
        schedule.timezone = timezone
    if description is not None:
        schedule.description = description
    if not schedule.name:
        raise ValidationError({"name": "This field is required."})
    if Schedule.objects.filter(name=schedule.name).exclude(pk=schedule.pk).exists():
        raise ValidationError({"name": "A schedule with this name already exists."})
    current_spans = (
        spans
        if spans is not None
        else [SpanInput(s.weekday, s.start, s.end) for s in (schedule.spans.all() if schedule.pk else [])]
    )
    current_holidays = (
        holidays
        if holidays is not None
        else [HolidayInput(h.date, h.name, h.yearly) for h in (schedule.holidays.all() if schedule.pk else [])]
    )
    schedule_validate(timezone=schedule.timezone, spans=current_spans, holidays=current_holidays)
    schedule.save()
    if spans is not None:
        schedule.spans.all().delete()
        ScheduleSpan.objects.bulk_create(
            ScheduleSpan(schedule=schedule, weekday=s.weekday, start=s.start, end=s.end) for s in spans
        )
    if holidays is not None:
        schedule.holidays.all().delete()
        Holiday.objects.bulk_create(
            Holiday(schedule=schedule, date=h.date, name=h.name, yearly=h.yearly) for h in holidays
        )
    return schedule


@transaction.atomic
def schedule_fill_holidays(*, schedule: Schedule, by, years: list[int]) -> int:
    """Add the public holidays of the schedule's country and subdivision for these years; returns how many."""
    import holidays as holiday_calendars

    _ensure_admin(by)
    if not schedule.holiday_country:
        raise ValidationError({"holiday_country": "Set a country code first."})
    try:
        calendar = holiday_calendars.country_holidays(
            schedule.holiday_country, subdiv=schedule.holiday_subdivision or None, years=years
        )
    except NotImplementedError as exc:
        raise ValidationError({"holiday_country": str(exc)}) from None
    existing = set(schedule.holidays.values_list("date", flat=True))
    new = [
        Holiday(schedule=schedule, date=day, name=str(name)[:120])
        for day, name in sorted(calendar.items())
        if day not in existing
    ]
    Holiday.objects.bulk_create(new)
    return len(new)
