"""Outgoing notification mail: templates rendered per recipient, preferences, and headers that thread and never
carry a user's newline."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from email.utils import formataddr
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template import Context, Engine, Template
from django.utils import translation
from django.utils.crypto import salted_hmac

from itsm.configcache import ConfigCache
from itsm.enums import CALLER_VISIBLE_KINDS
from itsm.models import OutboxMessage, Ticket
from itsm.rules import is_agent, user_roles_prefetch
from mail.events import DEFAULT_OFF, event_label

logger = logging.getLogger(__name__)

_TEXT = Engine(autoescape=False)
_HTML = Engine(autoescape=True)
DEFAULT_SUBJECT = "{{ subject }}"
DEFAULT_TEXT = "{{ message }}"
DEFAULT_HTML = (
    '<div style="font-family:sans-serif">{{ message|linebreaksbr }}</div>'
    '<p style="color:#666;font-size:small"><a href="{{ ticket.url }}">{{ ticket.number }}</a> '
    "{{ ticket.short_description }}</p>"
)


def _active_templates() -> dict:
    from mail.models import NotificationTemplate

    templates = {}
    for template in NotificationTemplate.objects.filter(active=True).order_by("-pk"):
        templates[template.event] = template  # the first by id wins, as .first() chose before
    return templates


# The admins' templates by event, per process for a few seconds (itsm.configcache).
ACTIVE_TEMPLATES = ConfigCache(_active_templates, model="mail.NotificationTemplate")


def _template(event: str):
    return ACTIVE_TEMPLATES.get().get(event)


def notification_wanted(*, user: User, event: str) -> bool:
    """Whether the user receives this event: their own choice, else the event's default."""
    return (user.pk, event) in notifications_wanted([(user, event)])


def notifications_wanted(pairs: Iterable[tuple[User, str]]) -> set[tuple[int, str]]:
    """For many (user, event) pairs in one query, the (user id, event) pairs that are wanted: the user's own choice,
    else the event's default."""
    from mail.models import NotificationPreference

    pairs = list(pairs)
    if not pairs:
        return set()
    choices = {
        (user_id, event): enabled
        for user_id, event, enabled in NotificationPreference.objects.filter(
            user_id__in={user.pk for user, _event in pairs}, event__in={event for _user, event in pairs}
        ).values_list("user_id", "event", "enabled")
    }
    return {
        (user.pk, event)
        for user, event in pairs
        if choices.get((user.pk, event), event not in DEFAULT_OFF)  # their choice, else the event's default
    }


# --- headers ----------------------------------------------------------------------------------------------------


def header_clean(value: Any) -> str:
    """A header value with every line break and control character gone (header injection is impossible)."""
    return "".join(ch for ch in " ".join(str(value).split()) if ch.isprintable())


def mail_domain() -> str:
    return getattr(settings, "ITSM_MAIL_DOMAIN", "") or settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")


def _sign(kind: str, pk: int) -> str:
    return salted_hmac("itsm.mail.message-id", f"{kind}{pk}").hexdigest()[:12]


def our_message_id(kind: str, pk: int) -> str:
    """A Message-ID we recognise on the way back: `m` for one outbox row, `t` for a ticket's thread."""
    return f"<itsm.{kind}{pk}.{_sign(kind, pk)}@{mail_domain()}>"


_OURS = re.compile(r"<itsm\.([mt])(\d+)\.([0-9a-f]{12})@[^>\s]+>")


def parse_our_ids(text: str) -> list[tuple[str, int]]:
    """Our Message-IDs (kind, id) found in a header value, with a valid signature, in order."""
    return [(kind, int(pk)) for kind, pk, sig in _OURS.findall(text or "") if sig == _sign(kind, int(pk))]


def _thread_headers(ticket_id: int) -> dict[str, str]:
    """In-Reply-To and References: the mail that opened the ticket (if it came by mail) and the ticket's thread."""
    from mail.models import InboundMessage, InboundStatus

    root = our_message_id("t", ticket_id)
    origin = (
        InboundMessage.objects.filter(ticket_id=ticket_id, status=InboundStatus.CREATED)
        .exclude(message_id="")
        .values_list("message_id", flat=True)
        .first()
    )
    origin = header_clean(origin) if origin else ""
    return {"In-Reply-To": origin or root, "References": f"{origin} {root}".strip()}


def _reply_to(ticket_id: int | None) -> list[str]:
    from mail.models import InboundMessage, Mailbox

    address = None
    if ticket_id:
        address = (
            InboundMessage.objects.filter(ticket_id=ticket_id, mailbox__active=True)
            .values_list("mailbox__address", flat=True)
            .first()
        )
    address = address or Mailbox.objects.filter(active=True).values_list("address", flat=True).first()
    return [header_clean(address)] if address else []


