"""Enumerations of the service catalog: variable types and item availability."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VariableType(models.TextChoices):
    """The type of one question on a catalog item's form; decides its widget and its validation."""

    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    YES_NO = "yes_no", _("Yes / no")
    USER = "user", _("User reference")
    CI = "ci", _("Configuration item reference")
    ATTACHMENT = "attachment", _("Attachment")


class Availability(models.TextChoices):
    """Who may order a catalog item."""

    EVERYONE = "everyone", _("Everyone")
    GROUPS = "groups", _("Members of chosen groups")


# The portal draws these icons from its own SVG sprite (portal/static/portal/icons.svg); anything else is shown as text.
ICON_NAMES = (
    "laptop",
    "monitor",
    "phone",
    "key",
    "software",
    "cloud",
    "printer",
    "user-plus",
    "users",
    "lock",
    "mail",
    "wifi",
    "headset",
    "box",
    "book",
    "shield",
    "building",
    "chart",
    "tool",
    "database",
    "search",
)
ICON_HELP = _("One of: %s (or an emoji).") % ", ".join(ICON_NAMES)
