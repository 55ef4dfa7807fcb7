"""Admin for the service catalog and the CMDB."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Max
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from catalog.models import (
    CatalogCategory,
    CatalogItem,
    CatalogItemVersion,
    CatalogVariable,
    ConfigurationItem,
    FulfilmentTaskTemplate,
    Service,
)
from catalog.services import catalog_item_publish


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_team", "criticality", "active")
    list_filter = ("criticality", "active", "owner_team")
    search_fields = ("name", "description")
    list_select_related = ("owner_team",)
    autocomplete_fields = ("owner_team",)


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "ci_type", "service", "owner_team", "active")
    list_filter = ("ci_type", "service", "owner_team", "active")
    search_fields = ("name", "description")
    list_select_related = ("service", "owner_team")
    autocomplete_fields = ("service", "owner_team")
    filter_horizontal = ("depends_on",)


class CatalogVariableFormSet(forms.BaseInlineFormSet):
    """Question names are unique within the item, and a show-when rule names another question of the same item."""

    def clean(self) -> None:
        super().clean()
        forms_kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        names = [f.cleaned_data.get("name") for f in forms_kept]
        seen = set()
        for form in forms_kept:
            name = form.cleaned_data.get("name")
            if name in seen:
                form.add_error("name", _("Another question of this item has this name."))
            seen.add(name)
            controller = form.cleaned_data.get("show_when_variable")
            if controller and controller not in names:
                form.add_error("show_when_variable", _("No question of this item is named '%s'.") % controller)
            if controller and not form.cleaned_data.get("show_when_value"):
                form.add_error("show_when_value", _("Say which answer shows this question."))


class CatalogVariableInline(admin.StackedInline):
    model = CatalogVariable
    formset = CatalogVariableFormSet
    extra = 0
    fieldsets = (
        (None, {"fields": (("order", "name", "type", "required"), ("label", "help_text"), "choices", "default")}),
        (
            _("Validation and show-when rule"),
            {
                "fields": (
                    ("min_value", "max_value", "max_length"),
                    ("pattern", "pattern_message"),
                    ("show_when_variable", "show_when_value"),
                ),
                "classes": ("collapse",),
            },
        ),
    )


class FulfilmentTaskTemplateInline(admin.TabularInline):
    model = FulfilmentTaskTemplate
    fields = ("order", "short_description", "team", "instructions")
    autocomplete_fields = ("team",)
    extra = 0


class CatalogItemVersionInline(admin.TabularInline):
    """Published versions, read-only: requests keep the version they were ordered from."""

    model = CatalogItemVersion
    fields = ("number", "published_at", "published_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CatalogCategory)
class CatalogCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "icon", "order", "active")
    list_editable = ("order", "active")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    """An item is edited as one unit (its form, tasks and policy); saving publishes a new version when anything an
    order would receive changed."""

    list_display = ("name", "category", "service", "availability", "approval_policy", "active", "current_version")
    list_filter = ("category", "availability", "active", "service")
    search_fields = ("name", "short_description", "description")
    list_select_related = ("category", "service", "approval_policy")
    autocomplete_fields = ("service", "fulfilment_group")
    filter_horizontal = ("groups",)
    fieldsets = (
        (None, {"fields": ("name", "category", "service", "icon", "short_description", "description", "active")}),
        (_("Who may order"), {"fields": ("availability", "groups", "max_quantity", "order")}),
        (_("Approval and fulfilment"), {"fields": ("approval_policy", "fulfilment_group", "tasks_in_parallel")}),
        (_("Service levels"), {"fields": ("applicable_sla_definitions",)}),
    )
    readonly_fields = ("applicable_sla_definitions",)
    inlines = (CatalogVariableInline, FulfilmentTaskTemplateInline, CatalogItemVersionInline)

    @admin.display(description=_("SLA definitions that apply"))
    def applicable_sla_definitions(self, obj: CatalogItem) -> str:
        """The active requested-item definitions whose catalog-item match takes this item: those naming it, and
        those naming none (any item; their other match fields still apply). Edited in the SLA definition admin."""
        from slas.models import SLADefinition

        if obj is None or obj.pk is None:
            return _("Save the item first.")
        definitions = (
            SLADefinition.objects.filter(practice="requested_item", active=True)
            .filter(models.Q(match_catalog_items=obj) | models.Q(match_catalog_items__isnull=True))
            .distinct()
            .order_by("order", "name")
        )
        own = set(obj.sla_definitions.values_list("pk", flat=True))
        rows = [
            (
                reverse("admin:slas_sladefinition_change", args=[d.pk]),
                d.name,
                _("this item") if d.pk in own else _("any item"),
            )
            for d in definitions
        ]
        if not rows:
            return _("None: requested items of this item get no SLA clock.")
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> ({})</li>', rows))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(latest_version=Max("versions__number"))

    @admin.display(description=_("version"), ordering="latest_version")
    def current_version(self, obj: CatalogItem) -> int | None:
        return obj.latest_version

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        item = form.instance
        before = item.versions.count()
        version = catalog_item_publish(item=item, by=request.user)
        if item.versions.count() > before:
            self.message_user(
                request, _("Published version %(number)d of %(item)s.") % {"number": version.number, "item": item}
            )
