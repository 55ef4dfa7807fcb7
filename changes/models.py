"""The change record and its state machine, standard-change templates, the risk questionnaire, change tasks,
blackout and maintenance windows, and the conflicts found for a change."""

from __future__ import annotations

import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by

from changes.enums import (
    CANCELABLE_CHANGE_STATES,
    CHANGE_STATE_CATEGORIES,
    CHANGE_STATE_CODES,
    CHANGE_TASK_STATE_CATEGORIES,
    CHANGE_TASK_STATE_CODES,
    OPEN_CHANGE_TASK_STATES,
    ChangeApproval,
    ChangeCloseCode,
    ChangeConflictKind,
    ChangeRisk,
    ChangeState,
    ChangeTaskState,
    ChangeType,
    ChangeWindowKind,
    ChangeWindowRecurrence,
)
from itsm.enums import TicketKind
from itsm.models import Team, Ticket
from itsm.rules import is_agent

S = ChangeState
T = ChangeTaskState


def _agent(instance: models.Model, user) -> bool:
    return is_agent(user)


# Guards: which type may take which path (a refused path is a 409, like a refused state).
def _is_normal(change: Change) -> bool:
    return change.change_type == ChangeType.NORMAL


def _may_request_approval(change: Change) -> bool:
    return (change.change_type == ChangeType.NORMAL and change.state == S.ASSESS) or (
        change.change_type == ChangeType.EMERGENCY and change.state == S.NEW
    )


def _may_schedule(change: Change) -> bool:
    """Standard changes are pre-approved (New -> Scheduled); the others once their approval policy is met."""
    if change.change_type == ChangeType.STANDARD:
        return change.state == S.NEW
    return change.state == S.AUTHORIZE and change.approval == ChangeApproval.APPROVED


def _no_open_tasks(change: Change) -> bool:
    """The work is only done when every change task is closed or canceled."""
    return not change.pk or not change.tasks.filter(state__in=OPEN_CHANGE_TASK_STATES).exists()


