"""E-mail models: notification templates and preferences, mailboxes and the messages they received."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template import Engine, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mail.events import NOTIFICATION_EVENTS


class NotificationTemplate(models.Model):
    """The subject, plain-text and HTML bodies of one notification event, in Django template language."""

    event = models.CharField(_("event"), max_length=64, unique=True, choices=list(NOTIFICATION_EVENTS.items()))
    subject = models.CharField(
        _("subject"), max_length=255, default="{{ subject }}", help_text=_("The ticket number is added when missing.")
    )
    text_body = models.TextField(_("plain-text body"), default="{{ message }}")
    html_body = models.TextField(_("HTML body"), blank=True, help_text=_("Autoescaped; blank sends text only."))
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive: the practice's own text is sent."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["event"]
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")

    def __str__(self) -> str:
        return self.event

    def clean(self) -> None:
        errors = {}
        for field in ("subject", "text_body", "html_body"):
            try:
                Engine().from_string(getattr(self, field))
            except TemplateSyntaxError as exc:
                errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)


class NotificationPreference(models.Model):
    """Whether one user receives one notification event (no row: the event's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    event = models.CharField(_("event"), max_length=64, choices=list(NOTIFICATION_EVENTS.items()))
    enabled = models.BooleanField(_("receive"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notification_pref_unique")]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}: {'on' if self.enabled else 'off'}"


class MailboxCreates(models.TextChoices):
    """What a new (non-reply) message to a mailbox becomes."""

    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")


class UnknownSenders(models.TextChoices):
    CREATE = "create", _("Create them as end users")
    REJECT = "reject", _("Reject their mail")


class Mailbox(models.Model):
    """An address the desk receives mail on: polled over IMAP, or fed message files by `manage.py ingest_email`."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.EmailField(_("address"), unique=True, help_text=_("Replies to our notifications go here."))
    creates = models.CharField(_("new mail creates"), max_length=20, choices=MailboxCreates, default="incident")
    catalog_item = models.ForeignKey(
        "catalog.CatalogItem",
        verbose_name=_("catalog item ordered"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For service requests: the item a new message orders (e.g. a general request)."),
    )
    subject_variable = models.SlugField(
        _("question answered by the subject"),
        max_length=50,
        blank=True,
        help_text=_("For service requests: the item's text question that gets the mail's subject (blank: none)."),
    )
    body_variable = models.SlugField(
        _("question answered by the text"),
        max_length=50,
        blank=True,
        help_text=_("For service requests: the item's text question that gets the mail's text."),
    )
    unknown_senders = models.CharField(
        _("unknown senders"), max_length=10, choices=UnknownSenders, default=UnknownSenders.CREATE
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        _("messages per sender per hour"), default=20, help_text=_("Beyond this a sender's mail is set aside.")
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True, help_text=_("Blank: not polled."))
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_username = models.CharField(_("IMAP user"), max_length=255, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=255, blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True, editable=False)
    polling_since = models.DateTimeField(_("being polled since"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last polling error"), blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def clean(self) -> None:
        from mail.inbound import ticket_creators

        if self.creates not in ticket_creators():
            raise ValidationError({"creates": _("No practice creates '%s' from mail yet.") % self.creates})
        if self.creates == MailboxCreates.REQUEST:
            errors = mailbox_request_errors(self)
            if errors:
                raise ValidationError(errors)


MAIL_TEXT_TYPES = ("text", "long_text")


def mailbox_request_errors(mailbox: Mailbox) -> dict[str, str]:
    """Why a request mailbox could not order its catalog item from a message: the item must be active and
    published, the subject and text go to text questions without a pattern, and every question the form always
    requires is one of those two (nothing else in a mail can answer it)."""
    from catalog.selectors import catalog_item_current_version

    if mailbox.catalog_item_id is None:
        return {"catalog_item": _("Choose the catalog item new mail orders.")}
    item = mailbox.catalog_item
    version = catalog_item_current_version(item=item) if item.active else None
    if version is None:
        return {"catalog_item": _("%s is not an active, published catalog item.") % item}
    variables = {var["name"]: var for var in version.definition.get("variables", [])}
    errors: dict[str, str] = {}
    if not mailbox.body_variable:
        errors["body_variable"] = _("Name the question that gets the mail's text.")
    if mailbox.subject_variable and mailbox.subject_variable == mailbox.body_variable:
        errors["subject_variable"] = _("The subject and the text need different questions.")
    for field_name in ("subject_variable", "body_variable"):
        name = getattr(mailbox, field_name)
        if not name or field_name in errors:
            continue
        var = variables.get(name)
        if var is None:
            errors[field_name] = _("%(item)s has no question '%(name)s'.") % {"item": item, "name": name}
        elif var["type"] not in MAIL_TEXT_TYPES or var.get("pattern"):
            errors[field_name] = _("'%s' is not a free-text question (text or long text, no pattern).") % name
    filled = {mailbox.subject_variable, mailbox.body_variable}
    unanswerable = sorted(
        name for name, var in variables.items() if var["required"] and not var.get("show_when") and name not in filled
    )
    if unanswerable:
        errors["catalog_item"] = _("A message cannot answer the required questions: %s.") % ", ".join(unanswerable)
    return errors


class InboundStatus(models.TextChoices):
    CREATED = "created", _("Created a ticket")
    COMMENTED = "commented", _("Added a comment")
    AUTO_REPLY = "auto_reply", _("Ignored: automatic reply")
    BOUNCE = "bounce", _("Ignored: bounce or report")
    LOOP = "loop", _("Ignored: our own mail")
    REJECTED = "rejected", _("Rejected: unknown sender")
    RATE_LIMITED = "rate_limited", _("Set aside: too many from this sender")
    FAILED = "failed", _("Failed: kept for an admin")


class InboundMessage(models.Model):
    """One received message, kept whole, with what ingestion made of it; malformed mail is kept and flagged."""

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    dedupe_key = models.CharField(_("Message-ID or digest"), max_length=255, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    from_address = models.CharField(_("from"), max_length=255, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"), default=0)
    status = models.CharField(_("outcome"), max_length=16, choices=InboundStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    defects = models.TextField(_("parser defects"), blank=True)
    ticket = models.ForeignKey(
        "itsm.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["from_address", "received_at"], name="inbound_sender_time")]
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"
