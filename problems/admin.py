"""Admin for problems, problem tasks and knowledge articles.

State is read-only here: saving a problem or task goes through its create / update service, and the transitions are
admin actions that call the services, so admin writes are journaled like any other. Problems and tasks are never
deleted (their journal is the audit trail); they end by close or cancel.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from itsm.admin import JournalEntryInline, TicketAdmin
from problems.models import KnowledgeArticle, Problem, ProblemTask
from problems.services import (
    PROBLEM_TASK_UPDATABLE_FIELDS,
    PROBLEM_UPDATABLE_FIELDS,
    problem_analyze,
    problem_assess,
    problem_cancel,
    problem_close,
    problem_create,
    problem_mark_known_error,
    problem_task_assess,
    problem_task_close,
    problem_task_create,
    problem_task_start,
    problem_task_update,
    problem_update,
)
from slas.admin import SLAClockInline


class LinkedIncidentInline(admin.TabularInline):
    """The incidents linked to the problem, read-only (link them through the API or the workspace)."""

    model = Incident
    fk_name = "problem"
    fields = ("number", "short_description", "state", "hold_reason", "caller")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("linked incidents")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("caller", "hold_reason")


class ProblemTaskInline(admin.TabularInline):
    """The problem's tasks, read-only."""

    model = ProblemTask
    fk_name = "problem"
    fields = ("number", "short_description", "state", "assignment_group", "assigned_to")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("problem tasks")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignment_group", "assigned_to")


@admin.register(Problem)
class ProblemAdmin(TicketAdmin):
    list_display = (
        "number",
        "short_description",
        "state",
        "priority",
        "known_error",
        "assignment_group",
        "assigned_to",
        "opened_at",
    )
    list_filter = ("state", "priority", "known_error", "resolution_code", "assignment_group")
    search_fields = ("number", "short_description")
    list_select_related = ("assignment_group", "assigned_to")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at",)
    autocomplete_fields = ("assignment_group", "assigned_to", "service", "configuration_item")
    readonly_fields = (
        "number",
        "state",
        "priority",
        "state_category",
        "opened_by",
        "known_error",
        "resolution_code",
        "close_notes",
        "duplicate_of",
        "reopen_count",
        "opened_at",
        "resolved_at",
        "closed_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("number", "state", "priority", "short_description", "description")}),
        (_("Assignment"), {"fields": ("opened_by", "assignment_group", "assigned_to")}),
        (_("Classification"), {"fields": ("impact", "urgency", "service", "configuration_item")}),
        (_("Analysis"), {"fields": ("cause_notes", "workaround", "fix_notes", "known_error")}),
        (_("Resolution"), {"fields": ("state_category", "resolution_code", "close_notes", "duplicate_of")}),
        (_("Times"), {"fields": ("opened_at", "resolved_at", "closed_at", "updated_at", "reopen_count")}),
    )
    inlines = (LinkedIncidentInline, ProblemTaskInline, SLAClockInline, JournalEntryInline)
    actions = ("assess_selected", "analyze_selected", "mark_known_error_selected", "close_selected", "cancel_selected")
    updatable_fields = PROBLEM_UPDATABLE_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignment_group", "assigned_to", "duplicate_of")

    def create(self, request, data):
        # The analysis notes are not part of logging a problem; filled in on the add form, they follow as an update.
        notes = {name: data.pop(name) for name in ("cause_notes", "workaround", "fix_notes") if name in data}
        problem = problem_create(by=request.user, **data)
        notes = {name: value for name, value in notes.items() if value}
        return problem_update(problem=problem, by=request.user, **notes) if notes else problem

    def update(self, request, current, changes):
        return problem_update(problem=current, by=request.user, **changes)

    @admin.action(description=_("Assess"), permissions=["change"])
    def assess_selected(self, request, queryset) -> None:
        self._run_service(
            request, queryset, done_label=_("Assessing"), call=lambda p: problem_assess(problem=p, by=request.user)
        )

    @admin.action(description=_("Start root cause analysis"), permissions=["change"])
    def analyze_selected(self, request, queryset) -> None:
        self._run_service(
            request, queryset, done_label=_("Analysing"), call=lambda p: problem_analyze(problem=p, by=request.user)
        )

    @admin.action(description=_("Mark as known error (publish its article)"), permissions=["change"])
    def mark_known_error_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Marked as known errors"),
            call=lambda p: problem_mark_known_error(problem=p, by=request.user),
        )

    @admin.action(description=_("Close"), permissions=["change"])
    def close_selected(self, request, queryset) -> None:
        self._run_service(
            request, queryset, done_label=_("Closed"), call=lambda p: problem_close(problem=p, by=request.user)
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Canceled"),
            call=lambda p: problem_cancel(problem=p, by=request.user, reason="Canceled from admin"),
        )


