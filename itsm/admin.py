"""Admin for the kernel: teams and the priority matrix are configured here; the journal, numbering, attachments and
the outbox are shown read-only (they are written by the services only); approval policies are configured here and
approvals shown read-only, decided through the approval services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from itsm.models import (
    Approval,
    ApprovalPolicy,
    ApprovalStage,
    Attachment,
    JournalEntry,
    NumberSequence,
    OutboxMessage,
    PriorityRule,
    Team,
    TicketWatcher,
)
from itsm.registry import approval_practice
from itsm.services import approval_approve, approval_reject, outbox_retry

# What a service may refuse with; each becomes a form error or a "skipped" line, never a 500.
SERVICE_ERRORS = (TransitionNotAllowed, ConcurrentTransition, PermissionDenied, ValidationError)


class ServiceRefused(Exception):
    """Raised out of save_model so that changeform_view can show the service's refusal on the form."""

    def __init__(self, error: ValidationError | PermissionDenied) -> None:
        super().__init__(str(error))
        self.error = error


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
        return " ".join(error.messages)
    return str(error) or error.__class__.__name__


def add_service_errors(form, error: ValidationError | PermissionDenied) -> None:
    """Put a service's refusal on the admin form: on the named field when the form has it, otherwise on top."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, msgs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, error_text(error))


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


class TicketAdmin(admin.ModelAdmin):
    """Base admin of every ticket practice: saves through the practice's create/update services (`create` and
    `update` below), shows their refusals on the form, runs transitions as actions (`_run_service`), never deletes
    (the journal is the audit trail; tickets end by close or cancel). State is read-only: list it in
    `readonly_fields`. Closed tickets offer nothing to edit."""

    updatable_fields: tuple[str, ...] = ()
    create_fields: tuple[str, ...] = ()

    # Deleting would cascade the journal away and bypass the services.
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
        refusal = getattr(request, "_ticket_service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                add_service_errors(self, refusal)
                return cleaned

        return RefusedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._ticket_service_refusal = refused.error
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
            raise ServiceRefused(error) from error
        obj.__dict__.update(saved.__dict__)

    def _run_service(self, request, queryset, *, done_label: str, call: Callable[[Any], Any]) -> None:
        done, skipped = 0, []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            record = queryset.model.objects.get(pk=pk)
            try:
                call(record)
            except SERVICE_ERRORS as error:
                skipped.append(f"{record.number} ({error_text(error)})")
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


class ReadOnlyAdminMixin:
    """Shows records without letting admin add, change or delete them: only services write these rows."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "email", "member_count", "active")
    list_filter = ("active",)
    search_fields = ("name", "email", "description")
    list_select_related = ("manager",)
    filter_horizontal = ("members",)
    autocomplete_fields = ("manager",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Team) -> int:
        return obj.member_count


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_filter = ("impact", "urgency", "priority")
    ordering = ("impact", "urgency")


@admin.register(NumberSequence)
class NumberSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("prefix", "last_value")
    ordering = ("prefix",)


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "ticket", "kind", "actor", "transition", "field", "short_body")
    list_filter = ("kind", "transition")
    search_fields = ("ticket__number", "body", "actor__username", "field", "new_value")
    list_select_related = ("ticket", "actor")
    date_hierarchy = "created_at"
    show_full_result_count = False  # the journal grows fastest of all tables; skip the extra COUNT(*)

    @admin.display(description=_("body"))
    def short_body(self, obj: JournalEntry) -> str:
        text = obj.body or ""
        return text if len(text) <= 80 else f"{text[:79]}…"


