"""Kernel writes: numbering, the journal, transition checks, the outbox and attachments."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from itsm.enums import CALLER_VISIBLE_KINDS, NUMBER_PREFIXES, Impact, JournalKind, OutboxStatus, Urgency
from itsm.models import JournalEntry, NumberSequence, OutboxMessage, Ticket
from itsm.rules import is_agent

logger = logging.getLogger(__name__)


def ticket_next_number(*, kind: str) -> str:
    """Hand out the next number for a practice (INC0001001 ...); must run inside the creating transaction."""
    prefix = NUMBER_PREFIXES[kind]
    # The UPDATE takes a row lock that is held until the creating transaction commits, so two creations never
    # read the same value; it returns the new value in the same round trip. The row is created on first use.
    # The table and column names come from model metadata, never from input; the prefix is a bound parameter.
    sql = (
        f"UPDATE {NumberSequence._meta.db_table} SET last_value = last_value + 1"  # nosec B608
        " WHERE prefix = %s RETURNING last_value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(prefix=prefix)
            NumberSequence.objects.filter(prefix=prefix).update(last_value=F("last_value") + 1)
            value = NumberSequence.objects.values_list("last_value", flat=True).get(prefix=prefix)
    else:
        value = row[0]
    return f"{prefix}{value:07d}"


def ensure_agent(by: User | None, what: str) -> None:
    """PermissionDenied unless `by` is an agent; `None` is the system (timers, sweeps), which may do anything."""
    if by is not None and not is_agent(by):
        raise PermissionDenied(f"Only agents can {what}.")


def ticket_field_errors(ticket: Ticket, *, assignable: str) -> dict[str, str]:
    """The field rules every ticket practice keeps, by field name: a short description, impact and urgency in 1-3
    (for tickets that carry them), an assignee who is an agent and a member of the assignment group. `assignable`
    names what is assigned in the message ("incidents"). Practices add their own rules to the returned dict."""
    errors: dict[str, str] = {}
    if not ticket.short_description or not ticket.short_description.strip():
        errors["short_description"] = "This field may not be blank."
    if ticket.impact not in Impact.values:
        errors["impact"] = "Impact must be 1, 2 or 3."
    if ticket.urgency not in Urgency.values:
        errors["urgency"] = "Urgency must be 1, 2 or 3."
    if ticket.assigned_to is not None:
        if not is_agent(ticket.assigned_to):
            errors["assigned_to"] = f"Only agents can be assigned {assignable}."
        elif (
            ticket.assignment_group is not None
            and not ticket.assignment_group.members.filter(pk=ticket.assigned_to.pk).exists()
        ):
            errors["assigned_to"] = f"{ticket.assigned_to} is not a member of {ticket.assignment_group}."
    errors |= ticket_category_errors(ticket)
    return errors


def ticket_category_errors(ticket: Ticket) -> dict[str, str]:
    """A category is a top-level category of the ticket's practice; a subcategory is one of that category's."""
    errors: dict[str, str] = {}
    category, subcategory = ticket.category, ticket.subcategory
    if category is not None and (category.parent_id is not None or category.practice != ticket.kind):
        errors["category"] = f"'{category}' is not a {ticket.kind} category."
    if subcategory is not None and (category is None or subcategory.parent_id != category.pk):
        errors["subcategory"] = f"'{subcategory}' is not a subcategory of the ticket's category."
    return errors


def transition_ensure_allowed(*, user: User, transition: Callable[..., Any]) -> None:
    """Raise TransitionNotAllowed (409) when the state forbids it, PermissionDenied (403) when the user may not."""
    if not can_proceed(transition):
        instance = transition.__self__
        raise TransitionNotAllowed(
            f"'{transition.__name__}' is not allowed from state '{instance.state}'",
            object=instance,
            method=transition,
        )
    if not has_transition_perm(transition, user):
        raise PermissionDenied(f"You may not '{transition.__name__}' this record.")


def journal_add(
    *,
    ticket: Ticket,
    actor: User | None,
    kind: str,
    body: str = "",
    **fields: str,
) -> JournalEntry:
    """Write one journal entry (comment, work note, field change or transition) in the current transaction."""
    entry = JournalEntry.objects.create(ticket=ticket, actor=actor, kind=kind, body=body, **fields)
    _journal_emit(ticket, [entry])
    return entry


# The journal kinds that are ticket events for listeners (webhooks, notifications): what happened, in their words.
_JOURNAL_EVENTS = {
    JournalKind.COMMENT: "ticket.commented",
    JournalKind.WORK_NOTE: "ticket.work_noted",
    JournalKind.FIELD_CHANGE: "ticket.updated",
}


def _journal_emit(ticket: Ticket, entries: list[JournalEntry]) -> None:
    """Tell event listeners what these journal entries mean: created, state changed, commented, updated, assigned."""
    from itsm.registry import events_emit

    changes = {}
    for entry in entries:
        actor = entry.actor.get_username() if entry.actor_id and entry.actor else None
        if entry.kind == JournalKind.TRANSITION:
            event = "ticket.created" if entry.transition == "create" else "ticket.state_changed"
            data = {"transition": entry.transition, "from_state": entry.from_state, "to_state": entry.to_state}
            events_emit(event=event, ticket=ticket, key=f"j{entry.pk}", data={**data, "actor": actor})
        elif entry.kind == JournalKind.FIELD_CHANGE:
            changes[entry.field] = {"old": entry.old_value, "new": entry.new_value}
        elif entry.kind in _JOURNAL_EVENTS:
            events_emit(
                event=_JOURNAL_EVENTS[entry.kind],
                ticket=ticket,
                key=f"j{entry.pk}",
                data={"actor": actor, "body": entry.body},
            )
    if changes:
        first = entries[0]
        actor = first.actor.get_username() if first.actor_id and first.actor else None
        events_emit(
            event="ticket.updated", ticket=ticket, key=f"j{first.pk}", data={"actor": actor, "changes": changes}
        )
        if "assigned_to" in changes or "assignment_group" in changes:
            events_emit(
                event="ticket.assigned", ticket=ticket, key=f"j{first.pk}", data={"actor": actor, "changes": changes}
            )


def ticket_version_bump(*, ticket: Ticket) -> int:
    """Count one more change of the ticket (a transition or field changes) in the database and on the object.

    One atomic UPDATE ... RETURNING, so concurrent changes each get their own version; the object's `version`
    follows, so a later full save writes it back unchanged.
    """
    # The table name comes from model metadata, never from input; the id is a bound parameter.
    sql = f"UPDATE {Ticket._meta.db_table} SET version = version + 1 WHERE id = %s RETURNING version"  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [ticket.pk])
        row = cursor.fetchone()
    ticket.version = row[0]
    return ticket.version


def journal_transition(
    *, ticket: Ticket, actor: User | None, name: str, from_state: str, to_state: str, body: str = ""
) -> JournalEntry:
    """Record a state transition in the journal, with the state category it led to (a new ticket version). The
    creation entry carries the ticket's opening instant, so the journal (and the SLA clocks started from it) begins
    exactly when the ticket does."""
    at = {"created_at": ticket.opened_at} if name == "create" and ticket.opened_at else {}
    return journal_add(
        **at,
        ticket=ticket,
        ticket_version=ticket_version_bump(ticket=ticket),
        actor=actor,
        kind=JournalKind.TRANSITION,
        transition=name,
        from_state=from_state,
        to_state=to_state,
        state_category=ticket.state_category,
        body=body,
    )


def journal_display(value: Any) -> str:
    """How a field value reads in the journal: usernames for users, numbers for tickets, names otherwise."""
    if value is None:
        return ""
    if isinstance(value, User):
        return value.get_username()
    if isinstance(value, Ticket):
        return value.number
    return str(value)


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)[:64]


def journal_field_changes(
    *, ticket: Ticket, actor: User | None, changes: Iterable[tuple[str, Any, Any]]
) -> list[JournalEntry]:
    """Record field changes (field, old value, new value) in one bulk insert, readable and machine-readable; they make
    one new ticket version."""
    changes = list(changes)
    if not changes:
        return []
    version = ticket_version_bump(ticket=ticket)
    now = timezone.now()
    entries = [
        JournalEntry(
            ticket=ticket,
            actor=actor,
            kind=JournalKind.FIELD_CHANGE,
            field=field,
            old_value=journal_display(old),
            new_value=journal_display(new),
            old_raw=_raw(old),
            new_raw=_raw(new),
            created_at=now,
            ticket_version=version,
        )
        for field, old, new in changes
    ]
    entries = JournalEntry.objects.bulk_create(entries)
    if entries:
        _journal_emit(ticket, entries)
    return entries


@transaction.atomic
def ticket_set_fields(
    *, ticket_id: int, changes: dict[str, Any], actor: User | None, note: str
) -> tuple[Ticket, datetime | None]:
    """Change shared Ticket fields on behalf of the system (SLA escalations), journaled with the reason.

    Returns the ticket and the journal time of the change (None when nothing changed).
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    diffs = [(f, getattr(ticket, f), value) for f, value in changes.items() if getattr(ticket, f) != value]
    if not diffs:
        return ticket, None
    for field, _old, value in diffs:
        setattr(ticket, field, value)
    ticket.save(update_fields=[*(field for field, _o, _v in diffs), "updated_at"])
    entries = journal_field_changes(ticket=ticket, actor=actor, changes=diffs)
    journal_add(ticket=ticket, actor=actor, kind=JournalKind.WORK_NOTE, body=note)
    return ticket, entries[0].created_at


