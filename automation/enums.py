"""Choices of the automation app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingMode(models.TextChoices):
    """How a team hands a new unassigned ticket to one of its members."""

    MANUAL = "manual", _("Manual (leave unassigned)")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_OPEN = "least_open", _("Least open work")


class TriggerEvent(models.TextChoices):
    """The ticket events a trigger listens to."""

    CREATED = "created", _("Created")
    UPDATED = "updated", _("Fields updated")
    STATE_CHANGED = "state_changed", _("State changed")
    CALLER_COMMENTED = "caller_commented", _("Comment from the caller")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")


class NotifyWhom(models.TextChoices):
    """Who a trigger notifies through the kernel outbox."""

    NOBODY = "", _("Nobody")
    ASSIGNEE = "assignee", _("The assignee")
    GROUP = "group", _("The assignment group's members")
    GROUP_MANAGER = "group_manager", _("The assignment group's manager")
    CALLER = "caller", _("The caller")


class InitiativeState(models.TextChoices):
    """Where an improvement initiative stands."""

    IDENTIFIED = "identified", _("Identified")
    APPROVED = "approved", _("Approved")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    ABANDONED = "abandoned", _("Abandoned")


class InitiativeMetric(models.TextChoices):
    """The monthly figure an initiative means to move (see automation.trends)."""

    VOLUME = "volume", _("Tickets opened")
    MTTR = "mttr_hours", _("Mean time to resolve (hours)")
    FIRST_CONTACT = "first_contact_rate", _("First-contact resolution (%)")
    REOPEN = "reopen_rate", _("Reopen rate (%)")
    SLA = "sla_compliance", _("SLA compliance (%)")
    BACKLOG_AGE = "backlog_age_days", _("Average backlog age (days)")
