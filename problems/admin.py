"""Admin for problems, problem tasks and knowledge articles.

State is read-only here: saving a problem or task goes through its create / update service, and the transitions are
admin actions that call the services, so admin writes are journaled like any other. Problems and tasks are never
deleted (their journal is the audit trail); they end by close or cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.admin import (
    SERVICE_ERRORS,
    JournalEntryInline,
    SLAClockInline,
    _add_service_errors,
    _error_text,
    _ServiceRefused,
)
from incidents.models import Incident
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


class _ServiceAdmin(admin.ModelAdmin):
    """Saves through the create/update services, shows their refusals on the form, runs transitions as actions."""

    updatable_fields: tuple[str, ...] = ()
    create_fields: tuple[str, ...] = ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.active:
            return (*self.readonly_fields, *self.updatable_fields, *self.create_fields)
        if obj is not None:
            return (*self.readonly_fields, *self.create_fields)
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_problem_service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                _add_service_errors(self, refusal)
                return cleaned

        return RefusedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _ServiceRefused as refused:
            request._problem_service_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def create(self, request, data: dict[str, Any]):
        raise NotImplementedError

    def update(self, request, current, changes: dict[str, Any]):
        raise NotImplementedError

    def save_model(self, request, obj, form, change: bool) -> None:
        allowed = (*self.updatable_fields, *self.create_fields)
        data = {name: value for name, value in form.cleaned_data.items() if name in allowed}
        try:
            if change:
                current = type(obj).objects.get(pk=obj.pk)
                changes = {name: data[name] for name in form.changed_data if name in self.updatable_fields}
                saved = self.update(request, current, changes) if changes else current
            else:
                saved = self.create(request, data)
        except (ValidationError, PermissionDenied) as error:
            raise _ServiceRefused(error) from error
        obj.__dict__.update(saved.__dict__)

    def _run_service(self, request, queryset, *, done_label: str, call: Callable[[Any], Any]) -> None:
        done, skipped = 0, []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            record = queryset.model.objects.get(pk=pk)
            try:
                call(record)
            except SERVICE_ERRORS as error:
                skipped.append(f"{record.number} ({_error_text(error)})")
            else:
                done += 1
        if done:
            self.message_user(request, _("%(label)s: %(count)d.") % {"label": done_label, "count": done})
        if skipped:
            self.message_user(
                request,
                _("Skipped %(count)d: %(list)s") % {"count": len(skipped), "list": "; ".join(skipped)},
                messages.WARNING,
            )


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
class ProblemAdmin(_ServiceAdmin):
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
class ProblemTaskAdmin(_ServiceAdmin):
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