def outbox_enqueue(
    *, event: str, ticket: Ticket | None, recipient: User, subject: str, body: str, key: str
) -> OutboxMessage | None:
    """Queue a notification in the current transaction and send it after commit; `key` makes it idempotent.

    The notification channel (the `mail` app) renders the event's template and leaves out recipients who opted out.
    """
    _outbox_emit(event=event, ticket=ticket, key=key)
    if not recipient.email:
        return None
    dedupe_key = f"{event}:{key}:{recipient.pk}"
    queued = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
    if queued is not None:
        return queued
    content = _outbox_compose(event=event, ticket=ticket, recipient=recipient, subject=subject, body=body)
    if content is None:
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key, event=event, ticket=ticket, recipient=recipient, to_email=recipient.email, **content
    )
    if not _outbox_insert(message):  # another transaction queued the key meanwhile
        return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    from itsm.tasks import outbox_send_task

    transaction.on_commit(lambda: outbox_send_task.delay(message_id=message.pk))
    return message


def _outbox_insert(message: OutboxMessage) -> bool:
    """Insert the row unless its dedupe key is queued already (False then): one INSERT ... ON CONFLICT DO NOTHING
    RETURNING, which needs no savepoint around it (get_or_create cost a look-up, a savepoint and its release)."""
    fields = [field for field in OutboxMessage._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(message, True), connection) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    pk = OutboxMessage._meta.pk
    # Table and column names come from model metadata, never from input; every value is a bound parameter.
    sql = (
        f"INSERT INTO {OutboxMessage._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # nosec B608
        f" ON CONFLICT ({connection.ops.quote_name('dedupe_key')}) DO NOTHING"
        f" RETURNING {connection.ops.quote_name(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    message._state.db = connection.alias
    return True


def outbox_enqueue_many(messages: list[dict[str, Any]]) -> None:
    """`outbox_enqueue` for many messages at once (each a dict of its keyword arguments), in a few queries.

    Keys already queued, and repeated keys, are skipped. Should another transaction queue one of the keys meanwhile,
    the messages are queued one by one with `outbox_enqueue` instead.
    """
    wanted: dict[str, dict[str, Any]] = {}
    for message in messages:
        _outbox_emit(event=message["event"], ticket=message["ticket"], key=message["key"])
        recipient = message["recipient"]
        if recipient.email:
            wanted.setdefault(f"{message['event']}:{message['key']}:{recipient.pk}", message)
    if not wanted:
        return
    queued = set(OutboxMessage.objects.filter(dedupe_key__in=list(wanted)).values_list("dedupe_key", flat=True))
    fresh = [(dedupe_key, message) for dedupe_key, message in wanted.items() if dedupe_key not in queued]
    contents = _outbox_compose_many([message for _key, message in fresh])
    new = []
    for (dedupe_key, message), content in zip(fresh, contents, strict=True):
        if content is not None:
            new.append(
                OutboxMessage(
                    dedupe_key=dedupe_key,
                    event=message["event"],
                    ticket=message["ticket"],
                    recipient=message["recipient"],
                    to_email=message["recipient"].email,
                    **content,
                )
            )
    try:
        with transaction.atomic():
            OutboxMessage.objects.bulk_create(new)
    except IntegrityError:
        for message in messages:
            outbox_enqueue(**message)
        return
    if new:
        transaction.on_commit(partial(_outbox_send_later, [row.pk for row in new]))


def _outbox_emit(*, event: str, ticket: Ticket | None, key: str) -> None:
    """A notification event is also an event for listeners (webhooks): once per event and key, not per recipient."""
    from itsm.registry import events_emit

    # ticket.* notifications answer journal events, which listeners have heard already.
    if ticket is not None and not event.startswith("ticket."):
        events_emit(event=event, ticket=ticket, key=key, data={})


def _outbox_compose(*, event: str, ticket: Ticket | None, recipient: User, subject: str, body: str) -> dict | None:
    """The row's subject, text and HTML: from the notification channel's template, or the practice's own text."""
    from itsm.registry import notification_channel

    channel = notification_channel()
    if channel is not None:
        content = channel.compose(event=event, ticket=ticket, recipient=recipient, subject=subject, body=body)
        return _outbox_content(content)
    return _outbox_content({"subject": subject, "body": body})


def _outbox_compose_many(messages: list[dict[str, Any]]) -> list[dict | None]:
    """`_outbox_compose` for many messages, in order (in one go when the channel can)."""
    from itsm.registry import notification_channel

    fields = ("event", "ticket", "recipient", "subject", "body")
    channel = notification_channel()
    if channel is not None and channel.compose_many is not None:
        contents = channel.compose_many([{name: message[name] for name in fields} for message in messages])
        return [_outbox_content(content) for content in contents]
    return [_outbox_compose(**{name: message[name] for name in fields}) for message in messages]


def _outbox_content(content: dict | None) -> dict | None:
    if content is None:
        return None
    # Never a newline in a header.
    return {
        "subject": " ".join(content["subject"].split())[:255],
        "body": content["body"],
        "html_body": content.get("html_body", ""),
    }


def _outbox_send_later(message_ids: list[int]) -> None:
    """One send task per message, published through one producer (a connection from the pool) for them all."""
    from itsm.tasks import outbox_send_task

    with outbox_send_task.app.producer_or_acquire() as producer:
        for message_id in message_ids:
            outbox_send_task.apply_async(kwargs={"message_id": message_id}, producer=producer)


OUTBOX_CLAIM_SECONDS = 600
OUTBOX_MAX_ATTEMPTS = 6
OUTBOX_UNKNOWN_OUTCOME = (
    "The worker stopped while sending, so this message may have gone out: it is not sent again automatically "
    "(no duplicates). Retry it here if the recipient did not get it."
)


def outbox_backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after `attempts` failures: 1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def _outbox_expire_claims(now: datetime, **filters: Any) -> int:
    """Claims older than OUTBOX_CLAIM_SECONDS belong to workers that died between claiming and recording the outcome:
    the message may have been sent, so it is marked failed (for an admin to retry) instead of being sent again."""
    return OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, claimed_at__lt=now - timedelta(seconds=OUTBOX_CLAIM_SECONDS), **filters
    ).update(status=OutboxStatus.FAILED, claimed_at=None, last_error=OUTBOX_UNKNOWN_OUTCOME)