def mail_send(message: OutboxMessage) -> None:
    """Send one outbox row as multipart mail with our Message-ID, threading and Auto-Submitted; raises on failure."""
    address = header_clean(message.to_email)
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValueError(f"Not a valid recipient address: {address!r}") from exc
    name = header_clean(message.recipient.get_full_name()) if message.recipient else ""
    subject = header_clean(message.subject)
    headers = {
        "Message-ID": our_message_id("m", message.pk),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-ITSM-Event": header_clean(message.event),
    }
    if message.ticket_id:
        number = header_clean(message.ticket.number)
        if f"[{number}]" not in subject:
            subject = f"[{number}] {subject}"
        headers |= _thread_headers(message.ticket_id) | {"X-ITSM-Ticket": number}
    mail = EmailMultiAlternatives(
        subject=subject[:998],
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, address)) if name else address],
        headers=headers,
        reply_to=_reply_to(message.ticket_id),
    )
    if message.html_body:
        mail.attach_alternative(message.html_body, "text/html")
    mail.send()


# --- composing ---------------------------------------------------------------------------------------------------


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@cache
def _labels(model: type, name: str, language: str | None) -> dict[Any, str]:
    return {value: str(label) for value, label in model._meta.get_field(name).flatchoices}


def _display(instance: Any, name: str) -> str:
    """`instance.get_<name>_display()` from labels kept per model, field and language: Django's hashes every choice
    of the field on each call (three calls per mail, a sixth of an SLA sweep's mail composing)."""
    value = getattr(instance, name)
    return _labels(type(instance), name, translation.get_language()).get(value, str(value))


def ticket_context(ticket: Ticket | None, *, agent: bool) -> dict[str, Any]:
    """The ticket as templates see it: public fields for end users, the desk's fields as well for agents."""
    if ticket is None:
        return {}
    state = _display(ticket, "state") if hasattr(ticket, "get_state_display") else _display(ticket, "state_category")
    public = {
        "number": ticket.number,
        "kind": _display(ticket, "kind"),
        "short_description": ticket.short_description,
        "description": ticket.description,
        "state": state,
        "priority": _display(ticket, "priority"),
        "opened_at": ticket.opened_at,
        "url": f"{settings.ITSM_SITE_URL}/portal/incidents/{ticket.number}/"
        if ticket.kind == "incident"
        else settings.ITSM_SITE_URL + "/portal/",
    }
    if not agent:
        return public
    return public | {
        "impact": _display(ticket, "impact"),
        "urgency": _display(ticket, "urgency"),
        "caller": _person(ticket.caller),
        "assignment_group": str(ticket.assignment_group or ""),
        "assigned_to": _person(ticket.assigned_to),
        "url": f"{settings.ITSM_SITE_URL}/workspace/incidents/{ticket.number}/"
        if ticket.kind == "incident"
        else f"{settings.ITSM_SITE_URL}/admin/",
    }


def notification_compose(
    *, event: str, ticket: Ticket | None, recipient: User, subject: str, body: str
) -> dict[str, str] | None:
    """Render the event's template for one recipient (None when they opted out); a broken template falls back to
    the practice's own text, so a notification never breaks the change that caused it."""
    if not notification_wanted(user=recipient, event=event):
        return None
    return _compose(event=event, ticket=ticket, recipient=recipient, subject=subject, body=body)


def notification_compose_many(messages: list[dict[str, Any]]) -> list[dict[str, str] | None]:
    """`notification_compose` for many messages (each a dict of its keyword arguments), in order: the recipients'
    preferences and roles are read in two queries for them all instead of two per message (the SLA sweep and the
    watch lists send thousands)."""
    recipients = [message["recipient"] for message in messages]
    wanted = notifications_wanted((message["recipient"], message["event"]) for message in messages)
    user_roles_prefetch(recipients)
    return [
        _compose(**{name: message[name] for name in ("event", "ticket", "recipient", "subject", "body")})
        if (message["recipient"].pk, message["event"]) in wanted
        else None
        for message in messages
    ]


def _compose(*, event: str, ticket: Ticket | None, recipient: User, subject: str, body: str) -> dict[str, str]:
    context = {
        "event": event,
        "event_label": event_label(event),
        "subject": subject,
        "message": body,
        "recipient": {"name": _person(recipient), "username": recipient.get_username()},
        "ticket": ticket_context(ticket, agent=is_agent(recipient)),
        "site_url": settings.ITSM_SITE_URL,
    }
    template = _template(event)
    sources = (
        (template.subject, template.text_body, template.html_body)
        if template
        else (DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML)
    )
    try:
        rendered = _render(sources, context)
    except Exception:
        logger.exception("notification template for %s failed; sending the default", event)
        rendered = _render((DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML), context)
    return {"subject": header_clean(rendered[0]), "body": rendered[1], "html_body": rendered[2]}


