"""Admin for automation: categories, presence, team routing, assignment rules and triggers (with a dry run)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from automation.models import AssignmentRule, TeamRouting, Trigger, TriggerRun, UserProfile
from itsm.models import Category


class SubcategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ["name", "order", "active"]
    extra = 0
    verbose_name = _("subcategory")
    verbose_name_plural = _("subcategories")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "practice", "parent", "order", "active"]
    list_filter = ["practice", "active", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "parent__name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [SubcategoryInline]

    def save_formset(self, request, form, formset, change):
        # Subcategories take their parent's practice.
        for subcategory in formset.save(commit=False):
            subcategory.practice = form.instance.practice
            subcategory.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "location", "away_until"]
    search_fields = ["user__username", "location"]
    autocomplete_fields = ["user"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "last_assigned"]
    list_select_related = ["team", "last_assigned"]
    autocomplete_fields = ["team"]


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "practice", "active", "set_category", "set_assignment_group", "set_priority"]
    list_editable = ["order", "active"]
    list_filter = ["practice", "active"]
    list_select_related = ["set_category", "set_assignment_group"]
    search_fields = ["name"]
    autocomplete_fields = ["set_category", "set_subcategory", "set_assignment_group", "set_assigned_to"]
    fieldsets = [
        (None, {"fields": ["name", "practice", "order", "active", "stop", "conditions"]}),
        (
            _("Actions"),
            {
                "fields": [
                    "set_category",
                    "set_subcategory",
                    "set_assignment_group",
                    "set_assigned_to",
                    "set_priority",
                    "priority_reason",
                    "work_note",
                ]
            },
        ),
    ]


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "order", "practice", "active", "transition", "notify"]
    list_editable = ["order", "active"]
    list_filter = ["event", "practice", "active"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "event", "practice", "order", "active", "conditions"]}),
        (_("Actions"), {"fields": ["set_fields", "transition", "transition_input", "notify", "message", "work_note"]}),
    ]


@admin.register(TriggerRun)
class TriggerRunAdmin(admin.ModelAdmin):
    list_display = ["trigger", "ticket", "event_key", "fired_at"]
    list_select_related = ["trigger", "ticket"]
    list_filter = ["trigger"]
    readonly_fields = ["trigger", "ticket", "event_key", "fired_at", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