def _outbox_deliver(message: OutboxMessage) -> None:
    from itsm.registry import notification_channel

    channel = notification_channel()
    if channel is not None:
        channel.send(message)
        return
    EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()


def outbox_send(*, message_id: int) -> bool:
    """Send one pending outbox message at most once; a claim (not a transaction) guards it while the server talks.

    Two workers never send the same message at once and no database lock is held during SMTP. A failure the worker
    sees is retried with exponential back-off (`next_attempt_at`) and marked failed after OUTBOX_MAX_ATTEMPTS. A
    worker that dies after claiming leaves a claim that expires into "failed" (never a second send: it may have
    sent); an admin retries it from the outbox page.
    """
    now = timezone.now()
    _outbox_expire_claims(now, pk=message_id)
    claimed = OutboxMessage.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=message_id,
        status=OutboxStatus.PENDING,
        claimed_at__isnull=True,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    message = OutboxMessage.objects.select_related("ticket", "recipient").get(pk=message_id)
    try:
        _outbox_deliver(message)
    except Exception as exc:
        logger.warning("outbox message %s failed: %s", message.pk, exc)
        failed = message.attempts >= OUTBOX_MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id).update(
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            next_attempt_at=None if failed else timezone.now() + outbox_backoff(message.attempts),
            claimed_at=None,
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(status=OutboxStatus.SENT, sent_at=timezone.now())
    return True


def outbox_retry(*, message_id: int) -> bool | None:
    """Give a pending or failed message another attempt now; None when it was already sent (nothing to do)."""
    updated = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, next_attempt_at=None, claimed_at=None
    )
    if not updated:
        if not OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING).exists():
            return None
        OutboxMessage.objects.filter(pk=message_id, claimed_at__isnull=True).update(next_attempt_at=None)
    return outbox_send(message_id=message_id)


