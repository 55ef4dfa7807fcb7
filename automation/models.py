"""Automation models: people's location and absence, team routing, assignment rules, triggers and their runs, the
learned categoriser and its suggestions, and the continual improvement register."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from automation.conditions import conditions_problems, set_fields_problems
from automation.enums import InitiativeMetric, InitiativeState, NotifyWhom, RoutingMode, TriggerEvent
from itsm.enums import Priority, TicketKind
from itsm.models import Category, Team, Ticket


class UserProfile(models.Model):
    """Where a person works and until when an agent is away (routing skips them meanwhile)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="automation_profile"
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    away_until = models.DateTimeField(_("away until"), null=True, blank=True)

    class Meta:
        verbose_name = _("presence and location")
        verbose_name_plural = _("presence and location")

    def __str__(self) -> str:
        return str(self.user)

    def is_away(self, at=None) -> bool:
        return self.away_until is not None and self.away_until > (at or timezone.now())


class TeamRouting(models.Model):
    """How one team assigns its new unassigned tickets; `last_assigned` is the round-robin cursor."""

    team = models.OneToOneField(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(_("mode"), max_length=16, choices=RoutingMode.choices, default=RoutingMode.MANUAL)
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("team routing")
        verbose_name_plural = _("team routing")

    def __str__(self) -> str:
        return f"{self.team}: {self.get_mode_display()}"


class _Conditional(models.Model):
    """What rules and triggers share: a name, an order, a practice and their conditions (all must hold)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    practice = models.CharField(
        _("practice"), max_length=20, choices=TicketKind.choices, blank=True, help_text=_("Blank for every practice.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100, help_text=_("Lower runs first."))
    active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(
        _("conditions"),
        default=list,
        blank=True,
        help_text=_(
            'A list; all must hold. Example: [{"field": "text", "op": "keywords", "value": ["password reset"]}, '
            '{"field": "priority", "op": "in", "value": [1, 2]}]. Fields: short_description, description, text, '
            "impact, urgency, priority, state, state_category, assignment_group, assigned_to, service, "
            "configuration_item, category, subcategory, caller, caller_department, caller_location. Operators: "
            "equals, not_equals, in, contains, keywords, regex, is_empty, not_empty."
        ),
    )
    work_note = models.TextField(_("add work note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def _clean_conditions(self, errors: dict) -> None:
        problems = conditions_problems(self.conditions)
        if problems:
            errors["conditions"] = problems


class AssignmentRule(_Conditional):
    """On creation, in order: when its conditions hold, set the category, group, assignee or priority and add a work
    note; a rule that stops ends the run."""

    set_category = models.ForeignKey(
        Category, verbose_name=_("set category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_subcategory = models.ForeignKey(
        Category, verbose_name=_("set subcategory"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_assignment_group = models.ForeignKey(
        Team, verbose_name=_("set assignment group"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_priority = models.PositiveSmallIntegerField(
        _("override priority"), choices=Priority.choices, null=True, blank=True
    )
    priority_reason = models.CharField(_("reason for the priority override"), max_length=200, blank=True)
    add_watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("add watchers"),
        blank=True,
        related_name="+",
        help_text=_("Put these people on the ticket's watch list (inactive users are skipped)."),
    )
    stop = models.BooleanField(_("stop after this rule"), default=True)

    class Meta(_Conditional.Meta):
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def clean(self) -> None:
        errors: dict = {}
        self._clean_conditions(errors)
        if self.set_priority is not None and not self.priority_reason.strip():
            errors["priority_reason"] = _("Say why the priority is overridden.")
        if self.set_category is not None:
            if self.set_category.parent_id is not None:
                errors["set_category"] = _("Choose a top-level category.")
            elif self.practice and self.set_category.practice != self.practice:
                errors["set_category"] = _("The category belongs to another practice.")
        if self.set_subcategory is not None and self.set_subcategory.parent_id != self.set_category_id:
            errors["set_subcategory"] = _("Choose a subcategory of the category set.")
        group, assignee = self.set_assignment_group, self.set_assigned_to
        if assignee is not None and group is not None and not group.members.filter(pk=assignee.pk).exists():
            errors["set_assigned_to"] = _("The assignee is not a member of the group set.")
        if errors:
            raise ValidationError(errors)


class Trigger(_Conditional):
    """On an event, when its conditions hold: set fields, run a transition, notify and add a work note.

    A trigger never fires on the changes it makes itself (the loop guard), nor twice for one event.
    """

    event = models.CharField(_("event"), max_length=20, choices=TriggerEvent.choices)
    set_fields = models.JSONField(
        _("set fields"),
        default=dict,
        blank=True,
        help_text=_(
            'Example: {"priority": 1, "assignment_group": "Identity"}. Fields: priority, assignment_group, '
            'assigned_to, category, subcategory; assigned_to may be "@group_manager".'
        ),
    )
    transition = models.CharField(
        _("transition"), max_length=32, blank=True, help_text=_("A transition of the practice, e.g. 'start'.")
    )
    transition_input = models.JSONField(_("transition input"), default=dict, blank=True)
    notify = models.CharField(_("notify"), max_length=16, choices=NotifyWhom.choices, blank=True)
    message = models.TextField(_("notification text"), blank=True)

    class Meta(_Conditional.Meta):
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")

    def clean(self) -> None:
        errors: dict = {}
        self._clean_conditions(errors)
        problems = set_fields_problems(self.set_fields)
        if problems:
            errors["set_fields"] = problems
        if self.transition and not self.practice:
            errors["practice"] = _("A trigger that runs a transition must name its practice.")
        if not isinstance(self.transition_input, dict):
            errors["transition_input"] = _("Give an object.")
        if self.notify and not self.message.strip():
            errors["message"] = _("Write the notification text.")
        if errors:
            raise ValidationError(errors)


class TriggerRun(models.Model):
    """One firing of a trigger for one event (unique: an event heard twice fires once), and what it did."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=100)
    fired_at = models.DateTimeField(default=timezone.now)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["trigger", "event_key"], name="trigger_run_once_per_event")]
        verbose_name = _("trigger run")
        verbose_name_plural = _("trigger runs")

    def __str__(self) -> str:
        return f"{self.trigger} on {self.event_key}"


