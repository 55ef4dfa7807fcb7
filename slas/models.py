"""SLA engine models: business-hours schedules with their weekly spans and holidays."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.enums import TicketKind
from itsm.models import Team, Ticket
from slas.business_time import BusinessCalendar, WeeklySpan, format_clock
from slas.enums import ACTIVE_STAGES, ClockStage, ScheduleSource, SLAActionKind, SLATarget, SLAType, Weekday


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


def default_thresholds() -> list[int]:
    return [50, 75, 90]


class SLADefinition(models.Model):
    """What to measure on which tickets: target, conditions, duration, schedule, warnings and escalation actions.

    Conditions are JSON objects over the ticket: {"state_category": [...], "assigned": true|false}; every key given
    must hold. Match conditions narrow which tickets the definition applies to at all.
    """

    name = models.CharField(_("name"), max_length=120)
    sla_type = models.CharField(_("type"), max_length=8, choices=SLAType.choices, default=SLAType.SLA)
    target = models.CharField(_("target"), max_length=16, choices=SLATarget.choices)
    practice = models.CharField(_("practice"), max_length=20, choices=TicketKind.choices, default=TicketKind.INCIDENT)
    active = models.BooleanField(_("active"), default=False)
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The active definition this draft would replace (for the what-if preview and activation)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    match_priorities = models.JSONField(_("priorities"), default=list, blank=True, help_text=_("Empty: any."))
    match_services = models.ManyToManyField("catalog.Service", verbose_name=_("services"), blank=True)
    match_configuration_items = models.ManyToManyField(
        "catalog.ConfigurationItem", verbose_name=_("configuration items"), blank=True
    )
    match_assignment_groups = models.ManyToManyField(Team, verbose_name=_("assignment groups"), blank=True)
    match_categories = models.ManyToManyField(
        "itsm.Category",
        verbose_name=_("categories"),
        blank=True,
        related_name="+",
        help_text=_(
            "Categories or subcategories of the definition's practice; a ticket matches by either. Empty: any."
        ),
    )
    match_catalog_items = models.ManyToManyField(
        "catalog.CatalogItem",
        verbose_name=_("catalog items"),
        blank=True,
        related_name="sla_definitions",
        help_text=_(
            "Requested items only: an item matches by the catalog item it was ordered from, whatever its version. "
            "Empty: any."
        ),
    )
    start_condition = models.JSONField(_("start condition"), default=dict)
    pause_condition = models.JSONField(_("pause condition"), default=dict, blank=True)
    stop_condition = models.JSONField(_("stop condition"), default=dict)
    reset_condition = models.JSONField(_("reset condition"), default=dict, blank=True)
    cancel_condition = models.JSONField(_("cancel condition"), default=dict, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"))
    schedule = models.ForeignKey(
        Schedule,
        verbose_name=_("schedule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Empty: 24x7."),
    )
    schedule_source = models.CharField(
        _("schedule source"), max_length=24, choices=ScheduleSource.choices, default=ScheduleSource.DEFINITION
    )
    thresholds = models.JSONField(_("warning thresholds (%)"), default=default_thresholds, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["practice", "order", "name"]
        verbose_name = _("SLA definition")
        verbose_name_plural = _("SLA definitions")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from slas.conditions import definition_problems

        # A form sets `pending_match_sets` to the many-to-many values it is about to save.
        problems = definition_problems(self, **getattr(self, "pending_match_sets", {}))
        if problems:
            raise ValidationError(problems)


class SLAAction(models.Model):
    """What happens when a clock reaches a percentage of its duration (100 is the breach)."""

    definition = models.ForeignKey(SLADefinition, on_delete=models.CASCADE, related_name="actions")
    percent = models.PositiveSmallIntegerField(
        _("at percent"), help_text=_("A warning threshold, or 100 for the breach.")
    )
    kind = models.CharField(_("action"), max_length=24, choices=SLAActionKind.choices)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For 'reassign'."),
    )

    class Meta:
        ordering = ["percent", "id"]
        verbose_name = _("SLA action")
        verbose_name_plural = _("SLA actions")

    def __str__(self) -> str:
        return f"{self.percent}%: {self.get_kind_display()}"

    def clean(self) -> None:
        errors = {}
        if self.definition_id and self.percent not in (*(self.definition.thresholds or []), 100):
            errors["percent"] = _("Use one of the definition's thresholds, or 100 for the breach.")
        if self.kind == SLAActionKind.REASSIGN and not self.team_id:
            errors["team"] = _("Choose the team to reassign to.")
        if errors:
            raise ValidationError(errors)


class SLAClock(models.Model):
    """One definition measured on one ticket (ServiceNow's task_sla); stage and breach are kept apart.

    Totals are exact integer seconds as of `checkpoint_at`; while in progress they grow with business time.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    definition = models.ForeignKey(SLADefinition, on_delete=models.PROTECT, related_name="clocks")
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=16, choices=ClockStage.choices, db_index=True)
    has_breached = models.BooleanField(_("breached"), default=False)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"))
    started_at = models.DateTimeField(_("start"))
    stopped_at = models.DateTimeField(_("stop"), null=True, blank=True)
    due_at = models.DateTimeField(_("due (breach) time"), null=True, blank=True)
    checkpoint_at = models.DateTimeField(_("totals as of"))
    business_elapsed = models.PositiveIntegerField(_("business elapsed (s)"), default=0)
    actual_elapsed = models.PositiveIntegerField(_("actual elapsed (s)"), default=0)
    pause_total = models.PositiveIntegerField(_("paused (s)"), default=0)
    last_category = models.CharField(max_length=24, blank=True)
    next_milestone_at = models.DateTimeField(null=True, blank=True)
    next_milestone_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            # The sweep's only access path: due milestones, oldest first.
            models.Index(
                fields=["next_milestone_at"],
                name="slaclock_next_milestone",
                condition=models.Q(next_milestone_at__isnull=False),
            ),
            models.Index(fields=["ticket", "definition"], name="slaclock_ticket_def"),
            models.Index(fields=["started_at"], name="slaclock_started"),  # compliance reports by period
        ]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")

    def __str__(self) -> str:
        return f"{self.definition} on {self.ticket_id}"

    @property
    def is_active(self) -> bool:
        return self.stage in ACTIVE_STAGES


class SLAMilestone(models.Model):
    """A warning threshold or the breach, recorded once per clock at the instant it was reached."""

    clock = models.ForeignKey(SLAClock, on_delete=models.CASCADE, related_name="milestones")
    percent = models.PositiveSmallIntegerField(_("percent"))
    reached_at = models.DateTimeField(_("reached at"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["reached_at", "percent"]
        constraints = [models.UniqueConstraint(fields=["clock", "percent"], name="slamilestone_once")]
        verbose_name = _("SLA milestone")
        verbose_name_plural = _("SLA milestones")

    def __str__(self) -> str:
        return f"{self.percent}% of {self.clock_id}"

    @property
    def detection_lag_seconds(self) -> int:
        return int((self.recorded_at - self.reached_at).total_seconds())