def outbox_flush(*, limit: int = 200) -> int:
    """Send what is due (after a lost task or a back-off); returns how many were sent."""
    now = timezone.now()
    _outbox_expire_claims(now)
    ids = list(
        OutboxMessage.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            status=OutboxStatus.PENDING,
            claimed_at__isnull=True,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(outbox_send(message_id=pk) for pk in ids)


# Magic bytes of the binary types we accept; text types must decode as UTF-8 and contain no markup.
_MAGIC = {
    "pdf": [b"%PDF-"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "gif": [b"GIF87a", b"GIF89a"],
    "zip": [b"PK\x03\x04"],
    "docx": [b"PK\x03\x04"],
    "xlsx": [b"PK\x03\x04"],
    "pptx": [b"PK\x03\x04"],
    "odt": [b"PK\x03\x04"],
    "ods": [b"PK\x03\x04"],
}
_TEXT_TYPES = {"txt", "log", "csv", "eml"}
_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "eml": "message/rfc822",
    "csv": "text/csv",
}


def attachment_clean_name(name: str) -> str:
    """A display name without path parts or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>').strip().lstrip(".")
    return cleaned[:200] or "attachment"


def attachment_validate(*, name: str, head: bytes, size: int) -> tuple[str, str]:
    """Check size, extension and content; return (clean name, content type) or raise ValidationError on `file`."""
    clean = attachment_clean_name(name)
    ext = clean.rsplit(".", 1)[-1].lower() if "." in clean else ""
    if size > settings.ITSM_ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {settings.ITSM_ATTACHMENT_MAX_BYTES} bytes."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if ext not in settings.ITSM_ATTACHMENT_ALLOWED_EXTENSIONS:
        raise ValidationError({"file": f"Files of type '.{ext}' are not accepted."})
    if ext in _MAGIC:
        if not any(head.startswith(magic) for magic in _MAGIC[ext]):
            raise ValidationError({"file": f"The content is not a valid .{ext} file."})
    elif ext in _TEXT_TYPES:
        lowered = head.lower()
        if b"\x00" in head or b"<script" in lowered or b"<html" in lowered or b"<svg" in lowered:
            raise ValidationError({"file": "Text files must not contain binary data or markup."})
    return clean, _CONTENT_TYPES.get(ext, "text/plain")


@transaction.atomic
def attachment_add(*, ticket: Ticket, by: User, uploaded, public: bool = True):
    """Validate and store an uploaded file on the ticket, and journal it as a work note or comment."""
    from itsm.models import Attachment

    if not ticket.active:
        raise ValidationError({"file": "A closed or cancelled ticket takes no more attachments."})
    head = uploaded.read(512)
    uploaded.seek(0)
    name, content_type = attachment_validate(name=uploaded.name or "", head=head, size=uploaded.size)
    attachment = Attachment(
        ticket=ticket, filename=name, content_type=content_type, size=uploaded.size, public=public, uploaded_by=by
    )
    attachment.file.save(name, uploaded, save=False)
    attachment.save()
    journal_add(
        ticket=ticket,
        actor=by,
        kind=JournalKind.COMMENT if public else JournalKind.WORK_NOTE,
        body=f"Attached {name} ({uploaded.size} bytes)",
    )
    return attachment


# --- approvals ------------------------------------------------------------------------------------------------


def approval_policy_for(*, practice: str, ticket_type: str, risk: str):
    """The first active policy (by order) for this practice whose type and risk match (blank matches any)."""
    from itsm.models import ApprovalPolicy

    return (
        ApprovalPolicy.objects.filter(practice=practice, active=True)
        .filter(Q(ticket_type="") | Q(ticket_type=ticket_type), Q(risk="") | Q(risk=risk))
        .order_by("order", "name")
        .first()
    )


def _stage_approvers(*, stage, ticket: Ticket) -> list[User]:
    """The active users a stage asks, resolved now from its source."""
    from itsm.enums import ApproverSource
    from itsm.registry import approval_practice

    users: Iterable[User]
    if stage.source == ApproverSource.USERS:
        users = stage.users.all()
    elif stage.source == ApproverSource.TEAM:
        users = stage.team.members.all() if stage.team_id else []
    elif stage.source == ApproverSource.CI_OWNER_TEAM:
        practice = approval_practice(ticket.kind)
        cis = list(practice.configuration_items(ticket.pk)) if practice and practice.configuration_items else []
        if not cis and ticket.configuration_item_id:
            cis = [ticket.configuration_item]
        team_ids = {ci.owner_team_id for ci in cis if ci.owner_team_id}
        users = User.objects.filter(teams__in=team_ids).distinct()
    else:  # REQUESTER_MANAGER: the requester's own manager where one is known, else the managers of their teams
        from itsm.registry import user_managers

        users = (
            user_managers(ticket.caller_id)
            or User.objects.filter(managed_teams__members=ticket.caller_id, managed_teams__active=True).distinct()
        )
    return sorted({u for u in users if u.is_active}, key=lambda u: u.pk)


def _stage_needs(stage, count: int) -> int:
    from itsm.enums import ApprovalRule

    if stage.rule == ApprovalRule.ALL:
        return count
    if stage.rule == ApprovalRule.N_OF_M:
        return stage.required
    return 1


def _request_stage(*, ticket: Ticket, policy, stage, by: User | None) -> list:
    """Ask a stage's approvers; refuse (400) a stage that resolves to too few approvers to ever be met."""
    from itsm.approval_links import approval_link_url
    from itsm.models import Approval

    approvers = _stage_approvers(stage=stage, ticket=ticket)
    needed = _stage_needs(stage, len(approvers))
    if not approvers or needed > len(approvers):
        raise ValidationError(
            {
                "approval_policy": f"Stage {stage.number} of '{policy}' needs {max(needed, 1)} approver(s) "
                f"and finds {len(approvers)}."
            }
        )
    approvals = Approval.objects.bulk_create(
        [Approval(ticket=ticket, policy=policy, stage=stage.number, approver=user) for user in approvers]
    )
    journal_add(
        ticket=ticket,
        actor=by,
        kind=JournalKind.WORK_NOTE,
        body=f"Approval requested ({policy}, stage {stage.number}, {stage.get_rule_display().lower()}"
        f"{f' {needed}' if stage.rule == 'n_of_m' else ''}): {', '.join(u.get_username() for u in approvers)}.",
    )
    for approval, user in zip(approvals, approvers, strict=True):
        outbox_enqueue(
            event="approval.requested",
            ticket=ticket,
            recipient=user,
            subject=f"[{ticket.number}] Approval requested: {ticket.short_description}",
            body=f"Your approval is requested for {ticket.number}: {ticket.short_description}\n\n"
            f"Approve or reject (sign in as {user.get_username()}; the link is yours only and expires):\n"
            f"{approval_link_url(approval)}\n\n"
            f"By API: {settings.ITSM_SITE_URL}/api/v1/approvals/{approval.pk}/",
            key=f"{approval.pk}",
        )
    return approvals


@transaction.atomic
def approvals_request(*, ticket: Ticket, policy, by: User | None = None) -> list:
    """Ask the first stage of the policy's approvers; later stages are asked as each stage before them is met.

    Effects: approvals rows, a work note naming the approvers, one notification per approver (after commit).
    """
    stages = list(policy.stages.order_by("number"))
    if not stages:
        raise ValidationError({"approval_policy": f"'{policy}' has no stages."})
    return _request_stage(ticket=ticket, policy=policy, stage=stages[0], by=by)


@transaction.atomic
def approvals_withdraw(*, ticket: Ticket, by: User | None = None) -> int:
    """Withdraw the ticket's pending approvals (rejected, reverted or canceled); returns how many."""
    from itsm.enums import ApprovalState
    from itsm.models import Approval

    pending = list(
        Approval.objects.select_for_update().filter(ticket=ticket, state=ApprovalState.REQUESTED).order_by("pk")
    )
    for approval in pending:
        approval.withdraw()
        approval.save()
    if pending:
        journal_add(ticket=ticket, actor=by, kind=JournalKind.WORK_NOTE, body=f"Withdrew {len(pending)} approval(s).")
    return len(pending)


def _decide(*, approval, by: User, comment: str, name: str):
    from itsm.enums import ApprovalState
    from itsm.models import Approval
    from itsm.registry import approval_practice

    # One decision at a time per ticket: the stage count below must see every other decision.
    ticket = Ticket.objects.select_for_update().get(pk=approval.ticket_id)
    approval = Approval.objects.select_related("policy").get(pk=approval.pk)
    transition_ensure_allowed(user=by, transition=getattr(approval, name))
    if name == "reject" and not (comment or "").strip():
        raise ValidationError({"comment": "Say why you reject."})
    getattr(approval, name)(comment=(comment or "").strip())
    approval.save()
    verb = "approved" if name == "approve" else "rejected"
    journal_add(
        ticket=ticket,
        actor=by,
        kind=JournalKind.WORK_NOTE,
        body=f"{by.get_username()} {verb} (stage {approval.stage})"
        + (f": {approval.comment}" if approval.comment else "."),
    )
    practice = approval_practice(ticket.kind)
    if name == "reject":
        # Any rejection rejects the ticket (ServiceNow's default); the practice withdraws what is still pending.
        if practice is not None:
            practice.on_rejected(ticket_id=ticket.pk, by=by, comment=approval.comment)
        return approval
    stage_rows = Approval.objects.filter(ticket=ticket, stage=approval.stage, policy=approval.policy).exclude(
        state=ApprovalState.WITHDRAWN
    )
    states = list(stage_rows.values_list("state", flat=True))
    stage = approval.policy.stages.filter(number=approval.stage).first() if approval.policy else None
    needed = _stage_needs(stage, len(states)) if stage else len(states)
    if states.count(ApprovalState.APPROVED) < needed:
        return approval
    for other in stage_rows.filter(state=ApprovalState.REQUESTED).select_for_update():
        other.skip()
        other.save()
    following = approval.policy.stages.filter(number__gt=approval.stage).order_by("number").first()
    if following is not None:
        _request_stage(ticket=ticket, policy=approval.policy, stage=following, by=by)
    else:
        journal_add(
            ticket=ticket, actor=by, kind=JournalKind.WORK_NOTE, body=f"Approval policy '{approval.policy}' met."
        )
        if practice is not None:
            practice.on_approved(ticket_id=ticket.pk, by=by)
    return approval


@transaction.atomic
def approval_approve(*, approval, by: User, comment: str = ""):
    """Approve as the approver (403 for anyone else, 409 once decided); meeting the last stage tells the practice."""
    return _decide(approval=approval, by=by, comment=comment, name="approve")


@transaction.atomic
def approval_reject(*, approval, by: User, comment: str = ""):
    """Reject as the approver (403 / 409 as for approve); the practice reverts the ticket and withdraws the rest."""
    return _decide(approval=approval, by=by, comment=comment, name="reject")


# --- watchers ----------------------------------------------------------------------------------------------------


def _watch_list_journal(*, ticket: Ticket, by: User | None, old: list[str], new: list[str], note: str) -> None:
    """One field change of `watchers` (the whole list before and after, by username), and a work note saying why
    when the system made it. The watch list is not a field of the ticket's record: the change does not bump the
    ticket's version, so an agent's open edit form does not become stale because somebody started watching."""
    now = timezone.now()
    entry = JournalEntry.objects.create(
        ticket=ticket,
        actor=by,
        kind=JournalKind.FIELD_CHANGE,
        field="watchers",
        old_value=", ".join(old),
        new_value=", ".join(new),
        created_at=now,
        ticket_version=ticket.version,
    )
    _journal_emit(ticket, [entry])
    if note:
        journal_add(ticket=ticket, actor=by, kind=JournalKind.WORK_NOTE, body=note)


def _watcher_names(ticket: Ticket) -> list[str]:
    from itsm.models import TicketWatcher

    return list(
        TicketWatcher.objects.filter(ticket=ticket).order_by("user__username").values_list("user__username", flat=True)
    )


@transaction.atomic
def ticket_watchers_add(*, ticket: Ticket, users: Iterable[User], by: User | None, note: str = "") -> list[User]:
    """Put people on the ticket's watch list (those on it already are left alone); returns who was added.

    Effects: one journaled field change `watchers` (old and new list) when anybody was added, and `note` as a work
    note (the rule or trigger that did it). Inactive users are refused (400 on `watchers`).
    """
    from itsm.models import TicketWatcher

    ensure_agent(by, "change the watch list")
    users = list({user.pk: user for user in users}.values())
    for user in users:
        if not user.is_active:
            raise ValidationError({"watchers": f"{user.get_username()} is not an active user."})
        if ticket.kind not in CALLER_VISIBLE_KINDS and not is_agent(user):
            message = f"{user.get_username()} is not an agent: only agents can watch a {ticket.get_kind_display()}."
            raise ValidationError({"watchers": message})
    # Lock the ticket row: two concurrent changes of the list journal one after the other, each with the right "old".
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True).first()
    old = _watcher_names(ticket)
    added = [user for user in users if user.get_username() not in old]
    if not added:
        return []
    TicketWatcher.objects.bulk_create(
        [TicketWatcher(ticket=ticket, user=user, added_by=by) for user in added], ignore_conflicts=True
    )
    _watch_list_journal(ticket=ticket, by=by, old=old, new=_watcher_names(ticket), note=note)
    return added