@lru_cache(maxsize=256)
def _compiled(source: str, *, html: bool) -> Template:
    """A template source compiled once per process (compiling cost more than rendering; a Template renders any
    number of contexts, and an edited template is a new source)."""
    return (_HTML if html else _TEXT).from_string(source)


def _render(sources: tuple[str, str, str], context: dict[str, Any]) -> tuple[str, str, str]:
    subject, text, html = sources
    return (
        _compiled(subject, html=False).render(Context(context, autoescape=False)),
        _compiled(text, html=False).render(Context(context, autoescape=False)),
        _compiled(html, html=True).render(Context(context)) if html else "",
    )


# The ticket events watchers hear of, and the notification event each becomes for them.
WATCH_EVENTS = {
    "ticket.commented": "ticket.watch_commented",
    "ticket.state_changed": "ticket.watch_state_changed",
    "ticket.work_noted": "ticket.watch_work_noted",
}


def _watch_message(event: str, ticket: Ticket, actor: str | None, data: dict[str, Any]) -> tuple[str, str]:
    if event == "ticket.state_changed":
        to_state = str(data.get("to_state") or "").replace("_", " ")
        return (
            f"[{ticket.number}] Now {to_state}: {ticket.short_description}",
            f"{ticket.number} moved from {data.get('from_state') or '-'} to {data.get('to_state')}"
            + (f" ({actor})." if actor else "."),
        )
    what = "New comment" if event == "ticket.commented" else "Work note"
    return (
        f"[{ticket.number}] {what}: {ticket.short_description}",
        f"{actor or 'The service desk'} wrote:\n\n{data.get('body', '')}",
    )


def notify_watchers(*, event: str, ticket: Ticket, key: str, data: dict[str, Any]) -> None:
    """Tell the ticket's watchers of a comment, a state change or (agents only) a work note.

    Left out: whoever made the change, the caller (told as the caller, by their practice and their own choices), the
    assignee of a caller's comment (told by `ticket.caller_commented`), and anyone who is not an agent for work
    notes. Each watcher's preferences for the watch events apply (work notes are opt-in).
    """
    from itsm.models import TicketWatcher
    from itsm.services import outbox_enqueue_many

    watchers = [
        link.user
        for link in TicketWatcher.objects.filter(ticket_id=ticket.pk, user__is_active=True).select_related("user")
    ]
    if not watchers:
        return
    actor = data.get("actor")
    skip = {ticket.caller_id}
    if event == "ticket.commented" and actor and actor == ticket.caller.get_username() and ticket.assigned_to_id:
        skip.add(ticket.assigned_to_id)
    # End users hear only of public events of the kinds they may follow (never of work notes, never of agents' work).
    public = event != "ticket.work_noted" and ticket.kind in CALLER_VISIBLE_KINDS
    recipients = [
        user for user in watchers if user.pk not in skip and user.get_username() != actor and (public or is_agent(user))
    ]
    subject, body = _watch_message(event, ticket, actor, data)
    outbox_enqueue_many(
        [
            {
                "event": WATCH_EVENTS[event],
                "ticket": ticket,
                "recipient": user,
                "subject": subject,
                "body": body,
                "key": key,
            }
            for user in recipients
        ]
    )


def on_ticket_event(*, event: str, ticket: Ticket, key: str, data: dict[str, Any]) -> None:
    """Notifications the practices do not send themselves: state changes to the caller (opt-in), the caller's
    comments to the assignee, and comments, state changes and work notes to the ticket's watchers."""
    from itsm.services import outbox_enqueue

    if event in WATCH_EVENTS and ticket is not None:
        notify_watchers(event=event, ticket=ticket, key=key, data=data)
    actor = data.get("actor")
    if event == "ticket.state_changed" and ticket.caller.get_username() != actor:
        outbox_enqueue(
            event="ticket.state_changed",
            ticket=ticket,
            recipient=ticket.caller,
            subject=f"[{ticket.number}] Now {data.get('to_state', '').replace('_', ' ')}: {ticket.short_description}",
            body=f"{ticket.number} moved from {data.get('from_state')} to {data.get('to_state')}.",
            key=key,
        )
    elif (
        event == "ticket.commented"
        and ticket.assigned_to_id
        and actor == ticket.caller.get_username()
        and ticket.assigned_to_id != ticket.caller_id
    ):
        outbox_enqueue(
            event="ticket.caller_commented",
            ticket=ticket,
            recipient=ticket.assigned_to,
            subject=f"[{ticket.number}] The caller commented: {ticket.short_description}",
            body=f"{actor} wrote:\n\n{data.get('body', '')}",
            key=key,
        )
