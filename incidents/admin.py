"""Admin for incidents, hold reasons and close codes.

State is read-only here: saving an incident goes through incident_create / incident_update, and the transitions are
admin actions that call the services, so admin writes are journaled and notified like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents.models import CloseCode, HoldReason, Incident
from incidents.services import (
    UPDATABLE_FIELDS,
    incident_cancel,
    incident_close,
    incident_create,
    incident_resolve,
    incident_start,
    incident_update,
)
from itsm.models import JournalEntry
from slas.models import SLAClock

# What a service may refuse with; each becomes a form error or a "skipped" line, never a 500.
SERVICE_ERRORS = (TransitionNotAllowed, ConcurrentTransition, PermissionDenied, ValidationError)


class _ServiceRefused(Exception):
    """Raised out of save_model so that changeform_view can show the service's refusal on the form."""

    def __init__(self, error: ValidationError | PermissionDenied) -> None:
        super().__init__(str(error))
        self.error = error


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
        return " ".join(error.messages)
    return str(error) or error.__class__.__name__


def _add_service_errors(form, error: ValidationError | PermissionDenied) -> None:
    """Put a service's refusal on the admin form: on the named field when the form has it, otherwise on top."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, msgs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, _error_text(error))


class HoldReasonOrCloseCodeAdmin(admin.ModelAdmin):
    """Slugs are referenced by code (awaiting_caller, solution_provided), so they are fixed once created."""

    search_fields = ("name", "slug")
    list_editable = ("active", "order")

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if obj is None else {}


@admin.register(HoldReason)
class HoldReasonAdmin(HoldReasonOrCloseCodeAdmin):
    list_display = ("name", "slug", "category", "active", "order")
    list_filter = ("category", "active")


@admin.register(CloseCode)
class CloseCodeAdmin(HoldReasonOrCloseCodeAdmin):
    list_display = ("name", "slug", "active", "order")
    list_filter = ("active",)


class SLAClockInline(admin.TabularInline):
    """The ticket's SLA clocks, read-only (the engine keeps them)."""

    model = SLAClock
    fk_name = "ticket"
    fields = (
        "definition",
        "stage",
        "has_breached",
        "started_at",
        "due_at",
        "stopped_at",
        "business_elapsed",
        "pause_total",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("SLA clocks")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class JournalEntryInline(admin.TabularInline):
    """The ticket's journal, read-only; JournalEntry points at the Ticket parent, which Incident inherits from."""

    model = JournalEntry
    fk_name = "ticket"
    fields = (
        "created_at",
        "kind",
        "actor",
        "transition",
        "from_state",
        "to_state",
        "field",
        "old_value",
        "new_value",
        "body",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0
    can_delete = False
    verbose_name_plural = _("journal")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "short_description",
        "state",
        "priority",
        "caller",
        "assignment_group",
        "assigned_to",
        "opened_at",
    )
    list_filter = ("state", "priority", "assignment_group", "major_incident")
    search_fields = ("number", "short_description")
    list_select_related = ("caller", "assignment_group", "assigned_to")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at",)
    autocomplete_fields = ("caller", "assignment_group", "assigned_to", "service", "configuration_item", "parent")
    readonly_fields = (
        "number",
        "state",
        "priority",
        "state_category",
        "opened_by",
        "hold_reason",
        "close_code",
        "close_notes",
        "reopen_count",
        "opened_at",
        "resolved_at",
        "closed_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("number", "state", "priority", "short_description", "description")}),
        (_("Caller and assignment"), {"fields": ("caller", "opened_by", "assignment_group", "assigned_to")}),
        (
            _("Classification"),
            {"fields": ("impact", "urgency", "service", "configuration_item", "major_incident", "parent")},
        ),
        (_("Hold and resolution"), {"fields": ("state_category", "hold_reason", "close_code", "close_notes")}),
        (_("Times"), {"fields": ("opened_at", "resolved_at", "closed_at", "updated_at", "reopen_count")}),
    )
    inlines = (SLAClockInline, JournalEntryInline)
    actions = ("start_selected", "resolve_selected", "close_selected", "cancel_selected")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("caller", "assignment_group", "assigned_to", "hold_reason", "close_code")
        )

    # Deleting would cascade the journal away and bypass the services; incidents end by close or cancel.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_readonly_fields(self, request, obj=None):
        # Closed and canceled incidents cannot be changed (incident_update refuses), so nothing is offered.
        if obj is not None and not obj.active:
            return (*self.readonly_fields, *UPDATABLE_FIELDS)
        return self.readonly_fields

    # --- saving goes through the services ----------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_incident_service_refusal", None)
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
            # The first pass rolled back; render the same POST again with the service's errors on the form.
            request._incident_service_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj: Incident, form, change: bool) -> None:
        data = {name: value for name, value in form.cleaned_data.items() if name in UPDATABLE_FIELDS}
        try:
            if change:
                # The form already wrote its values onto `obj`; the service diffs against the stored row.
                current = Incident.objects.get(pk=obj.pk)
                changes = {name: data[name] for name in form.changed_data if name in data}
                saved = incident_update(incident=current, by=request.user, **changes) if changes else current
            else:
                saved = incident_create(by=request.user, **data)
        except (ValidationError, PermissionDenied) as error:
            raise _ServiceRefused(error) from error
        # Admin's log entry and redirect use `obj`; give it the saved row (state is protected, so copy the dict).
        obj.__dict__.update(saved.__dict__)

    # --- transitions as actions ---------------------------------------------------------------------------------

    def _run_service(self, request, queryset, *, done_label: str, call: Callable[[Incident], Any]) -> None:
        done, skipped = 0, []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            # Fetched one by one: an earlier call may have changed this one (a parent resolves its children).
            incident = Incident.objects.select_related("caller").get(pk=pk)
            try:
                call(incident)
            except SERVICE_ERRORS as error:
                skipped.append(f"{incident.number} ({_error_text(error)})")
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

    @admin.action(description=_("Start"), permissions=["change"])
    def start_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Started"),
            call=lambda incident: incident_start(incident=incident, by=request.user),
        )

    @admin.action(description=_("Resolve as solution provided"), permissions=["change"])
    def resolve_selected(self, request, queryset) -> None:
        code = CloseCode.objects.filter(slug="solution_provided").first()
        if code is None:
            self.message_user(request, _("The close code 'solution_provided' does not exist."), messages.ERROR)
            return
        self._run_service(
            request,
            queryset,
            done_label=_("Resolved"),
            call=lambda incident: incident_resolve(
                incident=incident, by=request.user, close_code=code, close_notes="Resolved from admin"
            ),
        )

    @admin.action(description=_("Close"), permissions=["change"])
    def close_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Closed"),
            call=lambda incident: incident_close(incident=incident, by=request.user),
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Canceled"),
            call=lambda incident: incident_cancel(incident=incident, by=request.user, reason="Canceled from admin"),
        )
