"""Email-to-ticket: parse a raw message, recognise automatic mail and loops, match the sender, thread replies onto
their ticket (our Message-ID, else the ticket number in the subject, else a new ticket), keep only the new text of a
reply, and keep the original and every attachment through the kernel's attachment rules."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from itsm.configcache import ConfigCache
from itsm.enums import JournalKind, Role
from itsm.models import OutboxMessage, Ticket
from itsm.services import attachment_add
from mail.models import InboundMessage, InboundStatus, Mailbox, UnknownSenders
from mail.outbound import header_clean, parse_our_ids

logger = logging.getLogger(__name__)

NUMBER_IN_SUBJECT = re.compile(r"\[((?:INC|PRB|CHG|REQ|RITM|TASK)\d{7})\]", re.IGNORECASE)

# --- what each practice does with mail: create from a new message, comment from a reply -------------------------


def _incident_create(*, by: User, subject: str, body: str, mailbox: Mailbox | None = None) -> Ticket:
    from incidents.services import incident_create

    return incident_create(by=by, short_description=subject, description=body)


def _incident_comment(*, ticket: Ticket, by: User, body: str) -> None:
    from incidents.models import Incident
    from incidents.services import incident_comment

    incident_comment(incident=Incident.objects.get(pk=ticket.pk), by=by, body=body, kind=JournalKind.COMMENT)


def _practice_comment(model_path: str, service_path: str, keyword: str) -> Callable[..., None]:
    def comment(*, ticket: Ticket, by: User, body: str) -> None:
        from importlib import import_module

        module, model = model_path.rsplit(".", 1)
        record = getattr(import_module(module), model).objects.get(pk=ticket.pk)
        module, service = service_path.rsplit(".", 1)
        getattr(import_module(module), service)(**{keyword: record}, by=by, body=body, kind=JournalKind.COMMENT)

    return comment


# Mailbox.creates -> service (the requests practice registers "request" in its AppConfig.ready);
# Ticket.kind -> how a reply becomes a comment.
_CREATORS: dict[str, Callable[..., Ticket]] = {"incident": _incident_create}
_COMMENTERS: dict[str, Callable[..., None]] = {
    "incident": _incident_comment,
    "problem": _practice_comment("problems.models.Problem", "problems.services.problem_comment", "problem"),
    "change": _practice_comment("changes.models.Change", "changes.services.change_comment", "change"),
}


def ticket_creator_register(
    kind: str, create: Callable[..., Ticket], comment: Callable[..., None] | None = None
) -> None:
    """Let a practice take new mail (`create(by=, subject=, body=, mailbox=)`) and replies to tickets of `kind`
    (`comment(ticket=, by=, body=)`)."""
    _CREATORS[kind] = create
    if comment is not None:
        _COMMENTERS[kind] = comment


def ticket_commenter_register(kind: str, comment: Callable[..., None]) -> None:
    """Let replies to tickets of `kind` (a practice's second ticket kind, e.g. requested items) become comments."""
    _COMMENTERS[kind] = comment


def ticket_creators() -> dict[str, Callable[..., Ticket]]:
    return dict(_CREATORS)


# --- parsing -----------------------------------------------------------------------------------------------------


def _header(msg: Message, name: str) -> str:
    """A header decoded (encoded words) to one line; never raises on malformed values. Parsed once per message
    (ingestion asks for From, Subject and a dozen others several times; each parse costs the email package ~0.2 ms)."""
    cache = msg.__dict__.setdefault("_itsm_header_cache", {})
    key = name.lower()
    if key not in cache:
        cache[key] = _header_parse(msg, name)
    return cache[key]


def _header_parse(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        if value is None:
            return ""
        return header_clean(str(value))
    except Exception:
        raw = msg.get_all(name, [""])[0] if hasattr(msg, "get_all") else ""
        try:
            return header_clean(str(make_header(decode_header(str(raw)))))
        except Exception:
            return header_clean(str(raw).encode("ascii", "replace").decode())


def _part_text(part: Message) -> str:
    """A text part's content in every charset and transfer encoding; unknown charsets fall back without failing."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except Exception:
        pass
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    for charset in (part.get_content_charset(), "utf-8", "cp1252"):
        if charset:
            try:
                return payload.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
    return payload.decode("latin-1")


def html_to_text(html: str) -> str:
    """HTML as plain text: scripts, styles and markup gone, block layout kept; the result is only ever shown escaped."""
    from inscriptis import get_text

    if not html.strip():
        return ""
    try:
        text = get_text(html)
    except Exception:
        text = re.sub(r"<[^>]*>", " ", html)
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def _walk(msg: Message):
    """Every leaf part, not descending into attached messages (message/rfc822 is an attachment)."""
    if msg.is_multipart() and msg.get_content_type() != "message/rfc822":
        for part in msg.get_payload() if isinstance(msg.get_payload(), list) else []:
            yield from _walk(part)
    else:
        yield msg


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if part.get_content_type() == "message/rfc822":
        return True
    return disposition == "attachment" or bool(_filename(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if name and "=?" in name:
        with contextlib.suppress(Exception):
            name = str(make_header(decode_header(name)))
    return " ".join(name.split())


def message_body(msg: Message) -> str:
    """The message's text: the first plain-text body part, else its HTML converted safely to text."""
    plain = html = None
    for part in _walk(msg):
        if _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)
        elif ctype == "text/html" and html is None:
            html = _part_text(part)
    if plain is not None and plain.strip():
        return plain.replace("\r\n", "\n").strip()
    if html is not None:
        return html_to_text(html)
    if msg.get_content_maintype() not in ("multipart", "text") or msg.is_multipart():
        return plain or ""
    return (plain or "").strip()


def message_attachments(msg: Message) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every attachment, names decoded from RFC 2231 and encoded words."""
    found = []
    for part in _walk(msg):
        if part is msg or not _is_attachment(part):
            continue
        name = _filename(part)
        try:
            if part.get_content_type() == "message/rfc822":
                # Attached messages (forwards, bounced originals) are kept whole.
                inner = part.get_payload()
                payload = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
                name = name or "forwarded.eml"
            else:
                payload = part.get_payload(decode=True) or b""
        except Exception:
            payload = part.as_bytes(policy=policy.compat32) if hasattr(part, "as_bytes") else b""
        if not name:
            name = "attachment" + (mimetypes.guess_extension(part.get_content_type()) or ".bin")
        found.append((name, payload))
    return found


_SIGNATURE = re.compile(
    r"^(-- ?|__+|sent from my \w+.*|get outlook for .*|envoyé de mon .*|von meinem .* gesendet)$", re.IGNORECASE
)


def reply_text(text: str) -> str:
    """Only what the sender wrote now: quoted history ("On ... wrote:", "> ", forwarded headers) and the signature
    below an RFC 3676 "-- " line (or a phone's "Sent from my ...") removed."""
    from mailparser_reply import EmailReplyParser

    lines = text.replace("\r\n", "\n").split("\n")
    try:
        reply = EmailReplyParser(languages=["en", "de", "fr", "it", "es", "nl", "pl", "sv"]).parse_reply(
            text="\n".join(lines)
        )
    except Exception:
        reply = text
    kept = []
    for line in (reply or "").split("\n"):
        if _SIGNATURE.match(line.strip()):
            break
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()


# --- automatic mail -----------------------------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|réponse automatique|"
    r"autosvar|vacation|fuera de la oficina)\b|^auto:",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status notification|failure|has failed)|mail delivery failed|returned mail|"
    r"failure notice|non.?delivery)",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|noreply-dmarc)@", re.IGNORECASE)


