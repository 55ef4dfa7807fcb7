"""The change record and its state machine, standard-change templates, and the risk questionnaire."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by

from changes.enums import (
    CANCELABLE_CHANGE_STATES,
    CHANGE_STATE_CATEGORIES,
    CHANGE_STATE_CODES,
    ChangeApproval,
    ChangeCloseCode,
    ChangeRisk,
    ChangeState,
    ChangeType,
)
from itsm.enums import TicketKind
from itsm.models import Team, Ticket
from itsm.rules import is_agent

S = ChangeState


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
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
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
        permissions = [("work_change", "Can work changes (agent)")]
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
    @transition(field=state, source=S.IMPLEMENT, target=S.REVIEW, permission=_agent)
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