class CategoriserSettings(models.Model):
    """The learned categoriser's settings (one row): on or off, the confidence above which a suggestion is applied
    on creation, and how many labelled tickets a practice needs before a model is trained."""

    enabled = models.BooleanField(_("suggest categories"), default=True)
    auto_apply_threshold = models.FloatField(
        _("apply automatically at confidence"),
        default=0.8,
        help_text=_("From 0 to 1. Below it the suggestion is only shown to the agent; above 1 never applies."),
    )
    min_tickets = models.PositiveIntegerField(_("labelled tickets needed to train"), default=20)

    class Meta:
        verbose_name = _("categoriser settings")
        verbose_name_plural = _("categoriser settings")

    def __str__(self) -> str:
        return str(_("Categoriser settings"))

    def clean(self) -> None:
        if not 0 <= self.auto_apply_threshold <= 1.01:
            raise ValidationError({"auto_apply_threshold": _("Give a number from 0 to 1 (or 1.01 for never).")})

    @classmethod
    def current(cls) -> CategoriserSettings:
        return cls.objects.get_or_create(pk=1)[0]


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TrainingRun(models.Model):
    """One training of a practice's categoriser on its resolved tickets: progress, held-out accuracy against the
    majority class, and the fitted models (the latest done run of a practice is the one in use)."""

    practice = models.CharField(_("practice"), max_length=20, choices=TicketKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=TrainingStatus.choices, default=TrainingStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.TextField(_("message"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    samples = models.PositiveIntegerField(_("labelled tickets"), default=0)
    classes = models.PositiveIntegerField(_("categories"), default=0)
    top1 = models.FloatField(_("held-out top-1 accuracy"), null=True, blank=True)
    top3 = models.FloatField(_("held-out top-3 accuracy"), null=True, blank=True)
    baseline = models.FloatField(_("majority-class baseline"), null=True, blank=True)
    category_model = models.BinaryField(null=True, editable=False)
    group_model = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("categoriser training")
        verbose_name_plural = _("categoriser trainings")

    def __str__(self) -> str:
        return f"{self.get_practice_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class CategorySuggestion(models.Model):
    """What the categoriser suggested for a new ticket, with its confidence; applied when above the threshold,
    otherwise waiting for an agent's one click."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="category_suggestion")
    run = models.ForeignKey(TrainingRun, null=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField(_("confidence"))
    assignment_group = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL, related_name="+")
    group_confidence = models.FloatField(_("group confidence"), null=True)
    applied = models.BooleanField(_("applied automatically"), default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("category suggestion")
        verbose_name_plural = _("category suggestions")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.category} ({self.confidence:.0%})"


class ImprovementInitiative(ConcurrentTransitionMixin, models.Model):
    """A continual improvement initiative: who owns it, the problem it addresses, the metric it means to move from
    a baseline to a target in a scope (practice, service, team), its linked problems and changes, and its state."""

    title = models.CharField(_("title"), max_length=160)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="initiatives"
    )
    problem_statement = models.TextField(_("problem statement"))
    metric = models.CharField(_("metric"), max_length=24, choices=InitiativeMetric.choices)
    practice = models.CharField(
        _("practice"), max_length=20, choices=TicketKind.choices, blank=True, help_text=_("Blank for every practice.")
    )
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    baseline_value = models.FloatField(_("baseline"))
    target_value = models.FloatField(_("target"))
    problems = models.ManyToManyField(
        Ticket, verbose_name=_("problems"), blank=True, related_name="+", limit_choices_to={"kind": "problem"}
    )
    changes = models.ManyToManyField(
        Ticket, verbose_name=_("changes"), blank=True, related_name="+", limit_choices_to={"kind": "change"}
    )
    state = FSMField(_("state"), default=InitiativeState.IDENTIFIED, choices=InitiativeState.choices, protected=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("improvement initiative")
        verbose_name_plural = _("improvement register")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from automation.trends import METRICS

        _label, better = METRICS.get(self.metric, ("", "lower"))
        if self.baseline_value is not None and self.target_value is not None:
            if self.target_value == self.baseline_value:
                raise ValidationError({"target_value": _("The target must differ from the baseline.")})
            if (better == "lower") != (self.target_value < self.baseline_value):
                raise ValidationError({"target_value": _("The target moves the metric the wrong way.")})

    @transition(field=state, source=InitiativeState.IDENTIFIED, target=InitiativeState.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=InitiativeState.APPROVED, target=InitiativeState.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(field=state, source=InitiativeState.IN_PROGRESS, target=InitiativeState.DONE)
    def complete(self) -> None:
        pass

    @transition(
        field=state,
        source=[InitiativeState.IDENTIFIED, InitiativeState.APPROVED, InitiativeState.IN_PROGRESS],
        target=InitiativeState.ABANDONED,
    )
    def abandon(self) -> None:
        pass