def automatic_kind(msg: Message) -> tuple[str, str] | None:
    """(status, reason) when the message was written by a machine and must get no ticket and no reply."""
    ctype = msg.get_content_type()
    report = (msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    if ctype == "multipart/report":
        kind = "feedback report" if report == "feedback-report" else f"delivery report ({report or 'unknown'})"
        return InboundStatus.BOUNCE, f"multipart/report: {kind}"
    if any(p.get_content_type() in ("message/delivery-status", "message/feedback-report") for p in msg.walk()):
        return InboundStatus.BOUNCE, "contains a delivery status or feedback report"
    sender = _header(msg, "From")
    addresses = [addr for _name, addr in getaddresses([sender])]
    if any(_BOUNCE_SENDER.match(a) for a in addresses) or _header(msg, "Return-Path") == "<>":
        return InboundStatus.BOUNCE, "from a mailer daemon"
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return InboundStatus.AUTO_REPLY, f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return InboundStatus.AUTO_REPLY, f"Precedence: {precedence}"
    for name in (
        "X-Autoreply",
        "X-Autorespond",
        "X-Autogenerated",
        "X-AutoReply-From",
        "X-Mail-Autoreply",
        "X-FC-MachineGenerated",
    ):
        if msg.get(name) is not None:
            return InboundStatus.AUTO_REPLY, f"{name} header"
    if _header(msg, "X-Auto-Response-Suppress").lower() in ("all", "oof", "autoreply") and _AUTO_SUBJECT.search(
        _header(msg, "Subject")
    ):
        return InboundStatus.AUTO_REPLY, "Exchange automatic reply"
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return InboundStatus.AUTO_REPLY, "mailing-list message"
    subject = _header(msg, "Subject")
    if _AUTO_SUBJECT.search(subject):
        return InboundStatus.AUTO_REPLY, "automatic-reply subject"
    if _BOUNCE_SUBJECT.search(subject) and not msg.get("In-Reply-To"):
        return InboundStatus.BOUNCE, "bounce subject"
    return None


# The mailboxes' addresses, per process for a few seconds (itsm.configcache): every message asked.
MAILBOX_ADDRESSES = ConfigCache(
    lambda: frozenset(address.lower() for address in Mailbox.objects.values_list("address", flat=True)),
    model="mail.Mailbox",
)


def _is_ours(msg: Message) -> bool:
    """Mail we sent ourselves (our Message-ID, our event header, our sender or a mailbox address as sender)."""
    if parse_our_ids(_header(msg, "Message-ID")) or msg.get("X-ITSM-Event") is not None:
        return True
    addresses = {addr.lower() for _n, addr in getaddresses([_header(msg, "From")])}
    return bool(addresses & {settings.DEFAULT_FROM_EMAIL.lower(), *MAILBOX_ADDRESSES.get()})


# --- ingestion ----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What ingestion made of one message."""

    record: InboundMessage
    created: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.record.status


def _sender_user(*, address: str, name: str, mailbox: Mailbox | None) -> User | None:
    user = User.objects.filter(email__iexact=address, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    if mailbox is not None and mailbox.unknown_senders == UnknownSenders.REJECT:
        return None
    base = address.lower()[:140]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    first, _sep, last = name.partition(" ")
    user = User(username=username, email=address, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=Role.END_USER)[0])
    return user


def _thread_ticket(msg: Message) -> tuple[Ticket | None, str]:
    """The ticket a reply belongs to: our Message-ID in In-Reply-To/References, a message that made or commented a
    ticket, else the ticket number in the subject."""
    refs = f"{_header(msg, 'In-Reply-To')} {_header(msg, 'References')}"
    for kind, pk in parse_our_ids(refs):
        ticket_id = (
            pk if kind == "t" else OutboxMessage.objects.filter(pk=pk).values_list("ticket_id", flat=True).first()
        )
        if ticket_id and (ticket := Ticket.objects.filter(pk=ticket_id).first()):
            return ticket, "our Message-ID in the references"
    ids = re.findall(r"<[^<>\s]+>", refs)
    if ids:
        known = (
            InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .order_by("-received_at")
            .values_list("ticket_id", flat=True)
            .first()
        )
        if known:
            return Ticket.objects.get(pk=known), "a message of the ticket in the references"
    match = NUMBER_IN_SUBJECT.search(_header(msg, "Subject"))
    if match and (ticket := Ticket.objects.filter(number=match.group(1).upper()).first()):
        return ticket, "the ticket number in the subject"
    return None, ""


def _subject_for_ticket(subject: str) -> str:
    cleaned = re.sub(r"^((re|fw|fwd|aw|wg|sv|tr)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip()
    return (cleaned or "(no subject)")[:160]


def _keep_files(*, ticket: Ticket, by: User, raw: bytes, msg: Message, comment: bool, notes: list[str]) -> None:
    """The original message (as original.eml, agents only) and every attachment, each under the attachment rules."""
    files = [("original.eml", raw, False)] + [(name, data, True) for name, data in message_attachments(msg)]
    for name, data, public in files:
        # attachment_add is atomic itself: a refused file rolls back its own savepoint and the message goes on (a
        # second savepoint here cost two round trips per file, a tenth of ingestion's queries).
        try:
            attachment_add(ticket=ticket, by=by, uploaded=ContentFile(data, name=name), public=public)
        except (ValidationError, PermissionDenied) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            notes.append(f"{name} not kept: {reason}")


def _ingest(record: InboundMessage, msg: Message, raw: bytes, mailbox: Mailbox | None, notes: list[str]) -> None:
    if _is_ours(msg):
        record.status, record.reason = InboundStatus.LOOP, "sent by this service desk"
        return
    automatic = automatic_kind(msg)
    if automatic:
        record.status, record.reason = automatic
        return
    senders = [
        (name, addr) for name, addr in getaddresses([_header(msg, "Reply-To") or _header(msg, "From")]) if "@" in addr
    ]
    if not senders:
        senders = [(name, addr) for name, addr in getaddresses([_header(msg, "From")]) if "@" in addr]
    if not senders:
        record.status, record.reason = InboundStatus.REJECTED, "no sender address"
        return
    name, address = senders[0]
    record.from_address = address.lower()[:255]
    limit = mailbox.rate_limit_per_hour if mailbox else 0
    if limit and (
        InboundMessage.objects.filter(
            from_address=record.from_address,
            received_at__gte=timezone.now() - timedelta(hours=1),
            status__in=[InboundStatus.CREATED, InboundStatus.COMMENTED],
        ).count()
        >= limit
    ):
        record.status, record.reason = InboundStatus.RATE_LIMITED, f"more than {limit} messages in an hour"
        return
    user = _sender_user(address=address, name=name, mailbox=mailbox)
    if user is None:
        record.status, record.reason = InboundStatus.REJECTED, f"{address} is not a known user"
        return
    record.sender = user
    body = message_body(msg)
    ticket, how = _thread_ticket(msg)
    if ticket is not None and ticket.active and ticket.kind in _COMMENTERS:
        text = reply_text(body) or "(no text)"
        try:
            with transaction.atomic():
                _COMMENTERS[ticket.kind](ticket=ticket, by=user, body=text)
                _keep_files(ticket=ticket, by=user, raw=raw, msg=msg, comment=True, notes=notes)
            record.status, record.ticket = InboundStatus.COMMENTED, ticket
            record.reason = f"reply to {ticket.number} (found by {how})"
            return
        except (PermissionDenied, ValidationError) as exc:
            notes.append(f"could not comment on {ticket.number}: {exc}")
    creates = mailbox.creates if mailbox else "incident"
    create = _CREATORS.get(creates)
    if create is None:
        record.status, record.reason = InboundStatus.FAILED, f"no practice creates '{creates}' from mail"
        return
    description = body or "(no text)"
    if ticket is not None:
        description = f"Follow-up to {ticket.number}.\n\n{description}"
    new = create(by=user, subject=_subject_for_ticket(_header(msg, "Subject")), body=description, mailbox=mailbox)
    _keep_files(ticket=new, by=user, raw=raw, msg=msg, comment=False, notes=notes)
    record.status, record.ticket, record.reason = InboundStatus.CREATED, new, f"new {creates} {new.number}"


def email_ingest(*, raw: bytes, mailbox: Mailbox | None = None) -> Outcome:
    """Turn one raw RFC 5322 message into a ticket or a comment, or set it aside with the reason; never raises.

    A message seen before (same Message-ID, or same bytes when it has none) is not ingested twice.
    """
    msg = message_from_bytes(raw, policy=policy.default)
    message_id = _header(msg, "Message-ID")[:255]
    dedupe = message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    existing = InboundMessage.objects.filter(dedupe_key=dedupe).first()
    if existing is not None:
        return Outcome(record=existing, created=False)
    record = InboundMessage(
        mailbox=mailbox,
        dedupe_key=dedupe,
        message_id=message_id,
        from_address=_header(msg, "From")[:255],
        subject=_header(msg, "Subject")[:255],
        raw=raw,
        size=len(raw),
        defects="; ".join(sorted({type(d).__name__ for p in msg.walk() for d in getattr(p, "defects", [])}))[:2000],
    )
    notes: list[str] = []
    try:
        with transaction.atomic():
            _ingest(record, msg, raw, mailbox, notes)
    except Exception as exc:
        logger.exception("ingesting %s failed", dedupe)
        record.ticket = record.sender = None
        record.status, record.reason = InboundStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    if notes:
        record.reason = "\n".join([record.reason, *notes])
    record.save()
    return Outcome(record=record, notes=notes)
