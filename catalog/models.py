"""The shared service catalog and CMDB: services and configuration items with their dependency graph."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.models import Team


class Criticality(models.IntegerChoices):
    """How much the business depends on a service."""

    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MEDIUM = 3, _("3 - Medium")
    LOW = 4, _("4 - Low")


class Service(models.Model):
    """A business or technical service the desk supports, owned by a team."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    owner_team = models.ForeignKey(
        Team, verbose_name=_("owner team"), null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    criticality = models.PositiveSmallIntegerField(_("criticality"), choices=Criticality.choices, default=3)
    schedule = models.ForeignKey(
        "slas.Schedule",
        verbose_name=_("support hours"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Used by SLA definitions whose schedule comes from the service."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class CIType(models.TextChoices):
    """The kind of configuration item."""

    APPLICATION = "application", _("Application")
    SERVER = "server", _("Server")
    DATABASE = "database", _("Database")
    NETWORK = "network", _("Network device")
    STORAGE = "storage", _("Storage")
    WORKSTATION = "workstation", _("Workstation")
    OTHER = "other", _("Other")


class ConfigurationItem(models.Model):
    """A configuration item in the CMDB; `depends_on` links form the dependency graph."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    ci_type = models.CharField(_("type"), max_length=20, choices=CIType.choices, default=CIType.OTHER)
    description = models.TextField(_("description"), blank=True)
    owner_team = models.ForeignKey(
        Team, verbose_name=_("owner team"), null=True, blank=True, on_delete=models.PROTECT, related_name="cis"
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="cis"
    )
    schedule = models.ForeignKey(
        "slas.Schedule",
        verbose_name=_("support hours"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Used by SLA definitions whose schedule comes from the CI."),
    )
    depends_on = models.ManyToManyField(
        "self", verbose_name=_("depends on"), symmetrical=False, blank=True, related_name="dependents"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")

    def __str__(self) -> str:
        return self.name
