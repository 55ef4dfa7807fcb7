"""Change states with their ServiceNow codes and state categories, change types, risk, approval status and close
codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.enums import StateCategory


class ChangeType(models.TextChoices):
    """Standard changes are pre-approved templates; emergency changes skip Assess but must pass Authorize."""

    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class ChangeState(models.TextChoices):
    """The change life cycle."""

    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    AUTHORIZE = "authorize", _("Authorize")
    SCHEDULED = "scheduled", _("Scheduled")
    IMPLEMENT = "implement", _("Implement")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


# ServiceNow's numeric state values, kept for integrations.
CHANGE_STATE_CODES = {
    ChangeState.NEW: -5,
    ChangeState.ASSESS: -4,
    ChangeState.AUTHORIZE: -3,
    ChangeState.SCHEDULED: -2,
    ChangeState.IMPLEMENT: -1,
    ChangeState.REVIEW: 0,
    ChangeState.CLOSED: 3,
    ChangeState.CANCELED: 4,
}

# Assess, Authorize and Scheduled are "active": the change is being worked by the desk and the CAB (no customer or
# third party is awaited, so no pending category); Review counts as resolved, the work being done.
CHANGE_STATE_CATEGORIES = {
    ChangeState.NEW: StateCategory.NEW,
    ChangeState.ASSESS: StateCategory.ACTIVE,
    ChangeState.AUTHORIZE: StateCategory.ACTIVE,
    ChangeState.SCHEDULED: StateCategory.ACTIVE,
    ChangeState.IMPLEMENT: StateCategory.ACTIVE,
    ChangeState.REVIEW: StateCategory.RESOLVED,
    ChangeState.CLOSED: StateCategory.CLOSED,
    ChangeState.CANCELED: StateCategory.CANCELLED,
}

CANCELABLE_CHANGE_STATES = (
    ChangeState.NEW,
    ChangeState.ASSESS,
    ChangeState.AUTHORIZE,
    ChangeState.SCHEDULED,
    ChangeState.IMPLEMENT,
)


class ChangeRisk(models.TextChoices):
    """The risk a change carries, computed from the risk questionnaire."""

    VERY_HIGH = "very_high", _("Very High")
    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")


class ChangeApproval(models.TextChoices):
    """Where the change's approval stands (ServiceNow's `approval` field)."""

    NOT_REQUESTED = "not_requested", _("Not yet requested")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ChangeCloseCode(models.TextChoices):
    """How the implementation went, recorded when the change moves to Review."""

    SUCCESSFUL = "successful", _("Successful")
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", _("Successful with issues")
    UNSUCCESSFUL = "unsuccessful", _("Unsuccessful")


# Changes whose work is still ahead or under way: they take part in conflict detection and the calendar.
PLANNED_CHANGE_STATES = CANCELABLE_CHANGE_STATES


class ChangeWindowKind(models.TextChoices):
    """A blackout forbids changes in its time; a maintenance window is when its CIs may be changed."""

    BLACKOUT = "blackout", _("Blackout")
    MAINTENANCE = "maintenance", _("Maintenance")


class ChangeWindowRecurrence(models.TextChoices):
    """A window happens once (a date-time range) or every week on some weekdays."""

    ONCE = "once", _("Once")
    WEEKLY = "weekly", _("Weekly")


class ChangeConflictKind(models.TextChoices):
    """Why a change conflicts."""

    SAME_CI = "same_ci", _("Another change on the same CI")
    DEPENDENCY = "dependency", _("Another change on a dependent or depended-on CI")
    BLACKOUT = "blackout", _("Inside a blackout window")
    MAINTENANCE = "maintenance", _("Outside the CI's maintenance window")
    ASSIGNEE = "assignee", _("Assignee booked on an overlapping change")


class ChangeTaskState(models.TextChoices):
    """The change task life cycle (like problem tasks)."""

    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    WORK_IN_PROGRESS = "work_in_progress", _("Work in Progress")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


# ServiceNow's change_task states: Open(1), Pending(-5), In Progress(2), Closed(3), Canceled(4); ours follow the
# problem tasks' names and keep numbers of the same family.
CHANGE_TASK_STATE_CODES = {
    ChangeTaskState.NEW: 1,
    ChangeTaskState.ASSESS: -5,
    ChangeTaskState.WORK_IN_PROGRESS: 2,
    ChangeTaskState.CLOSED: 3,
    ChangeTaskState.CANCELED: 4,
}

CHANGE_TASK_STATE_CATEGORIES = {
    ChangeTaskState.NEW: StateCategory.NEW,
    ChangeTaskState.ASSESS: StateCategory.ACTIVE,
    ChangeTaskState.WORK_IN_PROGRESS: StateCategory.ACTIVE,
    ChangeTaskState.CLOSED: StateCategory.CLOSED,
    ChangeTaskState.CANCELED: StateCategory.CANCELLED,
}

OPEN_CHANGE_TASK_STATES = (ChangeTaskState.NEW, ChangeTaskState.ASSESS, ChangeTaskState.WORK_IN_PROGRESS)
