"""Admin for changes, standard-change templates and the risk questionnaire.

State is read-only here: saving a change goes through its create / update service, and the transitions are admin
actions that call the services, so admin writes are journaled like any other. Changes are never deleted.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changes.models import Change, ChangeRiskAnswer, ChangeTemplate, RiskAnswerOption, RiskQuestion, RiskThreshold
from changes.services import (
    CHANGE_UPDATABLE_FIELDS,
    change_assess,
    change_cancel,
    change_create,
    change_implement,
    change_request_approval,
    change_revert_to_new,
    change_schedule,
    change_update,
)
from itsm.admin import JournalEntryInline, TicketAdmin
from itsm.models import Approval
from slas.admin import SLAClockInline


class ApprovalInline(admin.TabularInline):
    """The change's approvals, read-only (approvers decide in the workspace, by API or from the approvals list)."""

    model = Approval
    fk_name = "ticket"
    fields = ("stage", "approver", "state", "comment", "requested_at", "decided_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("approvals")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("approver")


class RiskAnswerInline(admin.TabularInline):
    """The risk questionnaire's answers, read-only (answered through the API or the workspace)."""

    model = ChangeRiskAnswer
    fields = ("question", "option", "score")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Change)
class ChangeAdmin(TicketAdmin):
    list_display = (
        "number",
        "short_description",
        "change_type",
        "state",
        "risk",
        "approval",
        "planned_start",
        "assignment_group",
        "assigned_to",
    )
    list_filter = ("state", "change_type", "risk", "approval", "close_code", "assignment_group")
    search_fields = ("number", "short_description")
    list_select_related = ("assignment_group", "assigned_to")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at",)
    autocomplete_fields = ("assignment_group", "assigned_to", "service", "configuration_item", "affected_cis")
    filter_horizontal = ("affected_services",)
    readonly_fields = (
        "number",
        "state",
        "priority",
        "state_category",
        "opened_by",
        "template",
        "approval",
        "risk",
        "risk_score",
        "risk_explanation",
        "close_code",
        "close_notes",
        "review_notes",
        "actual_start",
        "actual_end",
        "opened_at",
        "resolved_at",
        "closed_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {"fields": ("number", "change_type", "template", "state", "approval", "short_description", "description")},
        ),
        (_("Assignment"), {"fields": ("opened_by", "assignment_group", "assigned_to")}),
        (
            _("Scope"),
            {
                "fields": (
                    "impact",
                    "urgency",
                    "priority",
                    "service",
                    "configuration_item",
                    "affected_cis",
                    "affected_services",
                )
            },
        ),
        (
            _("Planning"),
            {
                "fields": (
                    "planned_start",
                    "planned_end",
                    "justification",
                    "implementation_plan",
                    "backout_plan",
                    "test_plan",
                )
            },
        ),
        (_("Risk"), {"fields": ("risk", "risk_score", "risk_explanation")}),
        (
            _("Closure"),
            {"fields": ("state_category", "close_code", "close_notes", "review_notes", "actual_start", "actual_end")},
        ),
        (_("Times"), {"fields": ("opened_at", "resolved_at", "closed_at", "updated_at")}),
    )
    inlines = (ApprovalInline, RiskAnswerInline, SLAClockInline, JournalEntryInline)
    actions = (
        "assess_selected",
        "request_approval_selected",
        "schedule_selected",
        "implement_selected",
        "revert_selected",
        "cancel_selected",
    )
    updatable_fields = CHANGE_UPDATABLE_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignment_group", "assigned_to", "template")

    def create(self, request, data):
        return change_create(by=request.user, **data)

    def update(self, request, current, changes):
        return change_update(change=current, by=request.user, **changes)

    def save_related(self, request, form, formsets, change) -> None:
        # The many-to-many fields went through the service in save_model; only the inlines remain (all read-only).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def _action(self, request, queryset, label, service, **kwargs) -> None:
        self._run_service(
            request, queryset, done_label=label, call=lambda c: service(change=c, by=request.user, **kwargs)
        )

    @admin.action(description=_("Assess (normal)"), permissions=["change"])
    def assess_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Assessing"), change_assess)

    @admin.action(description=_("Request approval"), permissions=["change"])
    def request_approval_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Approval requested"), change_request_approval)

    @admin.action(description=_("Schedule"), permissions=["change"])
    def schedule_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Scheduled"), change_schedule)

    @admin.action(description=_("Implement"), permissions=["change"])
    def implement_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Implementing"), change_implement)

    @admin.action(description=_("Revert to New"), permissions=["change"])
    def revert_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Reverted"), change_revert_to_new, reason="Reverted from admin")

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset) -> None:
        self._action(request, queryset, _("Canceled"), change_cancel, reason="Canceled from admin")


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "short_description", "assignment_group", "active")
    list_filter = ("active", "assignment_group")
    search_fields = ("name", "short_description")
    list_select_related = ("assignment_group",)
    autocomplete_fields = ("assignment_group", "service", "configuration_item")


class RiskAnswerOptionInline(admin.TabularInline):
    model = RiskAnswerOption
    fields = ("label", "score", "order")
    extra = 1


@admin.register(RiskQuestion)
class RiskQuestionAdmin(admin.ModelAdmin):
    list_display = ("text", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("text",)
    inlines = (RiskAnswerOptionInline,)


@admin.register(RiskThreshold)
class RiskThresholdAdmin(admin.ModelAdmin):
    list_display = ("risk", "min_score")
    list_editable = ("min_score",)
    list_display_links = ("risk",)
