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
