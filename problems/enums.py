"""Problem and problem task states with their ServiceNow codes and state categories, and the resolution codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.enums import StateCategory


class ProblemState(models.TextChoices):
    """The problem life cycle."""

    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", _("Root Cause Analysis")
    FIX_IN_PROGRESS = "fix_in_progress", _("Fix in Progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


# ServiceNow's numeric state values, kept for integrations.
PROBLEM_STATE_CODES = {
    ProblemState.NEW: 101,
    ProblemState.ASSESS: 102,
    ProblemState.ROOT_CAUSE_ANALYSIS: 103,
    ProblemState.FIX_IN_PROGRESS: 104,
    ProblemState.RESOLVED: 106,
    ProblemState.CLOSED: 107,
    # ServiceNow has no Canceled state for problems (it closes them with resolution code "Canceled"); 108 is ours,
    # the next free code after Closed, so integrations can still tell a canceled problem by its number.
    ProblemState.CANCELED: 108,
}

PROBLEM_STATE_CATEGORIES = {
    ProblemState.NEW: StateCategory.NEW,
    ProblemState.ASSESS: StateCategory.ACTIVE,
    ProblemState.ROOT_CAUSE_ANALYSIS: StateCategory.ACTIVE,
    ProblemState.FIX_IN_PROGRESS: StateCategory.ACTIVE,
    ProblemState.RESOLVED: StateCategory.RESOLVED,
    ProblemState.CLOSED: StateCategory.CLOSED,
    ProblemState.CANCELED: StateCategory.CANCELLED,
}

OPEN_PROBLEM_STATES = (
    ProblemState.NEW,
    ProblemState.ASSESS,
    ProblemState.ROOT_CAUSE_ANALYSIS,
    ProblemState.FIX_IN_PROGRESS,
)


class ProblemResolutionCode(models.TextChoices):
    """How a problem was resolved; each code requires its own notes (see problems.services.problem_resolve)."""

    FIX_APPLIED = "fix_applied", _("Fix applied")
    RISK_ACCEPTED = "risk_accepted", _("Risk accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    CANCELED = "canceled", _("Canceled")


class ProblemTaskState(models.TextChoices):
    """The problem task life cycle."""

    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    WORK_IN_PROGRESS = "work_in_progress", _("Work in Progress")
    CLOSED = "closed", _("Closed")


PROBLEM_TASK_STATE_CODES = {
    ProblemTaskState.NEW: 151,
    ProblemTaskState.ASSESS: 152,
    ProblemTaskState.WORK_IN_PROGRESS: 154,
    ProblemTaskState.CLOSED: 157,
}

PROBLEM_TASK_STATE_CATEGORIES = {
    ProblemTaskState.NEW: StateCategory.NEW,
    ProblemTaskState.ASSESS: StateCategory.ACTIVE,
    ProblemTaskState.WORK_IN_PROGRESS: StateCategory.ACTIVE,
    ProblemTaskState.CLOSED: StateCategory.CLOSED,
}

OPEN_PROBLEM_TASK_STATES = (ProblemTaskState.NEW, ProblemTaskState.ASSESS, ProblemTaskState.WORK_IN_PROGRESS)


class KnowledgeArticleKind(models.TextChoices):
    """What a knowledge article is; known errors are published from problems."""

    KNOWN_ERROR = "known_error", _("Known error")


# The hold reason of incidents waiting for a problem, and the close code they get when the problem resolves them.
AWAITING_PROBLEM = "awaiting_problem"
RESOLVED_BY_PROBLEM = "resolved_by_problem"
