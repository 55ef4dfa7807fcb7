"""Admin for changes, change tasks, blackout and maintenance windows, standard-change templates and the risk
questionnaire.

State is read-only here: saving a change goes through its create / update service, and the transitions are admin
actions that call the services, so admin writes are journaled like any other. Changes are never deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changes.models import (
    WEEKDAY_NAMES,
    Change,
    ChangeConflict,
    ChangeRiskAnswer,
    ChangeTask,
    ChangeTemplate,
    ChangeWindow,
    RiskAnswerOption,
    RiskQuestion,
    RiskThreshold,
)
from changes.services import (
    CHANGE_TASK_UPDATABLE_FIELDS,
    CHANGE_UPDATABLE_FIELDS,
    change_assess,
    change_cancel,
    change_conflicts_refresh_planned,
    change_create,
    change_implement,
    change_request_approval,
    change_revert_to_new,
    change_schedule,
    change_task_cancel,
    change_task_close,
    change_task_create,
    change_task_start,
    change_task_update,
    change_update,
)
from itsm.admin import JournalEntryInline, ReadOnlyAdminMixin, TicketAdmin
from itsm.models import Approval
from slas.admin import SLAClockInline


class _ReadOnlyInline(admin.TabularInline):
    """Rows the services write: shown, never added, changed or deleted here."""

    extra = 0
    can_delete = False
    related: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


class ApprovalInline(_ReadOnlyInline):
    """The change's approvals, read-only (approvers decide in the workspace, by API or from the approvals list)."""

    model = Approval
    fk_name = "ticket"
    fields = ("stage", "approver", "state", "comment", "requested_at", "decided_at")
    verbose_name_plural = _("approvals")
    related = ("approver",)


class RiskAnswerInline(_ReadOnlyInline):
    """The risk questionnaire's answers, read-only (answered through the API or the workspace)."""

    model = ChangeRiskAnswer
    fields = ("question", "option", "score")
    related = ("question", "option")


class ConflictInline(_ReadOnlyInline):
    """The change's conflicts, read-only (recomputed by the services whenever its plan changes)."""

    model = ChangeConflict
    fk_name = "change"
    fields = ("kind", "reason", "other_change", "window", "configuration_item", "detected_at")
    verbose_name_plural = _("conflicts")
    related = ("other_change", "window", "configuration_item")


class ChangeTaskInline(_ReadOnlyInline):
    """The change's tasks, read-only (added and worked on their own page)."""

    model = ChangeTask
    fk_name = "change"
    fields = ("number", "short_description", "state", "assignment_group", "assigned_to")
    verbose_name_plural = _("change tasks")
    related = ("assignment_group", "assigned_to")


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
    inlines = (ConflictInline, ApprovalInline, ChangeTaskInline, RiskAnswerInline, SLAClockInline, JournalEntryInline)
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


@admin.register(ChangeTask)
class ChangeTaskAdmin(TicketAdmin):
    list_display = ("number", "short_description", "change", "state", "assignment_group", "assigned_to", "opened_at")
    list_filter = ("state", "assignment_group")
    search_fields = ("number", "short_description", "change__number")
    list_select_related = ("change", "assignment_group", "assigned_to")
    ordering = ("-opened_at",)
    autocomplete_fields = ("change", "assignment_group", "assigned_to")
    readonly_fields = ("number", "state", "state_category", "opened_by", "close_notes", "opened_at", "closed_at")
    fieldsets = (
        (None, {"fields": ("number", "change", "state", "short_description", "description")}),
        (_("Assignment"), {"fields": ("opened_by", "assignment_group", "assigned_to")}),
        (_("Closure"), {"fields": ("state_category", "close_notes", "opened_at", "closed_at")}),
    )
    inlines = (SLAClockInline, JournalEntryInline)
    actions = ("start_selected", "close_selected", "cancel_selected")
    updatable_fields = CHANGE_TASK_UPDATABLE_FIELDS
    create_fields = ("change",)

    def create(self, request, data):
        return change_task_create(by=request.user, **data)

    def update(self, request, current, changes):
        return change_task_update(task=current, by=request.user, **changes)

    def _task_action(self, request, queryset, label, service, **kwargs) -> None:
        self._run_service(
            request, queryset, done_label=label, call=lambda t: service(task=t, by=request.user, **kwargs)
        )

    @admin.action(description=_("Start work"), permissions=["change"])
    def start_selected(self, request, queryset) -> None:
        self._task_action(request, queryset, _("Started"), change_task_start)

    @admin.action(description=_("Close as completed"), permissions=["change"])
    def close_selected(self, request, queryset) -> None:
        self._task_action(
            request, queryset, _("Closed"), change_task_close, close_notes="Completed (closed from admin)."
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset) -> None:
        self._task_action(request, queryset, _("Canceled"), change_task_cancel, reason="Canceled from admin.")


class ChangeWindowForm(forms.ModelForm):
    """Weekdays as checkboxes (stored as '1,2,...')."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("weekdays"),
        choices=[(str(day), name) for day, name in WEEKDAY_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Weekly windows."),
    )

    class Meta:
        model = ChangeWindow
        fields = [
            "kind",
            "name",
            "description",
            "active",
            "recurrence",
            "start",
            "end",
            "weekdays",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "time_zone",
            "configuration_items",
            "services",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.weekdays:
            self.initial["weekdays"] = [day.strip() for day in self.instance.weekdays.split(",")]

    def clean_weekdays(self) -> str:
        return ",".join(sorted(self.cleaned_data.get("weekdays") or []))


@admin.register(ChangeWindow)
class ChangeWindowAdmin(admin.ModelAdmin):
    """Blackout and maintenance windows; saving one recomputes the conflicts of every planned change."""

    form = ChangeWindowForm
    list_display = ("name", "kind", "recurrence", "when", "active")
    list_filter = ("kind", "recurrence", "active")
    search_fields = ("name", "description")
    autocomplete_fields = ("configuration_items",)
    filter_horizontal = ("services",)
    fieldsets = (
        (None, {"fields": ("kind", "name", "description", "active", "recurrence")}),
        (_("One-off"), {"fields": ("start", "end")}),
        (_("Weekly"), {"fields": ("weekdays", "start_time", "end_time", "valid_from", "valid_until")}),
        (_("Where"), {"fields": ("time_zone", "configuration_items", "services")}),
    )

    @admin.display(description=_("when"))
    def when(self, obj: ChangeWindow) -> str:
        return obj.describe() if (obj.start and obj.end) or obj.weekdays else ""

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        change_conflicts_refresh_planned()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        change_conflicts_refresh_planned()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        change_conflicts_refresh_planned()


@admin.register(ChangeConflict)
class ChangeConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Conflicts are computed, never edited: a read-only list to find changes that clash."""

    list_display = ("change", "kind", "reason", "detected_at")
    list_filter = ("kind",)
    search_fields = ("change__number", "reason")
    list_select_related = ("change",)


@admin.register(RiskAnswerOption)
class RiskAnswerOptionAdmin(admin.ModelAdmin):
    """Answer options are usually edited inline on their question; listed here to compare scores across questions."""

    list_display = ("label", "question", "score", "order")
    list_filter = ("question",)
    search_fields = ("label", "question__text")
    list_select_related = ("question",)


@admin.register(ChangeRiskAnswer)
class ChangeRiskAnswerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Risk answers are given through the risk assessment service: read-only here."""

    list_display = ("change", "question", "option", "score")
    search_fields = ("change__number", "question__text")
    list_select_related = ("change", "question", "option")
