"""SLA engine enumerations."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MON = 0, _("Mon")
    TUE = 1, _("Tue")
    WED = 2, _("Wed")
    THU = 3, _("Thu")
    FRI = 4, _("Fri")
    SAT = 5, _("Sat")
    SUN = 6, _("Sun")


class SLAType(models.TextChoices):
    SLA = "sla", _("SLA")
    OLA = "ola", _("OLA")
    UC = "uc", _("Underpinning contract")


class SLATarget(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", _("Resolution")


class ScheduleSource(models.TextChoices):
    DEFINITION = "definition", _("The definition's schedule (24x7 when none)")
    SERVICE = "service", _("The ticket's service's schedule, else the definition's")
    CONFIGURATION_ITEM = "configuration_item", _("The ticket's CI's schedule, else the definition's")


class ClockStage(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STAGES = (ClockStage.IN_PROGRESS, ClockStage.PAUSED)


class SLAActionKind(models.TextChoices):
    NOTIFY_ASSIGNEE = "notify_assignee", _("Notify the assignee")
    NOTIFY_GROUP = "notify_group", _("Notify the assignment group")
    NOTIFY_GROUP_MANAGER = "notify_group_manager", _("Notify the group's manager")
    REASSIGN = "reassign", _("Reassign to a team")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority by one")


BREACH_PERCENT = 100
