"""Admin for e-mail: notification templates, preferences, mailboxes and received messages (read-only, with the
original downloadable and a re-ingest action)."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mail.models import InboundMessage, InboundStatus, Mailbox, NotificationPreference, NotificationTemplate


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("event", "subject", "active", "updated_at")
    list_filter = ("active",)
    fieldsets = (
        (None, {"fields": ("event", "active", "subject", "text_body", "html_body")}),
        (
            _("Variables"),
            {
                "description": _(
                    "{{ subject }}, {{ message }} (the practice's text), {{ event_label }}, {{ recipient.name }}, "
                    "{{ ticket.number }}, {{ ticket.short_description }}, {{ ticket.description }}, {{ ticket.state }},"
                    " {{ ticket.priority }}, {{ ticket.url }}; agents also get {{ ticket.caller }}, "
                    "{{ ticket.assignment_group }}, {{ ticket.assigned_to }}, {{ ticket.impact }}, "
                    "{{ ticket.urgency }}. End users only ever see the public fields. HTML is autoescaped."
                ),
                "fields": (),
            },
        ),
    )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "event", "enabled")
    list_filter = ("event", "enabled")
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "creates", "unknown_senders", "imap_host", "active", "last_polled_at")
    list_filter = ("active", "creates")
    readonly_fields = ("last_polled_at", "last_error")
    autocomplete_fields = ("catalog_item",)
    fieldsets = (
        (None, {"fields": ("name", "address", "active", "creates", "unknown_senders", "rate_limit_per_hour")}),
        (_("Service requests"), {"fields": ("catalog_item", "subject_variable", "body_variable")}),
        (
            _("IMAP"),
            {"fields": ("imap_host", "imap_port", "imap_ssl", "imap_username", "imap_password", "imap_folder")},
        ),
        (_("Last poll"), {"fields": ("last_polled_at", "last_error")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "imap_password" and field is not None:
            from django import forms

            field.widget = forms.PasswordInput(render_value=True)
        return field


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "status", "ticket_link", "mailbox")
    list_filter = ("status", "mailbox")
    search_fields = ("from_address", "subject", "message_id", "ticket__number")
    list_select_related = ("ticket", "mailbox")
    date_hierarchy = "received_at"
    exclude = ("raw",)
    readonly_fields = (
        "mailbox",
        "message_id",
        "from_address",
        "subject",
        "received_at",
        "size",
        "status",
        "reason",
        "defects",
        "ticket",
        "sender",
        "dedupe_key",
        "original",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj):
        return obj.ticket.number if obj.ticket_id else ""

    @admin.display(description=_("original"))
    def original(self, obj):
        url = reverse("admin:mail_inboundmessage_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the message as received"))

    def get_urls(self):
        return [
            path("<int:pk>/raw/", self.admin_site.admin_view(self.raw_view), name="mail_inboundmessage_raw"),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk: int):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        record = InboundMessage.objects.filter(pk=pk).first()
        if record is None:
            from django.http import Http404

            raise Http404
        response = HttpResponse(bytes(record.raw), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="message-{record.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    actions = ("reingest",)

    def has_reingest_permission(self, request) -> bool:
        return request.user.has_perm("mail.change_inboundmessage")

    @admin.action(description=_("Ingest again (failed or rejected messages)"), permissions=["reingest"])
    def reingest(self, request, queryset) -> None:
        from mail.inbound import email_ingest

        done = 0
        for record in queryset.filter(status__in=[InboundStatus.FAILED, InboundStatus.REJECTED]):
            raw, mailbox = bytes(record.raw), record.mailbox
            record.delete()
            email_ingest(raw=raw, mailbox=mailbox)
            done += 1
        self.message_user(request, _("%d message(s) ingested again.") % done, messages.SUCCESS)
