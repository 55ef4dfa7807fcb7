"""Admin for incidents, hold reasons and close codes.

State is read-only here: saving an incident goes through incident_create / incident_update, and the transitions are
admin actions that call the services, so admin writes are journaled and notified like any other.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

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
from itsm.admin import JournalEntryInline, TicketAdmin
from slas.admin import SLAClockInline


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


@admin.register(Incident)
class IncidentAdmin(TicketAdmin):
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
    autocomplete_fields = (
        "caller",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "parent",
        "caused_by_change",
    )
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
            {
                "fields": (
                    "impact",
                    "urgency",
                    "service",
                    "configuration_item",
                    "major_incident",
                    "parent",
                    "caused_by_change",
                )
            },
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

    updatable_fields = UPDATABLE_FIELDS

    def create(self, request, data):
        return incident_create(by=request.user, **data)

    def update(self, request, current, changes):
        return incident_update(incident=current, by=request.user, **changes)

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