class ChangeTemplate(models.Model):
    """A pre-approved standard change, maintained by admins: changes made from it go from New straight to Scheduled."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    short_description = models.CharField(_("short description"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"))
    backout_plan = models.TextField(_("backout plan"))
    test_plan = models.TextField(_("test plan"), blank=True)
    assignment_group = models.ForeignKey(
        Team,
        verbose_name=_("default assignment group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_templates",
    )
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    configuration_item = models.ForeignKey(
        "catalog.ConfigurationItem",
        verbose_name=_("configuration item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("standard change template")
        verbose_name_plural = _("standard change templates")

    def __str__(self) -> str:
        return self.name


class Change(ConcurrentTransitionMixin, Ticket):
    """A planned addition, modification or removal of something that could affect services, and its authorisation."""

    KIND = TicketKind.CHANGE
    STATE_CATEGORIES = CHANGE_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_change")
    state = FSMField(_("state"), default=S.NEW, choices=S.choices, protected=True, db_index=True)
    change_type = models.CharField(
        _("type"), max_length=12, choices=ChangeType.choices, default=ChangeType.NORMAL, db_index=True
    )
    template = models.ForeignKey(
        ChangeTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    justification = models.TextField(_("justification"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True, db_index=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True, db_index=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True, editable=False)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True, editable=False)
    affected_cis = models.ManyToManyField(
        "catalog.ConfigurationItem", verbose_name=_("affected configuration items"), blank=True, related_name="changes"
    )
    affected_services = models.ManyToManyField(
        "catalog.Service", verbose_name=_("affected services"), blank=True, related_name="changes"
    )
    risk = models.CharField(_("risk"), max_length=12, choices=ChangeRisk.choices, default=ChangeRisk.MODERATE)
    risk_score = models.IntegerField(_("risk score"), null=True, blank=True, editable=False)
    risk_explanation = models.TextField(_("risk explanation"), blank=True, editable=False)
    approval = models.CharField(
        _("approval"),
        max_length=16,
        choices=ChangeApproval.choices,
        default=ChangeApproval.NOT_REQUESTED,
        editable=False,
    )
    close_code = models.CharField(_("close code"), max_length=24, choices=ChangeCloseCode.choices, blank=True)
    close_notes = models.TextField(_("close notes"), blank=True)
    review_notes = models.TextField(_("post-implementation review notes"), blank=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        permissions = [
            ("work_change", "Can work changes (agent)"),
            ("override_change_conflicts", "Can schedule changes despite their conflicts (change manager)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_start__isnull=True)
                | models.Q(planned_end__isnull=True)
                | models.Q(planned_end__gt=models.F("planned_start")),
                name="change_planned_end_after_start",
            )
        ]

    @property
    def state_code(self) -> int:
        return CHANGE_STATE_CODES[self.state]

    # --- transitions: they change fields on self and nothing else -------------------------------------------

    @fsm_log_by
    @transition(field=state, source=S.NEW, target=S.ASSESS, permission=_agent, conditions=[_is_normal])
    def assess(self, *, by=None) -> None:
        """A normal change is assessed by its team (plans, risk) before it goes to the CAB."""

    @fsm_log_by
    @transition(
        field=state, source=[S.NEW, S.ASSESS], target=S.AUTHORIZE, permission=_agent, conditions=[_may_request_approval]
    )
    def request_approval(self, *, by=None) -> None:
        """Normal changes from Assess, emergency changes from New: the approvers are asked."""
        self.approval = ChangeApproval.REQUESTED

    @fsm_log_by
    @transition(
        field=state, source=[S.NEW, S.AUTHORIZE], target=S.SCHEDULED, permission=_agent, conditions=[_may_schedule]
    )
    def schedule(self, *, by=None) -> None:
        """Approved (or pre-approved) and planned: waits for its window."""
        if self.change_type == ChangeType.STANDARD:
            self.approval = ChangeApproval.APPROVED

    @fsm_log_by
    @transition(field=state, source=S.SCHEDULED, target=S.IMPLEMENT, permission=_agent)
    def implement(self, *, by=None) -> None:
        """The work starts."""
        self.actual_start = timezone.now()

    @fsm_log_by
    @transition(field=state, source=S.IMPLEMENT, target=S.REVIEW, permission=_agent, conditions=[_no_open_tasks])
    def review(self, *, close_code: str, close_notes: str, by=None) -> None:
        """The work is done (or backed out); how it went is recorded for the post-implementation review."""
        self.close_code = close_code
        self.close_notes = close_notes
        self.actual_end = timezone.now()
        self.resolved_at = self.actual_end

    @fsm_log_by
    @transition(field=state, source=S.REVIEW, target=S.CLOSED, permission=_agent)
    def close(self, *, review_notes: str, by=None) -> None:
        """The post-implementation review is written."""
        self.review_notes = review_notes
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=list(CANCELABLE_CHANGE_STATES), target=S.CANCELED, permission=_agent)
    def cancel(self, *, by=None) -> None:
        """No longer wanted (not after the work is done: Review and Closed cannot cancel)."""
        if self.approval == ChangeApproval.REQUESTED:
            self.approval = ChangeApproval.NOT_REQUESTED
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=[S.ASSESS, S.AUTHORIZE, S.SCHEDULED], target=S.NEW, permission=_agent)
    def revert_to_new(self, *, rejected: bool = False, by=None) -> None:
        """Back to New, on rejection or by hand; its approvals are withdrawn by the service."""
        self.approval = ChangeApproval.REJECTED if rejected else ChangeApproval.NOT_REQUESTED


class RiskQuestion(models.Model):
    """One question of the admin-maintained risk questionnaire."""

    text = models.CharField(_("question"), max_length=255)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("risk question")
        verbose_name_plural = _("risk questions")

    def __str__(self) -> str:
        return self.text


class RiskAnswerOption(models.Model):
    """One possible answer to a risk question, with the score it adds."""

    question = models.ForeignKey(
        RiskQuestion, verbose_name=_("question"), on_delete=models.CASCADE, related_name="options"
    )
    label = models.CharField(_("answer"), max_length=160)
    score = models.IntegerField(_("score"), default=0)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name = _("risk answer option")
        verbose_name_plural = _("risk answer options")

    def __str__(self) -> str:
        return f"{self.label} ({self.score:+d})"


class RiskThreshold(models.Model):
    """The lowest total score that gives a risk level; admins tune the questionnaire's outcome here."""

    risk = models.CharField(_("risk"), max_length=12, choices=ChangeRisk.choices, unique=True)
    min_score = models.IntegerField(_("from score"))

    class Meta:
        ordering = ["-min_score"]
        verbose_name = _("risk threshold")
        verbose_name_plural = _("risk thresholds")

    def __str__(self) -> str:
        return f"{self.get_risk_display()} from {self.min_score}"


