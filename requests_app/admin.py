"""Admin for service requests: requests, requested items and fulfilment tasks are shown read-only (orders come from
the portal and the API) with their journal; transitions run as actions through the services. People's managers and
satisfaction ratings are here too."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from itsm.admin import JournalEntryInline, ReadOnlyAdminMixin, TicketAdmin
from requests_app import services
from requests_app.models import FulfilmentTask, Profile, Request, RequestedItem, SatisfactionRating


class _ReadOnlyTicketAdmin(TicketAdmin):
    """Everything read-only: the services write these records; actions run their transitions."""

    def has_add_permission(self, request) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class RequestedItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RequestedItem
    fk_name = "request"
    fields = ("number", "short_description", "quantity", "state")
    readonly_fields = fields
    show_change_link = True
    extra = 0


class FulfilmentTaskInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FulfilmentTask
    fk_name = "requested_item"
    fields = ("number", "position", "short_description", "assignment_group", "assigned_to", "state")
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(Request)
class RequestAdmin(_ReadOnlyTicketAdmin):
    list_display = ("number", "short_description", "caller", "state", "opened_at")
    list_filter = ("state",)
    search_fields = ("number", "short_description", "caller__username")
    list_select_related = ("caller",)
    inlines = (RequestedItemInline, JournalEntryInline)


@admin.register(RequestedItem)
class RequestedItemAdmin(_ReadOnlyTicketAdmin):
    list_display = ("number", "short_description", "request", "caller", "state", "assignment_group", "opened_at")
    list_filter = ("state", "catalog_item", "assignment_group")
    search_fields = ("number", "short_description", "caller__username", "request__number")
    list_select_related = ("request", "caller", "assignment_group")
    inlines = (FulfilmentTaskInline, JournalEntryInline)
    actions = ("cancel_selected", "close_selected")

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Canceled"),
            call=lambda item: services.requested_item_cancel(item=item, by=request.user, reason="Canceled in admin."),
        )

    @admin.action(description=_("Close (delivered)"), permissions=["change"])
    def close_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Closed"),
            call=lambda item: services.requested_item_close(item=item, by=request.user),
        )


@admin.register(FulfilmentTask)
class FulfilmentTaskAdmin(_ReadOnlyTicketAdmin):
    list_display = ("number", "short_description", "requested_item", "assignment_group", "assigned_to", "state")
    list_filter = ("state", "assignment_group")
    search_fields = ("number", "short_description", "requested_item__number")
    list_select_related = ("requested_item", "assignment_group", "assigned_to")
    inlines = (JournalEntryInline,)
    actions = ("start_selected", "close_complete_selected", "skip_selected")

    @admin.action(description=_("Start work"), permissions=["change"])
    def start_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Started"),
            call=lambda task: services.fulfilment_task_start(task=task, by=request.user),
        )

    @admin.action(description=_("Close complete"), permissions=["change"])
    def close_complete_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Closed complete"),
            call=lambda task: services.fulfilment_task_close_complete(task=task, by=request.user),
        )

    @admin.action(description=_("Skip"), permissions=["change"])
    def skip_selected(self, request, queryset) -> None:
        self._run_service(
            request,
            queryset,
            done_label=_("Skipped"),
            call=lambda task: services.fulfilment_task_skip(
                task=task, by=request.user, close_notes="Skipped in admin."
            ),
        )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "manager", "department")
    search_fields = ("user__username", "user__first_name", "user__last_name", "department")
    autocomplete_fields = ("user", "manager")
    list_select_related = ("user", "manager")


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "score", "rated_by", "created_at")
    list_filter = ("score",)
    search_fields = ("ticket__number", "comment")
    list_select_related = ("ticket", "rated_by")
