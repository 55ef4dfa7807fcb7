"""Service request use cases: order (REQ with its RITMs), the approval reactions, fulfilment tasks and their
sequencing, withdrawal, closing, comments and the satisfaction rating.

Each runs in one transaction: permission check, transition, save, journal, SLA re-evaluation, and notifications
through the outbox. The requester orders, comments, withdraws and confirms; agents fulfil.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from automation.services import apply_rules_on_create
from catalog.models import CatalogItem
from catalog.selectors import catalog_item_current_version, catalog_items_available_to
from catalog.variables import variables_validate
from itsm.enums import JournalKind, StateCategory, TicketKind
from itsm.models import ApprovalPolicy, JournalEntry, Team, Ticket
from itsm.rules import is_agent
from itsm.services import (
    approvals_request,
    approvals_withdraw,
    attachment_add,
    attachment_validate,
    ensure_agent,
    journal_add,
    journal_field_changes,
    journal_transition,
    outbox_enqueue,
    ticket_field_errors,
    ticket_next_number,
    tickets_sweep,
    transition_ensure_allowed,
)
from requests_app.enums import (
    FINAL_REQUESTED_ITEM_STATES,
    OPEN_TASK_STATES,
    FulfilmentTaskState,
    RequestedItemCloseCode,
    RequestedItemState,
    RequestState,
)
from requests_app.models import FulfilmentTask, Request, RequestedItem, SatisfactionRating, Upload
from slas.services import sla_evaluate

R = RequestedItemState
TEXT_LIMIT = 20000
MAX_ITEMS_PER_REQUEST = 20


def _columns(ticket: Ticket) -> dict[str, Any]:
    return {field.attname: getattr(ticket, field.attname) for field in ticket._meta.concrete_fields}


def _transition(
    ticket: Request | RequestedItem | FulfilmentTask,
    name: str,
    by: User | None,
    body: str = "",
    actor: User | None = None,
    **kwargs: Any,
) -> None:
    """Run one transition: check, change, save what changed (optimistic on state), journal, re-evaluate SLAs.

    `by=None` is the system (approvals, task sequencing) and skips the permission check; `actor` is then journaled.
    """
    method = getattr(ticket, name)
    if by is not None:
        transition_ensure_allowed(user=by, transition=method)
    source = ticket.state
    before = _columns(ticket)
    method(by=by, **kwargs)
    changed = [column for column, value in _columns(ticket).items() if before[column] != value]
    ticket.save(update_fields=[*changed, "updated_at"])
    entry = journal_transition(
        ticket=ticket, actor=by or actor, name=name, from_state=source, to_state=ticket.state, body=body
    )
    sla_evaluate(ticket=ticket, at=entry.created_at)


def _notify(*, ticket: Ticket, event: str, subject: str, body: str, key: str, recipient: User | None = None) -> None:
    recipient = recipient or ticket.caller
    outbox_enqueue(
        event=event,
        ticket=ticket,
        recipient=recipient,
        subject=f"[{ticket.number}] {subject}",
        body=f"{body}\n\n{settings.ITSM_SITE_URL}/portal/requests/{ticket.number}/",
        key=key,
    )


def _create_ticket(ticket: Ticket, by: User | None) -> JournalEntry:
    ticket.kind = ticket.KIND
    ticket.sync_state_category(ticket.state)
    ticket.number = ticket_next_number(kind=ticket.KIND)
    ticket.save()
    entry = journal_transition(ticket=ticket, actor=by, name="create", from_state="", to_state=ticket.state)
    sla_evaluate(ticket=ticket, at=entry.created_at)
    return entry


# --- ordering -------------------------------------------------------------------------------------------------


def order_line_validate(
    *,
    user: User,
    catalog_item: Any,
    quantity: Any = 1,
    variables: Any = None,
    files=None,
    resolve_upload: Callable[[str, Any], Any] | None = None,
):
    """Check one order line: the item is orderable by the user, the quantity fits, every answer is valid (an
    attachment answer is a file in `files`, or an upload id that `resolve_upload` turns into its file).

    Returns (item, version, quantity, stored answers, display answers); raises ValidationError keyed by
    `catalog_item`, `quantity` or `variables.<name>`.
    """
    item_id = catalog_item.pk if isinstance(catalog_item, CatalogItem) else catalog_item
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise ValidationError({"catalog_item": ["Give the id of a catalog item."]}) from None
    item = catalog_items_available_to(user=user).filter(pk=item_id).first()
    if item is None:
        raise ValidationError({"catalog_item": [f"No catalog item {item_id} is available to you."]})
    version = catalog_item_current_version(item=item)
    errors: dict[str, list[str]] = {}
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    limit = version.definition.get("max_quantity", 1)
    if not 1 <= quantity <= limit:
        errors["quantity"] = [f"Order between 1 and {limit}."]
    stored: dict[str, Any] = {}
    display: dict[str, str] = {}
    if variables is not None and not isinstance(variables, dict):
        errors["variables"] = ["Send the answers as an object: question name -> answer."]
    else:
        try:
            stored, display = variables_validate(
                definition=version.definition, values=variables, files=files, resolve_upload=resolve_upload
            )
        except ValidationError as error:
            errors |= {f"variables.{name}": messages for name, messages in error.message_dict.items()}
    if errors:
        raise ValidationError(errors)
    return item, version, quantity, stored, display


@transaction.atomic
def request_create(*, by: User, items: list[dict[str, Any]]) -> Request:
    """Order one or more catalog items for oneself: a REQ with one RITM per line, each then sent for approval (by
    its item's policy) or straight to fulfilment.

    Each line is {"catalog_item", "quantity", "variables", optional "files"}. An attachment question is answered by a
    file in "files" (the portal) or by the id of one of the requester's uploads in "variables" (the API: see
    upload_create). Any bad line refuses the whole order with errors keyed `items[<index>].<field>`
    (`items[0].variables.ram`); nothing is created and no upload is used up.
    Effects: REQ and RITMs journaled and SLA-evaluated, files attached to their items (used uploads removed),
    approvals requested or tasks created, the requester told.
    """
    uploads = _UploadClaims(by)
    try:
        return _request_create(by, items, uploads)
    finally:
        uploads.close()


def _request_create(by: User, items: list[dict[str, Any]], uploads: _UploadClaims) -> Request:
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": ["Order at least one item."]})
    if len(items) > MAX_ITEMS_PER_REQUEST:
        raise ValidationError({"items": [f"At most {MAX_ITEMS_PER_REQUEST} items per request."]})
    lines, errors = [], {}
    for index, line in enumerate(items):
        if not isinstance(line, dict):
            errors[f"items[{index}]"] = ["Each item is an object with catalog_item, quantity and variables."]
            continue
        line_files = dict(line.get("files") or {})
        try:
            checked = order_line_validate(
                user=by,
                catalog_item=line.get("catalog_item"),
                quantity=line.get("quantity", 1),
                variables=line.get("variables") or {},
                files=line.get("files"),
                resolve_upload=uploads.resolver(line_files),
            )
            lines.append((*checked, line_files))
        except ValidationError as error:
            errors |= {f"items[{index}].{field}": messages for field, messages in error.message_dict.items()}
    if errors:
        raise ValidationError(errors)
    first = lines[0][0]
    title = first.name if len(lines) == 1 else f"{first.name} and {len(lines) - 1} more"
    request = Request(short_description=title[:160], caller=by, opened_by=by, service=first.service)
    _create_ticket(request, by)
    apply_rules_on_create(ticket=request, by=by)
    created = []
    for item, version, quantity, stored, display, files in lines:
        definition = version.definition
        ritm = RequestedItem(
            request=request,
            catalog_item=item,
            item_version=version,
            quantity=quantity,
            variables=stored,
            variable_display=display,
            short_description=(f"{quantity} x {item.name}" if quantity > 1 else item.name)[:160],
            description=item.short_description,
            caller=by,
            opened_by=by,
            service_id=definition.get("service"),
            assignment_group_id=definition.get("fulfilment_group"),
        )
        _create_ticket(ritm, by)
        for name, upload in files.items():
            if name in stored:  # not the file of a question its show-when rule hid
                upload.seek(0)  # one upload may answer several lines
                attachment_add(ticket=ritm, by=by, uploaded=upload, public=True)
                uploads.attached(upload)
        created.append(ritm)
    uploads.consume()
    for ritm in created:
        _route(ritm)
    _notify(
        ticket=request,
        event="request.submitted",
        subject=f"We have received your request: {request.short_description}",
        body=f"Your request {request.number} has been received: "
        + ", ".join(f"{r.number} {r.short_description}" for r in created)
        + ".",
        key=request.number,
    )
    return request


class _UploadClaims:
    """The uploads one order names as attachment answers: the owner's own and unexpired only, locked, opened once;
    those attached are removed after the order (their rows at once, their files after commit)."""

    def __init__(self, by: User) -> None:
        self.by = by
        self.cutoff = timezone.now() - timedelta(hours=settings.ITSM_UPLOAD_EXPIRY_HOURS)
        self.uploads: dict[uuid.UUID, Upload] = {}
        self.handles: dict[uuid.UUID, File] = {}
        self.used: set[uuid.UUID] = set()

    def resolver(self, line_files: dict[str, Any]) -> Callable[[str, Any], File | None]:
        def resolve(name: str, value: Any) -> File | None:
            try:
                upload_id = uuid.UUID(str(value).strip())
            except ValueError:
                return None
            # Someone else's id answers exactly like an unknown one: nothing tells that it exists.
            upload = (
                Upload.objects.select_for_update()
                .filter(pk=upload_id, owner=self.by, created_at__gt=self.cutoff)
                .first()
            )
            if upload is None:
                return None
            if upload.pk not in self.handles:
                try:
                    handle = upload.file.storage.open(upload.file.name, "rb")
                except OSError:
                    return None
                handle.name, handle.size = upload.filename, upload.size
                self.uploads[upload.pk], self.handles[upload.pk] = upload, handle
            line_files[name] = self.handles[upload.pk]
            return self.handles[upload.pk]

        return resolve

    def attached(self, handle: Any) -> None:
        self.used |= {pk for pk, mine in self.handles.items() if mine is handle}

    def consume(self) -> None:
        if not self.used:
            return
        names = [self.uploads[pk].file.name for pk in self.used]
        Upload.objects.filter(pk__in=self.used).delete()
        transaction.on_commit(lambda: _storage_delete(names))

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _storage_delete(names: list[str]) -> None:
    storage = Upload._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


@transaction.atomic
def upload_create(*, by: User, uploaded) -> Upload:
    """Keep a file for a coming order (the API's way to answer an attachment question with JSON): checked by the
    attachment rules (size, type, content, name), owned by `by`, refused past ITSM_UPLOAD_MAX_PENDING unused ones.
    """
    head = uploaded.read(512)
    uploaded.seek(0)
    name, content_type = attachment_validate(name=uploaded.name or "", head=head, size=uploaded.size)
    cutoff = timezone.now() - timedelta(hours=settings.ITSM_UPLOAD_EXPIRY_HOURS)
    pending = Upload.objects.filter(owner=by, created_at__gt=cutoff).count()
    if pending >= settings.ITSM_UPLOAD_MAX_PENDING:
        raise ValidationError(
            {"file": f"You have {pending} unused uploads: order with them, or wait until they expire."}
        )
    upload = Upload(owner=by, filename=name, content_type=content_type, size=uploaded.size)
    upload.file.save(name, uploaded, save=False)
    upload.save()
    return upload


def uploads_purge(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Remove uploads older than ITSM_UPLOAD_EXPIRY_HOURS that no order used (rows, then files after commit); safe
    to run twice or concurrently."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.ITSM_UPLOAD_EXPIRY_HOURS)
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Upload.objects.select_for_update(skip_locked=True)
                .filter(created_at__lte=cutoff)
                .order_by("created_at")[:batch_size]
            )
            Upload.objects.filter(pk__in=[upload.pk for upload in batch]).delete()
            names = [upload.file.name for upload in batch]
            transaction.on_commit(lambda names=names: _storage_delete(names))
        purged += len(batch)
        if len(batch) < batch_size:
            return purged


def _route(ritm: RequestedItem) -> None:
    """Send a submitted item to its approvers, or approve it and start fulfilment when its policy asks none."""
    policy_id = ritm.item_version.definition.get("approval_policy")
    policy = ApprovalPolicy.objects.filter(pk=policy_id, active=True).first() if policy_id else None
    if policy is None:
        _transition(ritm, "approve", None, body="No approval needed.")
        _start_fulfilment(ritm)
        return
    _transition(ritm, "request_approval", None, body=f"Approval policy: {policy}.")
    approvals_request(ticket=ritm, policy=policy)


# --- reactions to the approval policy (registered with the kernel in RequestsAppConfig.ready) --------------------


def requested_item_on_approved(*, ticket_id: int, by: User) -> None:
    """The policy is met: the item is approved and its fulfilment starts."""
    ritm = RequestedItem.objects.select_for_update().get(pk=ticket_id)
    if ritm.state != R.AWAITING_APPROVAL:
        return
    _transition(ritm, "approve", None, actor=by)
    _start_fulfilment(ritm, actor=by)


def requested_item_on_rejected(*, ticket_id: int, by: User, comment: str = "") -> None:
    """An approver rejected: the item is rejected, pending approvals withdrawn, and the requester told why."""
    ritm = RequestedItem.objects.select_for_update().get(pk=ticket_id)
    if ritm.state != R.AWAITING_APPROVAL:
        return
    _transition(ritm, "reject", None, actor=by, body=comment, reason=comment)
    approvals_withdraw(ticket=ritm, by=by)
    journal_add(
        ticket=ritm, actor=by, kind=JournalKind.COMMENT, body=f"Your request was not approved. Reason: {comment}"
    )
    _notify(
        ticket=ritm,
        event="request.rejected",
        subject=f"Not approved: {ritm.short_description}",
        body=f"{ritm.number} was not approved by {by.get_full_name() or by.get_username()}.\n\nReason: {comment}",
        key=ritm.number,
    )
    _request_settle(ritm.request_id)


# --- fulfilment -----------------------------------------------------------------------------------------------


def _start_fulfilment(ritm: RequestedItem, actor: User | None = None) -> None:
    _transition(ritm, "start_fulfilment", None, actor=actor)
    templates = ritm.item_version.definition.get("tasks") or [
        {"order": 1, "short_description": f"Fulfil: {ritm.short_description}", "instructions": "", "team": None}
    ]
    parallel = ritm.item_version.definition.get("tasks_in_parallel", False)
    for template in templates if parallel else templates[:1]:
        _task_create(ritm, template)


def _task_create(ritm: RequestedItem, template: dict) -> FulfilmentTask:
    team_id = template.get("team") or ritm.item_version.definition.get("fulfilment_group")
    task = FulfilmentTask(
        requested_item=ritm,
        position=template["order"],
        short_description=template["short_description"][:160],
        instructions=template.get("instructions", ""),
        description=template.get("instructions", ""),
        caller_id=ritm.caller_id,
        service_id=ritm.service_id,
        assignment_group=Team.objects.filter(pk=team_id, active=True).first() if team_id else None,
    )
    _create_ticket(task, None)
    return task


def _after_task_closed(task: FulfilmentTask, by: User) -> None:
    """Start the next task of an ordered template, or settle the item once no task is open."""
    ritm = RequestedItem.objects.select_for_update().get(pk=task.requested_item_id)
    if ritm.state != R.IN_FULFILMENT:
        return
    open_tasks = list(ritm.tasks.select_for_update().filter(state__in=OPEN_TASK_STATES))
    if task.state == FulfilmentTaskState.CLOSED_INCOMPLETE:
        for other in open_tasks:
            _transition(other, "skip", None, actor=by, close_notes=f"Skipped: {task.number} closed incomplete.")
        _transition(ritm, "close_incomplete", None, actor=by, body=task.close_notes, close_notes=task.close_notes)
        journal_add(
            ticket=ritm,
            actor=by,
            kind=JournalKind.COMMENT,
            body=f"We could not complete your request: {task.close_notes}",
        )
        _request_settle(ritm.request_id)
        return
    if open_tasks:
        return
    templates = ritm.item_version.definition.get("tasks") or []
    if not ritm.item_version.definition.get("tasks_in_parallel"):
        done = set(ritm.tasks.values_list("position", flat=True))
        following = [t for t in templates if t["order"] not in done]
        if following:
            _task_create(ritm, following[0])
            return
    _transition(ritm, "fulfil", None, actor=by)
    journal_add(ticket=ritm, actor=by, kind=JournalKind.COMMENT, body="Your request has been fulfilled.")
    _notify(
        ticket=ritm,
        event="request.fulfilled",
        subject=f"Delivered: {ritm.short_description}",
        body=f"{ritm.number} has been fulfilled. Please tell us how we did.",
        key=ritm.number,
    )
    _request_settle(ritm.request_id)


def _request_settle(request_id: int) -> None:
    """Close the request once every item is delivered or ended (canceled when none was delivered)."""
    request = Request.objects.select_for_update().get(pk=request_id)
    if request.state != RequestState.OPEN:
        return
    states = list(request.items.values_list("state", flat=True))
    if any(s not in (*FINAL_REQUESTED_ITEM_STATES, R.FULFILLED) for s in states):
        return
    delivered = any(s in (R.FULFILLED, R.CLOSED) for s in states)
    _transition(request, "close" if delivered else "cancel", None)


def _task_close(task: FulfilmentTask, name: str, by: User, close_notes: str, required: bool) -> FulfilmentTask:
    transition_ensure_allowed(user=by, transition=getattr(task, name))
    notes = (close_notes or "").strip()
    if required and not notes:
        raise ValidationError({"close_notes": "Say why the task could not be completed."})
    _transition(task, name, by, body=notes, close_notes=notes)
    _after_task_closed(task, by)
    return task


@transaction.atomic
def fulfilment_task_start(*, task: FulfilmentTask, by: User) -> FulfilmentTask:
    """Open -> Work in Progress."""
    _transition(task, "start", by)
    return task


@transaction.atomic
def fulfilment_task_close_complete(*, task: FulfilmentTask, by: User, close_notes: str = "") -> FulfilmentTask:
    """Done; the next task of an ordered item starts, or the item is fulfilled when none is left open."""
    return _task_close(task, "close_complete", by, close_notes, required=False)


@transaction.atomic
def fulfilment_task_close_incomplete(*, task: FulfilmentTask, by: User, close_notes: str) -> FulfilmentTask:
    """Could not be done (notes required): the other open tasks are skipped and the item closes incomplete."""
    return _task_close(task, "close_incomplete", by, close_notes, required=True)


@transaction.atomic
def fulfilment_task_skip(*, task: FulfilmentTask, by: User, close_notes: str = "") -> FulfilmentTask:
    """Not needed; counts as done for the item."""
    return _task_close(task, "skip", by, close_notes, required=False)


@transaction.atomic
def fulfilment_task_comment(
    *, task: FulfilmentTask, by: User, body: str, kind: str = JournalKind.WORK_NOTE
) -> JournalEntry:
    """Add a comment or work note to a task (agents only)."""
    body = _body(body, kind)
    ensure_agent(by, "write on fulfilment tasks")
    if not task.active:
        raise ValidationError({"body": f"A {task.get_state_display()} task takes no more comments."})
    return journal_add(ticket=task, actor=by, kind=kind, body=body)


# --- the requester and the agents on an item ----------------------------------------------------------------------


@transaction.atomic
def requested_item_cancel(*, item: RequestedItem, by: User, reason: str = "") -> RequestedItem:
    """Withdraw (the requester, until fulfilment starts) or cancel (an agent): approvals withdrawn, open tasks
    skipped, the request closed when nothing else is open."""
    transition_ensure_allowed(user=by, transition=item.cancel)
    reason = (reason or "").strip()
    label = "Withdrawn by the requester" if item.caller_id == by.pk else f"Canceled by {by.get_username()}"
    _transition(item, "cancel", by, body=f"{label}. {reason}".strip())
    approvals_withdraw(ticket=item, by=by)
    for task in item.tasks.select_for_update().filter(state__in=OPEN_TASK_STATES):
        _transition(task, "skip", None, actor=by, close_notes=f"{item.number} was canceled.")
    _request_settle(item.request_id)
    return item


@transaction.atomic
def requested_item_close(*, item: RequestedItem, by: User) -> RequestedItem:
    """Fulfilled -> Closed: the requester confirms delivery (or an agent closes it)."""
    _transition(item, "close", by)
    return item


def requested_item_auto_close(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Close items fulfilled longer ago than ITSM_REQUEST_AUTO_CLOSE_DAYS; safe to run twice or concurrently.

    A comment from the requester restarts the window (someone who writes "it never arrived" gets an answer before the
    item closes under them). The closing is journaled with no actor (the system); the request (REQ) already closed
    when its last item was fulfilled.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.ITSM_REQUEST_AUTO_CLOSE_DAYS)
    requester_wrote_lately = JournalEntry.objects.filter(
        ticket_id=OuterRef("pk"), kind=JournalKind.COMMENT, actor_id=OuterRef("caller_id"), created_at__gt=cutoff
    )
    fulfilled = (
        RequestedItem.objects.filter(state=R.FULFILLED, resolved_at__lte=cutoff)
        .exclude(Exists(requester_wrote_lately))
        .order_by("resolved_at")
    )
    return tickets_sweep(tickets=fulfilled, act=_auto_close, batch_size=batch_size)


def _auto_close(item: RequestedItem) -> None:
    body = f"Closed automatically {settings.ITSM_REQUEST_AUTO_CLOSE_DAYS} days after delivery."
    _transition(item, "close", None, body=body)
    _request_settle(item.request_id)


def _body(body: str, kind: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "This field may not be blank."})
    if len(body) > TEXT_LIMIT:
        raise ValidationError({"body": f"At most {TEXT_LIMIT} characters."})
    if kind not in (JournalKind.COMMENT, JournalKind.WORK_NOTE):
        raise ValidationError({"kind": "Must be 'comment' or 'work_note'."})
    return body


@transaction.atomic
def requested_item_comment(
    *, item: RequestedItem, by: User, body: str, kind: str = JournalKind.COMMENT
) -> JournalEntry:
    """A public comment (requester or agent) or a work note (agents); the other side is told of comments."""
    body = _body(body, kind)
    agent = is_agent(by)
    if kind == JournalKind.WORK_NOTE and not agent:
        raise PermissionDenied("Only agents can write work notes.")
    if not agent and item.caller_id != by.pk:
        raise PermissionDenied("You may not comment on this request.")
    if not item.active:
        raise ValidationError({"body": f"A {item.get_state_display()} request takes no more comments."})
    entry = journal_add(ticket=item, actor=by, kind=kind, body=body)
    if kind == JournalKind.COMMENT and item.caller_id != by.pk:
        _notify(
            ticket=item,
            event="request.commented",
            subject=f"New comment: {item.short_description}",
            body=f"{by} wrote:\n\n{body}",
            key=f"{item.number}:{entry.pk}",
        )
    return entry


@transaction.atomic
def request_comment(*, request: Request, by: User, body: str, kind: str = JournalKind.WORK_NOTE) -> JournalEntry:
    """A comment or work note on the request itself (agents only; requesters write on their items)."""
    body = _body(body, kind)
    ensure_agent(by, "write on requests")
    if not request.active:
        raise ValidationError({"body": f"A {request.get_state_display()} request takes no more comments."})
    return journal_add(ticket=request, actor=by, kind=kind, body=body)


# --- satisfaction ---------------------------------------------------------------------------------------------

RATEABLE_KINDS = (TicketKind.INCIDENT, TicketKind.REQUESTED_ITEM)


@transaction.atomic
def ticket_rate(*, ticket: Ticket, by: User, score: Any, comment: str = "") -> SatisfactionRating:
    """The caller rates their resolved incident or delivered item once: 1 to 5 and an optional comment."""
    if ticket.caller_id != by.pk:
        raise PermissionDenied("Only the caller can rate this ticket.")
    errors = {}
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors["score"] = ["Give a score from 1 to 5."]
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = ["At most 2000 characters."]
    resolved = ticket.state_category in (StateCategory.RESOLVED, StateCategory.CLOSED)
    if ticket.kind == TicketKind.REQUESTED_ITEM:
        resolved = RequestedItem.objects.filter(pk=ticket.pk, close_code=RequestedItemCloseCode.FULFILLED).exists()
    if ticket.kind not in RATEABLE_KINDS or not resolved:
        errors["ticket"] = ["Only a resolved incident or a delivered request can be rated."]
    elif SatisfactionRating.objects.filter(ticket=ticket).exists():
        errors["ticket"] = ["You have already rated this."]
    if errors:
        raise ValidationError(errors)
    rating = SatisfactionRating.objects.create(ticket=ticket, rated_by=by, score=score, comment=comment)
    journal_add(
        ticket=ticket,
        actor=by,
        kind=JournalKind.WORK_NOTE,
        body=f"Rated {score}/5" + (f": {comment}" if comment else "."),
    )
    return rating


# --- fields an agent changes outside the transitions (the workspace's edit form) ------------------------------------

ITEM_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "assignment_group",
    "assigned_to",
    "due_date",
    "category",
    "subcategory",
)
TASK_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "instructions",
    "assignment_group",
    "assigned_to",
    "due_date",
    "category",
    "subcategory",
)


def _update(ticket: RequestedItem | FulfilmentTask, by: User, allowed: tuple[str, ...], changes: dict[str, Any]):
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    ensure_agent(by, "change requests and tasks")
    if not ticket.active:
        raise ValidationError({"state": f"A {ticket.get_state_display()} record cannot be changed."})
    diffs = [
        (field, getattr(ticket, field), value) for field, value in changes.items() if getattr(ticket, field) != value
    ]
    if not diffs:
        return ticket
    for field, _old, value in diffs:
        setattr(ticket, field, value)
    errors = ticket_field_errors(ticket, assignable="requested items and tasks")
    for field in ("description", "instructions"):
        if len(getattr(ticket, field, "") or "") > TEXT_LIMIT:
            errors[field] = f"At most {TEXT_LIMIT} characters."
    if errors:
        raise ValidationError(errors)
    ticket.save(update_fields=[*(field for field, _o, _n in diffs), "updated_at"])
    entries = journal_field_changes(ticket=ticket, actor=by, changes=diffs)
    sla_evaluate(ticket=ticket, at=entries[0].created_at)
    return ticket


@transaction.atomic
def requested_item_update(*, item: RequestedItem, by: User, **changes: Any) -> RequestedItem:
    """Change a requested item's fields (agents): reassign, reword, set the due date or category; never its state,
    answers or approval. Every changed field journaled (one new version), SLAs re-evaluated."""
    return _update(item, by, ITEM_UPDATABLE_FIELDS, changes)


@transaction.atomic
def fulfilment_task_update(*, task: FulfilmentTask, by: User, **changes: Any) -> FulfilmentTask:
    """Reassign or reword a fulfilment task, its instructions or due date (agents); every changed field journaled,
    SLAs re-evaluated."""
    return _update(task, by, TASK_UPDATABLE_FIELDS, changes)
