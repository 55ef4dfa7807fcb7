"""Incident states with their ServiceNow codes and state categories."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.enums import StateCategory


class IncidentState(models.TextChoices):
    """The incident life cycle."""

    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In Progress")
    ON_HOLD = "on_hold", _("On Hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


# ServiceNow's numeric state values, kept for integrations.
INCIDENT_STATE_CODES = {
    IncidentState.NEW: 1,
    IncidentState.IN_PROGRESS: 2,
    IncidentState.ON_HOLD: 3,
    IncidentState.RESOLVED: 6,
    IncidentState.CLOSED: 7,
    IncidentState.CANCELED: 8,
}

# On Hold's category depends on the hold reason (see HoldReason.category); this is the default.
INCIDENT_STATE_CATEGORIES = {
    IncidentState.NEW: StateCategory.NEW,
    IncidentState.IN_PROGRESS: StateCategory.ACTIVE,
    IncidentState.ON_HOLD: StateCategory.PENDING_THIRD_PARTY,
    IncidentState.RESOLVED: StateCategory.RESOLVED,
    IncidentState.CLOSED: StateCategory.CLOSED,
    IncidentState.CANCELED: StateCategory.CANCELLED,
}

OPEN_INCIDENT_STATES = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)

AWAITING_CALLER = "awaiting_caller"