@admin.register(ProblemTask)
class ProblemTaskAdmin(TicketAdmin):
    list_display = ("number", "short_description", "problem", "state", "assignment_group", "assigned_to", "opened_at")
    list_filter = ("state", "assignment_group")
    search_fields = ("number", "short_description", "problem__number")
    list_select_related = ("problem", "assignment_group", "assigned_to")
    ordering = ("-opened_at",)
    autocomplete_fields = ("problem", "assignment_group", "assigned_to")
    readonly_fields = (
        "number",
        "state",
        "state_category",
        "opened_by",
        "close_notes",
        "opened_at",
        "closed_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("number", "problem", "state", "short_description", "description")}),
        (_("Assignment"), {"fields": ("opened_by", "assignment_group", "assigned_to")}),
        (_("Closure"), {"fields": ("state_category", "close_notes", "opened_at", "closed_at", "updated_at")}),
    )
    inlines = (SLAClockInline, JournalEntryInline)
    actions = ("assess_selected", "start_selected", "close_selected")
    updatable_fields = PROBLEM_TASK_UPDATABLE_FIELDS
    create_fields = ("problem",)

    def create(self, request, data):
        return problem_task_create(by=request.user, **data)

    def update(self, request, current, changes):
        return problem_task_update(task=current, by=request.user, **changes)

    @admin.action(description=_("Assess"), permissions=["change"])
    def assess_selected(self, request, queryset) -> None:
        self._run_service(
            request, queryset, done_label=_("Assessing"), call=lambda t: problem_task_assess(task=t, by=request.user)
        )

    @admin.action(description=_("Start work"), permissions=["change"])
    def start_selected(self, request, queryset) -> None:
        self._run_service(
            request, queryset, done_label=_("Started"), call=lambda t: problem_task_start(task=t, by=request.user)
        )

    @admin.action(description=_("Close as completed"), permissions=["change"])
    def close_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Closed"),
            call=lambda t: problem_task_close(task=t, by=request.user, close_notes="Completed (closed from admin)."),
        )


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    """Articles are plain content: admins edit and (un)publish them; known errors are written from their problem."""

    list_display = ("title", "kind", "service", "configuration_item", "problem", "published", "updated_at")
    list_filter = ("kind", "published", "service")
    search_fields = ("title", "body", "problem__number", "configuration_item__name")
    list_select_related = ("service", "configuration_item", "problem")
    autocomplete_fields = ("service", "configuration_item", "problem")
    readonly_fields = ("created_at", "updated_at")
    actions = ("publish_selected", "unpublish_selected")

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish_selected(self, request, queryset) -> None:
        count = queryset.update(published=True)
        self.message_user(request, _("Published: %(count)d.") % {"count": count})

    @admin.action(description=_("Unpublish"), permissions=["change"])
    def unpublish_selected(self, request, queryset) -> None:
        count = queryset.update(published=False)
        self.message_user(request, _("Unpublished: %(count)d.") % {"count": count})
