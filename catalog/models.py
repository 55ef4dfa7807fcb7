"""The shared service catalog and CMDB: services and configuration items with their dependency graph, and the
orderable catalog items with their forms, approval policy, fulfilment task template and published versions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.enums import ICON_HELP, Availability, VariableType
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


class CatalogCategory(models.Model):
    """A heading of the catalog in the portal (Hardware, Software, Access ...)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    icon = models.CharField(_("icon"), max_length=20, blank=True, help_text=ICON_HELP)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("catalog category")
        verbose_name_plural = _("catalog categories")

    def __str__(self) -> str:
        return self.name


class CatalogItem(models.Model):
    """Something end users can order: its form, approval policy, fulfilment tasks and SLA (through its service).

    Admins edit the item as one unit; every save that changes what an order would get publishes a new version
    (see catalog.services.catalog_item_publish), and requests keep the version they were ordered from.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    category = models.ForeignKey(
        CatalogCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalog_items",
        help_text=_("Requests for this item belong to this service; its SLA definitions apply to them."),
    )
    icon = models.CharField(_("icon"), max_length=20, blank=True, help_text=ICON_HELP)
    short_description = models.CharField(_("short description"), max_length=200)
    description = models.TextField(_("long description"), blank=True)
    availability = models.CharField(
        _("available to"), max_length=10, choices=Availability.choices, default=Availability.EVERYONE
    )
    groups = models.ManyToManyField(
        "auth.Group",
        verbose_name=_("groups"),
        blank=True,
        related_name="+",
        help_text=_("With 'members of chosen groups': who may see and order the item."),
    )
    approval_policy = models.ForeignKey(
        "itsm.ApprovalPolicy",
        verbose_name=_("approval policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"practice": "requested_item"},
        help_text=_("Empty: no approval. The policy's stages say who approves (requester's manager, a team ...)."),
    )
    fulfilment_group = models.ForeignKey(
        Team,
        verbose_name=_("fulfilment group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The team of the requested item, and of tasks whose template names none."),
    )
    tasks_in_parallel = models.BooleanField(
        _("tasks in parallel"),
        default=False,
        help_text=_("Create every fulfilment task at once; otherwise each task starts when the one before closes."),
    )
    max_quantity = models.PositiveSmallIntegerField(_("largest quantity per order"), default=1)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["category__order", "order", "name"]
        verbose_name = _("catalog item")
        verbose_name_plural = _("catalog items")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.approval_policy_id and self.approval_policy.practice != "requested_item":
            raise ValidationError({"approval_policy": _("Choose a policy of the 'Requested item' practice.")})
        if self.max_quantity < 1:
            raise ValidationError({"max_quantity": _("At least 1.")})


class CatalogVariable(models.Model):
    """One question on a catalog item's form: its type, whether it is required, its validation and show-when rule."""

    item = models.ForeignKey(CatalogItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="variables")
    name = models.SlugField(
        _("name"), max_length=50, help_text=_("The key in the API and in the stored answers (letters, digits, _).")
    )
    label = models.CharField(_("question"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=VariableType.choices, default=VariableType.TEXT)
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For choice and multiple choice: one option per line.")
    )
    default = models.CharField(_("default"), max_length=200, blank=True)
    min_value = models.DecimalField(_("minimum"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_length = models.PositiveIntegerField(_("longest answer (characters)"), null=True, blank=True)
    pattern = models.CharField(
        _("pattern"), max_length=200, blank=True, help_text=_("For text: a regular expression the answer must match.")
    )
    pattern_message = models.CharField(_("message when the pattern fails"), max_length=200, blank=True)
    show_when_variable = models.SlugField(
        _("show when question"), max_length=50, blank=True, help_text=_("Show only when this other question ...")
    )
    show_when_value = models.CharField(
        _("has the answer"), max_length=200, blank=True, help_text=_("... has this answer (for yes/no: yes or no).")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "name"], name="catalog_variable_unique_name")]
        verbose_name = _("variable")
        verbose_name_plural = _("variables")

    def __str__(self) -> str:
        return f"{self.item}: {self.label}"

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        import re

        errors = {}
        if self.type in (VariableType.CHOICE, VariableType.MULTIPLE_CHOICE) and not self.choice_list():
            errors["choices"] = _("List at least one option.")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as error:
                errors["pattern"] = _("Not a valid regular expression: %s") % error
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            errors["max_value"] = _("The maximum is below the minimum.")
        if self.show_when_variable and self.show_when_variable == self.name:
            errors["show_when_variable"] = _("A question cannot depend on itself.")
        if errors:
            raise ValidationError(errors)


class FulfilmentTaskTemplate(models.Model):
    """One task created to fulfil a requested item: its team and instructions, in order."""

    item = models.ForeignKey(
        CatalogItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="task_templates"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    short_description = models.CharField(_("task"), max_length=160)
    instructions = models.TextField(_("instructions"), blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["item", "order", "id"]
        verbose_name = _("fulfilment task")
        verbose_name_plural = _("fulfilment task template")

    def __str__(self) -> str:
        return self.short_description


class CatalogItemVersion(models.Model):
    """A published, frozen definition of a catalog item: what an order placed while it was current received."""

    item = models.ForeignKey(CatalogItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["item", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="catalog_item_version_unique")]
        verbose_name = _("catalog item version")
        verbose_name_plural = _("catalog item versions")

    def __str__(self) -> str:
        return f"{self.item} v{self.number}"