@transaction.atomic
def ticket_watcher_remove(*, ticket: Ticket, user: User, by: User | None, note: str = "") -> bool:
    """Take one person off the ticket's watch list; False (nothing journaled) when they were not on it."""
    from itsm.models import TicketWatcher

    ensure_agent(by, "change the watch list")
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True).first()
    old = _watcher_names(ticket)
    deleted, _rows = TicketWatcher.objects.filter(ticket=ticket, user=user).delete()
    if not deleted:
        return False
    _watch_list_journal(ticket=ticket, by=by, old=old, new=_watcher_names(ticket), note=note)
    return True


def tickets_sweep(*, tickets: QuerySet, act: Callable[[Any], Any], batch_size: int = 200) -> int:
    """Run `act` (a practice's service) on every ticket `tickets` selects (ordered), in batches locked with SKIP
    LOCKED so that concurrent sweeps never share one, each in its own savepoint; returns how many it did.

    A ticket changed meanwhile (its transition refused) is skipped, logged and not tried again in this sweep. Safe to
    run twice or concurrently: what one run did no longer matches `tickets` for the next.
    """
    done = 0
    skipped: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(tickets.exclude(pk__in=skipped).select_for_update(skip_locked=True, of=("self",))[:batch_size])
            for ticket in batch:
                try:
                    with transaction.atomic():
                        act(ticket)
                        done += 1
                except (TransitionNotAllowed, ConcurrentTransition):
                    skipped.add(ticket.pk)
                    logger.info("%s skipped by the sweep: changed meanwhile", ticket.number)
        if len(batch) < batch_size:
            return done