@admin.register(TicketWatcher)
class TicketWatcherAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Watch lists, read-only: agents change them on the ticket page or through the API (journaled)."""

    list_display = ("ticket", "user", "added_by", "added_at")
    search_fields = ("ticket__number", "user__username")
    list_select_related = ("ticket", "user", "added_by")
    date_hierarchy = "added_at"


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("filename", "ticket", "content_type", "size", "public", "uploaded_by", "created_at")
    list_filter = ("public", "content_type")
    search_fields = ("filename", "ticket__number")
    list_select_related = ("ticket", "uploaded_by")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event", "to_email", "subject", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "event")
    search_fields = ("to_email", "subject", "ticket__number", "dedupe_key")
    list_select_related = ("ticket", "recipient")
    date_hierarchy = "created_at"
    actions = ("retry_sending",)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("itsm.change_outboxmessage")

    @admin.action(description=_("Retry sending"), permissions=["retry"])
    def retry_sending(self, request, queryset) -> None:
        sent = failed = skipped = 0
        for pk in queryset.values_list("pk", flat=True):
            outcome = outbox_retry(message_id=pk)
            if outcome is None:
                skipped += 1
            elif outcome:
                sent += 1
            else:
                failed += 1
        if sent:
            self.message_user(request, ngettext("%d message sent.", "%d messages sent.", sent) % sent, messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                ngettext("%d message failed again.", "%d messages failed again.", failed) % failed,
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                ngettext("%d message was already sent.", "%d messages were already sent.", skipped) % skipped,
                messages.INFO,
            )


class ApprovalStageInline(admin.TabularInline):
    model = ApprovalStage
    fields = ("number", "source", "users", "team", "rule", "required")
    autocomplete_fields = ("users", "team")
    extra = 1


class ApprovalPolicyForm(forms.ModelForm):
    """Type and risk are offered from what the practice registered (the kernel knows no practice's values)."""

    class Meta:
        model = ApprovalPolicy
        fields = ("name", "practice", "ticket_type", "risk", "order", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        practice = approval_practice(self.initial.get("practice") or self.data.get("practice") or "change")
        if practice is not None:
            any_choice = [("", _("Any"))]
            self.fields["ticket_type"] = forms.ChoiceField(
                label=_("type"), required=False, choices=any_choice + list(practice.type_choices)
            )
            self.fields["risk"] = forms.ChoiceField(
                label=_("risk"), required=False, choices=any_choice + list(practice.risk_choices)
            )


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    form = ApprovalPolicyForm
    list_display = ("name", "practice", "ticket_type", "risk", "order", "active")
    list_filter = ("practice", "active")
    search_fields = ("name",)
    ordering = ("practice", "order", "name")
    inlines = (ApprovalStageInline,)


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Approvals are written by the services; an approver decides their own here with the actions."""

    list_display = ("ticket", "stage", "approver", "state", "requested_at", "decided_at")
    list_filter = ("state",)
    search_fields = ("ticket__number", "approver__username")
    list_select_related = ("ticket", "approver")
    readonly_fields = ("ticket", "policy", "stage", "approver", "state", "comment", "requested_at", "decided_at")
    actions = ("approve_selected", "reject_selected")

    def _decide(self, request, queryset, service, label: str) -> None:
        done, skipped = 0, []
        for approval in queryset.order_by("pk"):
            try:
                service(approval=approval, by=request.user, comment=f"{label} in admin")
            except (PermissionDenied, ValidationError, TransitionNotAllowed) as error:
                skipped.append(f"{approval.pk} ({error})")
            else:
                done += 1
        if done:
            self.message_user(request, _("%(label)s: %(count)d.") % {"label": label, "count": done})
        if skipped:
            self.message_user(request, _("Skipped: %s") % "; ".join(skipped), messages.WARNING)

    @admin.action(description=_("Approve (your own approvals)"), permissions=["view"])
    def approve_selected(self, request, queryset) -> None:
        self._decide(request, queryset, approval_approve, "Approved")

    @admin.action(description=_("Reject (your own approvals)"), permissions=["view"])
    def reject_selected(self, request, queryset) -> None:
        self._decide(request, queryset, approval_reject, "Rejected")


# --- users --------------------------------------------------------------------------------------------------------


class GuardedUserAdmin(UserAdmin):
    """Users and their roles, for the Admins role: they put people in role groups, but only a superuser makes a
    superuser, grants single permissions or edits a superuser's account (password included)."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


admin.site.unregister(User)
admin.site.register(User, GuardedUserAdmin)
