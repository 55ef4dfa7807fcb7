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
