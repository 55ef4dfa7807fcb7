"""Enumerations of the kernel: state categories, journal kinds, impact, urgency and priority."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StateCategory(models.TextChoices):
    """The fixed category every practice state belongs to; SLA conditions, queues and reports bind to these."""

    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    PENDING_THIRD_PARTY = "pending_third_party", _("Pending third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


INACTIVE_CATEGORIES = frozenset({StateCategory.CLOSED, StateCategory.CANCELLED})


class TicketKind(models.TextChoices):
    """Which practice a ticket belongs to; also its number prefix."""

    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    CHANGE = "change", _("Change")
    REQUEST = "request", _("Request")
    REQUESTED_ITEM = "requested_item", _("Requested item")
    TASK = "task", _("Fulfilment task")
    PROBLEM_TASK = "problem_task", _("Problem task")
    CHANGE_TASK = "change_task", _("Change task")


# The kinds a caller follows in the portal (their own incidents and requests); every other kind is agents' work,
# which end users never see, so they cannot watch it either.
CALLER_VISIBLE_KINDS = frozenset({TicketKind.INCIDENT, TicketKind.REQUEST, TicketKind.REQUESTED_ITEM})

NUMBER_PREFIXES = {
    TicketKind.INCIDENT: "INC",
    TicketKind.PROBLEM: "PRB",
    TicketKind.CHANGE: "CHG",
    TicketKind.REQUEST: "REQ",
    TicketKind.REQUESTED_ITEM: "RITM",
    TicketKind.TASK: "TASK",
    TicketKind.PROBLEM_TASK: "PTASK",
    TicketKind.CHANGE_TASK: "CTASK",
}


class Impact(models.IntegerChoices):
    """How widely the disruption is felt."""

    HIGH = 1, _("1 - High")
    MEDIUM = 2, _("2 - Medium")
    LOW = 3, _("3 - Low")


class Urgency(models.IntegerChoices):
    """How quickly the business needs it resolved."""

    HIGH = 1, _("1 - High")
    MEDIUM = 2, _("2 - Medium")
    LOW = 3, _("3 - Low")


class Priority(models.IntegerChoices):
    """Derived from impact and urgency through the priority matrix."""

    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MODERATE = 3, _("3 - Moderate")
    LOW = 4, _("4 - Low")


class JournalKind(models.TextChoices):
    """What a journal entry records."""

    COMMENT = "comment", _("Comment")
    WORK_NOTE = "work_note", _("Work note")
    FIELD_CHANGE = "field_change", _("Field change")
    TRANSITION = "transition", _("Transition")
    SLA = "sla", _("SLA milestone")


class OutboxStatus(models.TextChoices):
    """Delivery state of an outbound message."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Role(models.TextChoices):
    """Roles are Django groups with these names; permissions are granted to the group."""

    END_USER = "End users", _("End users")
    AGENT = "Agents", _("Agents")
    TEAM_MANAGER = "Team managers", _("Team managers")
    CHANGE_MANAGER = "Change managers", _("Change managers")
    ADMIN = "Admins", _("Admins")


class ApprovalState(models.TextChoices):
    """Where one approver's decision stands; skipped means no longer needed (its stage was met without it)."""

    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SKIPPED = "skipped", _("No longer required")


class ApproverSource(models.TextChoices):
    """Where a stage's approvers come from, resolved when the stage is requested."""

    USERS = "users", _("Named users")
    TEAM = "team", _("Members of a team")
    CI_OWNER_TEAM = "ci_owner_team", _("Members of the configuration item's owner team")
    REQUESTER_MANAGER = "requester_manager", _("Managers of the requester's teams")


class ApprovalRule(models.TextChoices):
    """How many of a stage's approvers must approve; any rejection rejects (ServiceNow's default)."""

    ANY = "any", _("Any one approver")
    ALL = "all", _("All approvers")
    N_OF_M = "n_of_m", _("N of the approvers")