class ChangeRiskAnswer(models.Model):
    """A change's answer to one risk question, with the score it counted when it was given."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.CASCADE, related_name="risk_answers")
    question = models.ForeignKey(RiskQuestion, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(RiskAnswerOption, verbose_name=_("answer"), on_delete=models.PROTECT, related_name="+")
    score = models.IntegerField(_("score"))

    class Meta:
        ordering = ["change", "question__order", "question_id"]
        constraints = [models.UniqueConstraint(fields=["change", "question"], name="change_risk_answer_unique")]
        verbose_name = _("risk answer")
        verbose_name_plural = _("risk answers")

    def __str__(self) -> str:
        return f"{self.question}: {self.option}"


class ChangeTask(ConcurrentTransitionMixin, Ticket):
    """A piece of the implementation of a change, assigned to a team; the change reaches Review once all are done."""

    KIND = TicketKind.CHANGE_TASK
    STATE_CATEGORIES = CHANGE_TASK_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_change_task")
    state = FSMField(_("state"), default=T.NEW, choices=T.choices, protected=True, db_index=True)
    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.PROTECT, related_name="tasks")
    close_notes = models.TextField(_("close notes"), blank=True)

    class Meta:
        verbose_name = _("change task")
        verbose_name_plural = _("change tasks")

    @property
    def state_code(self) -> int:
        return CHANGE_TASK_STATE_CODES[self.state]

    @fsm_log_by
    @transition(field=state, source=T.NEW, target=T.ASSESS, permission=_agent)
    def assess(self, *, by=None) -> None:
        """The team looks at what the task needs."""

    @fsm_log_by
    @transition(field=state, source=[T.NEW, T.ASSESS], target=T.WORK_IN_PROGRESS, permission=_agent)
    def start(self, *, by=None) -> None:
        """Work begins (a simple task may skip assessment)."""

    @fsm_log_by
    @transition(field=state, source=list(OPEN_CHANGE_TASK_STATES), target=T.CLOSED, permission=_agent)
    def close(self, *, close_notes: str, by=None) -> None:
        """Done; the close notes say what was done."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=list(OPEN_CHANGE_TASK_STATES), target=T.CANCELED, permission=_agent)
    def cancel(self, *, close_notes: str = "", by=None) -> None:
        """No longer needed (also when its change is canceled)."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()


def _validate_weekdays(value: str) -> None:
    days = [part.strip() for part in value.split(",") if part.strip()]
    if not days or any(day not in "1234567" or len(day) != 1 for day in days):
        raise ValidationError(_("List ISO weekdays 1 (Monday) to 7 (Sunday), separated by commas."))


def _validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("'%(zone)s' is not a known time zone.") % {"zone": value}) from None


WEEKDAY_NAMES = {1: _("Mon"), 2: _("Tue"), 3: _("Wed"), 4: _("Thu"), 5: _("Fri"), 6: _("Sat"), 7: _("Sun")}


class ChangeWindow(models.Model):
    """A blackout (no changes) or maintenance window (when its CIs may change), once or weekly, global or scoped.

    Scope: the listed CIs and the CIs of the listed services; with neither, every CI. A change conflicts with a
    blackout it overlaps, and with the maintenance windows of each of its CIs that has any when its planned window is
    not covered by them. Weekly windows are local times in `time_zone` (DST-correct); an end at or before the start
    runs past midnight.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=ChangeWindowKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    recurrence = models.CharField(
        _("recurrence"), max_length=8, choices=ChangeWindowRecurrence.choices, default=ChangeWindowRecurrence.ONCE
    )
    start = models.DateTimeField(_("start"), null=True, blank=True, help_text=_("One-off windows."))
    end = models.DateTimeField(_("end"), null=True, blank=True, help_text=_("One-off windows."))
    weekdays = models.CharField(
        _("weekdays"),
        max_length=13,
        blank=True,
        validators=[_validate_weekdays],
        help_text=_("Weekly windows: ISO weekdays, 1 = Monday ... 7 = Sunday, e.g. '6,7'."),
    )
    start_time = models.TimeField(_("start time"), null=True, blank=True, help_text=_("Weekly windows, local time."))
    end_time = models.TimeField(
        _("end time"), null=True, blank=True, help_text=_("Weekly windows; at or before the start: the next day.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=settings.TIME_ZONE, validators=[_validate_time_zone]
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True, help_text=_("Weekly windows; optional."))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Weekly windows; optional."))
    configuration_items = models.ManyToManyField(
        "catalog.ConfigurationItem", verbose_name=_("configuration items"), blank=True, related_name="change_windows"
    )
    services = models.ManyToManyField(
        "catalog.Service", verbose_name=_("services"), blank=True, related_name="change_windows"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("change window")
        verbose_name_plural = _("blackout and maintenance windows")
        indexes = [models.Index(fields=["kind", "active", "start", "end"], name="change_window_kind_span")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def clean(self) -> None:
        errors = {}
        if self.recurrence == ChangeWindowRecurrence.ONCE:
            if self.start is None:
                errors["start"] = _("A one-off window needs a start.")
            if self.end is None:
                errors["end"] = _("A one-off window needs an end.")
            elif self.start is not None and self.end <= self.start:
                errors["end"] = _("The end must be after the start.")
        else:
            if not self.weekdays:
                errors["weekdays"] = _("A weekly window needs at least one weekday.")
            if self.start_time is None:
                errors["start_time"] = _("A weekly window needs a start time.")
            if self.end_time is None:
                errors["end_time"] = _("A weekly window needs an end time.")
            if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
                errors["valid_until"] = _("'Valid until' must not be before 'valid from'.")
        if errors:
            raise ValidationError(errors)

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted({int(day) for day in self.weekdays.split(",") if day.strip()})

    def describe(self) -> str:
        """When the window is, in words: '2026-12-18 18:00 - 2027-01-04 08:00 UTC' or 'Sat, Sun 01:00-05:00 ...'."""
        if self.recurrence == ChangeWindowRecurrence.ONCE:
            zone = zoneinfo.ZoneInfo(self.time_zone)
            start, end = self.start.astimezone(zone), self.end.astimezone(zone)
            return f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} {self.time_zone}"
        days = ", ".join(str(WEEKDAY_NAMES[day]) for day in self.weekday_numbers)
        start_time: time = self.start_time
        end_time: time = self.end_time
        return f"{days} {start_time:%H:%M}-{end_time:%H:%M} {self.time_zone}"


class ChangeConflict(models.Model):
    """One conflict found for a change, with its reason; recomputed whenever the change's plan changes."""

    change = models.ForeignKey(Change, verbose_name=_("change"), on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(_("kind"), max_length=12, choices=ChangeConflictKind.choices)
    other_change = models.ForeignKey(
        Change, verbose_name=_("other change"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    window = models.ForeignKey(
        ChangeWindow, verbose_name=_("window"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    configuration_item = models.ForeignKey(
        "catalog.ConfigurationItem",
        verbose_name=_("configuration item"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)

    class Meta:
        ordering = ["change", "kind", "id"]
        constraints = [
            # A conflict is stored once: two recomputes committing at once insert the same rows (the later one's are
            # skipped). Coalesce because NULLs are distinct in a plain unique constraint.
            models.UniqueConstraint(
                "change",
                "kind",
                Coalesce("other_change", 0),
                Coalesce("window", 0),
                Coalesce("configuration_item", 0),
                name="change_conflict_once",
            )
        ]
        verbose_name = _("change conflict")
        verbose_name_plural = _("change conflicts")

    def __str__(self) -> str:
        return self.reason
