"""The problem record and its state machine, problem tasks, and known-error knowledge articles."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by

from itsm.enums import TicketKind
from itsm.models import Ticket
from itsm.rules import is_agent
from problems.enums import (
    OPEN_PROBLEM_STATES,
    OPEN_PROBLEM_TASK_STATES,
    PROBLEM_STATE_CATEGORIES,
    PROBLEM_STATE_CODES,
    PROBLEM_TASK_STATE_CATEGORIES,
    PROBLEM_TASK_STATE_CODES,
    KnowledgeArticleKind,
    ProblemResolutionCode,
    ProblemState,
    ProblemTaskState,
)

S = ProblemState
T = ProblemTaskState


def _agent(instance: models.Model, user) -> bool:
    return is_agent(user)


class Problem(ConcurrentTransitionMixin, Ticket):
    """The unknown underlying cause of one or more incidents, worked until it is fixed, accepted or dismissed."""

    KIND = TicketKind.PROBLEM
    STATE_CATEGORIES = PROBLEM_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_problem")
    state = FSMField(_("state"), default=S.NEW, choices=S.choices, protected=True, db_index=True)
    cause_notes = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    fix_notes = models.TextField(_("fix notes"), blank=True)
    close_notes = models.TextField(_("close notes"), blank=True)
    resolution_code = models.CharField(
        _("resolution code"), max_length=20, choices=ProblemResolutionCode.choices, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    known_error = models.BooleanField(_("known error"), default=False, db_index=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopen count"), default=0, editable=False)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        permissions = [("work_problem", "Can work problems (agent)")]

    @property
    def state_code(self) -> int:
        return PROBLEM_STATE_CODES[self.state]

    # --- transitions: they change fields on self and nothing else -------------------------------------------

    @fsm_log_by
    @transition(field=state, source=S.NEW, target=S.ASSESS, permission=_agent)
    def assess(self, *, by=None) -> None:
        """Triage: is it a real problem, how big, who owns it."""

    @fsm_log_by
    @transition(field=state, source=S.ASSESS, target=S.ROOT_CAUSE_ANALYSIS, permission=_agent)
    def analyze(self, *, by=None) -> None:
        """Look for the root cause."""

    @fsm_log_by
    @transition(field=state, source=S.ROOT_CAUSE_ANALYSIS, target=S.FIX_IN_PROGRESS, permission=_agent)
    def fix(self, *, cause_notes: str = "", by=None) -> None:
        """The root cause is known; the fix is being built."""
        if cause_notes:
            self.cause_notes = cause_notes

    @fsm_log_by
    @transition(field=state, source=list(OPEN_PROBLEM_STATES), target=S.RESOLVED, permission=_agent)
    def resolve(
        self,
        *,
        resolution_code: str,
        cause_notes: str = "",
        fix_notes: str = "",
        close_notes: str = "",
        duplicate_of: Problem | None = None,
        by=None,
    ) -> None:
        """Fixed, risk accepted, a duplicate or not worth pursuing; the notes the code requires are checked first."""
        self.resolution_code = resolution_code
        if cause_notes:
            self.cause_notes = cause_notes
        if fix_notes:
            self.fix_notes = fix_notes
        if close_notes:
            self.close_notes = close_notes
        self.duplicate_of = duplicate_of if resolution_code == ProblemResolutionCode.DUPLICATE else None
        self.resolved_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=S.RESOLVED, target=S.ROOT_CAUSE_ANALYSIS, permission=_agent)
    def reopen(self, *, by=None) -> None:
        """The fix did not hold, or the resolution was wrong: back to root cause analysis."""
        self.resolution_code = ""
        self.duplicate_of = None
        self.resolved_at = None
        self.reopen_count += 1

    @fsm_log_by
    @transition(field=state, source=S.RESOLVED, target=S.CLOSED, permission=_agent)
    def close(self, *, by=None) -> None:
        """The resolution is confirmed."""
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=list(OPEN_PROBLEM_STATES), target=S.CANCELED, permission=_agent)
    def cancel(self, *, by=None) -> None:
        """Raised in error; no further work."""
        self.closed_at = timezone.now()


class ProblemTask(ConcurrentTransitionMixin, Ticket):
    """A piece of investigation or fix work on a problem, assigned to a team."""

    KIND = TicketKind.PROBLEM_TASK
    STATE_CATEGORIES = PROBLEM_TASK_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(
        Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_problem_task"
    )
    state = FSMField(_("state"), default=T.NEW, choices=T.choices, protected=True, db_index=True)
    problem = models.ForeignKey(Problem, verbose_name=_("problem"), on_delete=models.PROTECT, related_name="tasks")
    close_notes = models.TextField(_("close notes"), blank=True)

    class Meta:
        verbose_name = _("problem task")
        verbose_name_plural = _("problem tasks")

    @property
    def state_code(self) -> int:
        return PROBLEM_TASK_STATE_CODES[self.state]

    @fsm_log_by
    @transition(field=state, source=T.NEW, target=T.ASSESS, permission=_agent)
    def assess(self, *, by=None) -> None:
        """The team looks at what the task needs."""

    @fsm_log_by
    @transition(field=state, source=[T.NEW, T.ASSESS], target=T.WORK_IN_PROGRESS, permission=_agent)
    def start(self, *, by=None) -> None:
        """Work begins (a simple task may skip assessment)."""

    @fsm_log_by
    @transition(field=state, source=list(OPEN_PROBLEM_TASK_STATES), target=T.CLOSED, permission=_agent)
    def close(self, *, close_notes: str, by=None) -> None:
        """Done, or no longer needed; the close notes say which."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()


class KnowledgeArticle(models.Model):
    """A knowledge-base article; known errors are written from their problem and found by service and CI."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=KnowledgeArticleKind.choices, default=KnowledgeArticleKind.KNOWN_ERROR
    )
    service = models.ForeignKey(
        "catalog.Service",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="knowledge_articles",
    )
    configuration_item = models.ForeignKey(
        "catalog.ConfigurationItem",
        verbose_name=_("configuration item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="knowledge_articles",
    )
    problem = models.ForeignKey(
        Problem,
        verbose_name=_("problem"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="knowledge_articles",
    )
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        constraints = [
            # One known-error article per problem: marking the problem again updates it.
            models.UniqueConstraint(
                fields=["problem", "kind"], condition=models.Q(problem__isnull=False), name="kb_one_per_problem_kind"
            )
        ]
        indexes = [
            models.Index(fields=["configuration_item", "published"], name="kb_ci_published"),
            models.Index(fields=["service", "published"], name="kb_service_published"),
        ]

    def __str__(self) -> str:
        return self.title
