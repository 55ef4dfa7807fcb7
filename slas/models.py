"""SLA engine models: business-hours schedules with their weekly spans and holidays."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.db import models
from django.utils.translation import gettext_lazy as _

from slas.business_time import BusinessCalendar, WeeklySpan, format_clock
from slas.enums import Weekday


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class Schedule(models.Model):
    """Weekly business hours in a named timezone, with holidays; SLA clocks count business time through it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("timezone"), max_length=64, default="UTC")
    description = models.TextField(_("description"), blank=True)
    holiday_country = models.CharField(
        _("holiday country"), max_length=8, blank=True, help_text=_("ISO code for filling holidays, e.g. US, GB, DE.")
    )
    holiday_subdivision = models.CharField(
        _("holiday subdivision"), max_length=16, blank=True, help_text=_("e.g. NY, ENG, BY; optional.")
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return self.name

    def calendar(self) -> BusinessCalendar:
        """The arithmetic object for this schedule (uses prefetched spans and holidays when present)."""
        return BusinessCalendar(
            timezone=self.timezone,
            spans=[WeeklySpan(s.weekday, s.start, s.end) for s in self.spans.all()],
            holidays=[h.date for h in self.holidays.all() if not h.yearly],
            yearly_holidays=[(h.date.month, h.date.day) for h in self.holidays.all() if h.yearly],
        )


class ScheduleSpan(models.Model):
    """One [start, end) local wall-clock span on a weekday, in seconds of the day (end may be 24:00)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="spans")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.PositiveIntegerField(_("start (seconds of the day)"))
    end = models.PositiveIntegerField(_("end (seconds of the day)"))

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")) & models.Q(end__lte=86400), name="span_start_before_end"
            )
        ]
        verbose_name = _("span")
        verbose_name_plural = _("spans")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {format_clock(self.start)}-{format_clock(self.end)}"


class Holiday(models.Model):
    """A whole-day closure: one date, or the same month and day every year."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)
    yearly = models.BooleanField(_("every year"), default=False)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="holiday_unique_date")]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
