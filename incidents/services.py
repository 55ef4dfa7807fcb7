"""Incident use cases: create, update, every transition, comments, and the auto-close sweep.

Each runs in one transaction: permission check, transition, save, journal, and notifications through the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from automation.services import apply_rules_on_create
from catalog.models import ConfigurationItem, Service
from incidents.enums import AWAITING_CALLER, OPEN_INCIDENT_STATES, IncidentState
from incidents.models import CloseCode, HoldReason, Incident
from itsm.enums import Impact, JournalKind, TicketKind, Urgency
from itsm.models import Category, Team
from itsm.rules import is_agent
from itsm.selectors import priority_for
from itsm.services import (
    journal_add,
    journal_field_changes,
    journal_transition,
    outbox_enqueue,
    ticket_field_errors,
    ticket_next_number,
    tickets_sweep,
    transition_ensure_allowed,
)
from slas.services import sla_evaluate

if TYPE_CHECKING:
    from changes.models import Change
    from problems.models import Problem


# Fields an agent may set on create and update. End users describe the incident and say how urgent it is for them;
# its impact is the desk's assessment.
STAFF_FIELDS = (
    "caller",
    "impact",
    "assignment_group",
    "assigned_to",
    "parent",
    "major_incident",
    "problem",
    "caused_by_change",
)
UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "impact",
    "urgency",
    "service",
    "configuration_item",
    "category",
    "subcategory",
    *STAFF_FIELDS,
)


def _validate(incident: Incident) -> None:
    """Cross-field rules every write must keep; raises ValidationError naming the field."""
    errors = ticket_field_errors(incident, assignable="incidents")
    if incident.parent is not None:
        ancestor, seen = incident.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if incident.pk is not None and ancestor.pk == incident.pk:
                errors["parent"] = "An incident cannot be its own parent or ancestor."
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
    if errors:
        raise ValidationError(errors)


def _notify(*, incident: Incident, event: str, recipient: User | None, subject: str, body: str, key: str) -> None:
    if recipient is None:
        return
    outbox_enqueue(
        event=event,
        ticket=incident,
        recipient=recipient,
        subject=f"[{incident.number}] {subject}",
        body=f"{body}\n\n{settings.ITSM_SITE_URL}/workspace/incidents/{incident.number}/",
        key=key,
    )


@transaction.atomic
def incident_create(
    *,
    by: User,
    short_description: str,
    description: str = "",
    caller: User | None = None,
    impact: int = Impact.LOW,
    urgency: int = Urgency.LOW,
    assignment_group: Team | None = None,
    assigned_to: User | None = None,
    service: Service | None = None,
    configuration_item: ConfigurationItem | None = None,
    parent: Incident | None = None,
    major_incident: bool = False,
    problem: Problem | None = None,
    caused_by_change: Change | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
) -> Incident:
    """Log a new incident; an end user is always its caller and cannot set staff-only fields."""
    if not is_agent(by):
        staff = {"caller": caller not in (None, by), "assignment_group": assignment_group, "assigned_to": assigned_to}
        staff |= {
            "parent": parent,
            "major_incident": major_incident,
            "impact": impact != Impact.LOW,
            "problem": problem,
            "caused_by_change": caused_by_change,
        }
        for field, value in staff.items():
            if value:
                raise ValidationError({field: "Only agents can set this field."})
        caller = by
    incident = Incident(
        kind=TicketKind.INCIDENT,
        short_description=short_description.strip(),
        description=description,
        caller=caller or by,
        opened_by=by,
        impact=impact,
        urgency=urgency,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        service=service,
        configuration_item=configuration_item,
        parent=parent,
        major_incident=major_incident,
        problem=problem,
        caused_by_change=caused_by_change,
        category=category,
        subcategory=subcategory,
    )
    if incident.service is None and configuration_item is not None:
        incident.service = configuration_item.service
    _validate(incident)
    incident.priority = priority_for(impact=impact, urgency=urgency)
    incident.sync_state_category(incident.state)
    incident.number = ticket_next_number(kind=TicketKind.INCIDENT)
    incident.save()
    entry = journal_transition(ticket=incident, actor=by, name="create", from_state="", to_state=incident.state)
    sla_evaluate(ticket=incident, at=entry.created_at)
    apply_rules_on_create(ticket=incident, by=by)
    _notify(
        incident=incident,
        event="incident.created",
        recipient=incident.caller,
        subject=f"We have logged your incident: {incident.short_description}",
        body=f"Your incident {incident.number} has been logged. We will keep you informed.",
        key=incident.number,
    )
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, by: User, **changes: Any) -> Incident:
    """Change fields (not state); every changed field is journaled with its old and new value."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    if not is_agent(by):
        raise PermissionDenied("Only agents can change an incident's fields.")
    if not incident.active:
        raise ValidationError({"state": f"A {incident.get_state_display()} incident cannot be changed."})
    diffs: list[tuple[str, str, str]] = []
    for field, value in changes.items():
        old = getattr(incident, field)
        if old != value:
            diffs.append((field, old, value))
            setattr(incident, field, value)
    if not diffs:
        return incident
    if "configuration_item" in changes and incident.service is None and incident.configuration_item is not None:
        diffs.append(("service", None, incident.configuration_item.service))
        incident.service = incident.configuration_item.service
    _validate(incident)
    changed = {field for field, _old, _new in diffs}
    if changed & {"impact", "urgency"}:
        new_priority = priority_for(impact=incident.impact, urgency=incident.urgency)
        if new_priority != incident.priority:
            diffs.append(("priority", incident.priority, new_priority))
            incident.priority = new_priority
    # Only the changed columns are written, so a concurrent change to other fields is never overwritten.
    incident.save(update_fields=[*(field for field, _old, _new in diffs), "updated_at"])
    entries = journal_field_changes(ticket=incident, actor=by, changes=diffs)
    sla_evaluate(ticket=incident, at=entries[0].created_at)
    if "assigned_to" in changed and incident.assigned_to is not None and incident.assigned_to != by:
        _notify(
            incident=incident,
            event="incident.assigned",
            recipient=incident.assigned_to,
            subject=f"Assigned to you: {incident.short_description}",
            body=f"{by} assigned {incident.number} to you.",
            key=f"{incident.number}:{timezone.now().isoformat()}",
        )
    return incident


def _columns(incident: Incident) -> dict[str, Any]:
    return {field.attname: getattr(incident, field.attname) for field in Incident._meta.concrete_fields}


def _transition(incident: Incident, name: str, by: User | None, body: str = "", **kwargs: Any) -> Incident:
    """Run one transition: check, change, save what changed (optimistic on state), journal."""
    method = getattr(incident, name)
    if by is not None:
        transition_ensure_allowed(user=by, transition=method)
    source = incident.state
    before = _columns(incident)
    method(by=by, **kwargs)
    changed = [column for column, value in _columns(incident).items() if before[column] != value]
    incident.save(update_fields=[*changed, "updated_at"])
    entry = journal_transition(
        ticket=incident, actor=by, name=name, from_state=source, to_state=incident.state, body=body
    )
    sla_evaluate(ticket=incident, at=entry.created_at)
    return incident


@transaction.atomic
def incident_start(*, incident: Incident, by: User) -> Incident:
    """Begin work on a new incident."""
    return _transition(incident, "start", by)


@transaction.atomic
def incident_hold(*, incident: Incident, by: User, reason: HoldReason, comment: str = "") -> Incident:
    """Put the incident on hold; waiting for the caller requires a comment telling them what is needed."""
    if not reason.active:
        raise ValidationError({"hold_reason": "This hold reason is not active."})
    if reason.slug == AWAITING_CALLER and not comment.strip():
        raise ValidationError({"comment": "Tell the caller what you are waiting for."})
    _transition(incident, "hold", by, body=reason.name, reason=reason)
    if comment.strip():
        journal_add(ticket=incident, actor=by, kind=JournalKind.COMMENT, body=comment.strip())
        _notify_caller_of_comment(incident, by, comment.strip())
    return incident


@transaction.atomic
def incident_resume(*, incident: Incident, by: User) -> Incident:
    """Take the incident off hold."""
    return _transition(incident, "resume", by)


@transaction.atomic
def incident_resolve(*, incident: Incident, by: User | None, close_code: CloseCode, close_notes: str) -> Incident:
    """Resolve the incident and tell the caller; a parent resolves its open children with its own close code."""
    if not close_notes or not close_notes.strip():
        raise ValidationError({"close_notes": "Close notes are required to resolve an incident."})
    if not close_code.active:
        raise ValidationError({"close_code": "This close code is not active."})
    notes = close_notes.strip()
    _resolve_and_tell(
        incident,
        by,
        close_code=close_code,
        close_notes=notes,
        journal_body=f"{close_code.name}: {notes}",
        message=f"{incident.number} has been resolved.\n\n{notes}\n\nReply if the problem persists.",
    )
    _resolve_children(incident, close_code)
    return incident


def _resolve_and_tell(
    incident: Incident, by: User | None, *, close_code: CloseCode, close_notes: str, journal_body: str, message: str
) -> None:
    _transition(incident, "resolve", by, body=journal_body, close_code=close_code, close_notes=close_notes)
    _notify(
        incident=incident,
        event="incident.resolved",
        recipient=incident.caller,
        subject=f"Resolved: {incident.short_description}",
        body=message,
        key=f"{incident.number}:{incident.reopen_count}",
    )


def _resolve_children(parent: Incident, close_code: CloseCode) -> None:
    """Resolve the open children (and their children) of a resolved parent and tell their callers."""
    children = Incident.objects.filter(parent=parent, state__in=OPEN_INCIDENT_STATES).select_related("caller")
    for child in children:
        notes = f"Resolved by parent incident {parent.number}: {parent.close_notes}"
        _resolve_and_tell(
            child,
            None,
            close_code=close_code,
            close_notes=notes,
            journal_body=f"Resolved with parent incident {parent.number}.",
            message=f"{child.number} was resolved together with {parent.number}.\n\n{notes}",
        )
        _resolve_children(child, close_code)


@transaction.atomic
def incident_reopen(*, incident: Incident, by: User, comment: str = "") -> Incident:
    """Reopen a resolved incident (the caller or an agent); the reason goes into the journal as a comment."""
    _transition(incident, "reopen", by)
    if comment.strip():
        journal_add(ticket=incident, actor=by, kind=JournalKind.COMMENT, body=comment.strip())
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, by: User | None, reason: str = "") -> Incident:
    """Close a resolved incident; `by=None` is the auto-close timer."""
    return _transition(incident, "close", by, body=reason.strip())


@transaction.atomic
def incident_cancel(*, incident: Incident, by: User, reason: str = "") -> Incident:
    """Cancel an incident raised in error or as a duplicate."""
    return _transition(incident, "cancel", by, body=reason.strip())


def _notify_caller_of_comment(incident: Incident, by: User, body: str) -> None:
    if incident.caller_id == by.pk:
        return
    _notify(
        incident=incident,
        event="incident.commented",
        recipient=incident.caller,
        subject=f"New comment: {incident.short_description}",
        body=f"{by} wrote:\n\n{body}",
        key=f"{incident.number}:{timezone.now().isoformat()}",
    )


@transaction.atomic
def incident_comment(*, incident: Incident, by: User, body: str, kind: str = JournalKind.COMMENT):
    """Add a public comment or an internal work note; a caller's comment resumes an incident awaiting the caller."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "This field may not be blank."})
    if kind not in (JournalKind.COMMENT, JournalKind.WORK_NOTE):
        raise ValidationError({"kind": "Must be 'comment' or 'work_note'."})
    if not incident.active:
        raise ValidationError({"body": f"A {incident.get_state_display()} incident takes no more comments."})
    agent = is_agent(by)
    if kind == JournalKind.WORK_NOTE and not agent:
        raise PermissionDenied("Only agents can write work notes.")
    if not agent and incident.caller_id != by.pk:
        raise PermissionDenied("You may not comment on this incident.")
    entry = journal_add(ticket=incident, actor=by, kind=kind, body=body)
    if kind == JournalKind.COMMENT:
        if (
            incident.caller_id == by.pk
            and incident.state == IncidentState.ON_HOLD
            and incident.hold_reason is not None
            and incident.hold_reason.slug == AWAITING_CALLER
        ):
            _transition(incident, "resume", by, body="The caller replied.")
            if incident.assigned_to is not None:
                _notify(
                    incident=incident,
                    event="incident.caller_replied",
                    recipient=incident.assigned_to,
                    subject=f"Caller replied: {incident.short_description}",
                    body=f"{by} replied and the incident is back in progress:\n\n{body}",
                    key=f"{incident.number}:{entry.pk}",
                )
        else:
            _notify_caller_of_comment(incident, by, body)
    return entry


def incident_auto_close(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Close incidents resolved longer ago than ITSM_INCIDENT_AUTO_CLOSE_DAYS; safe to run twice or concurrently."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ITSM_INCIDENT_AUTO_CLOSE_DAYS)
    resolved = Incident.objects.filter(state=IncidentState.RESOLVED, resolved_at__lte=cutoff).order_by("resolved_at")
    reason = "Closed automatically after resolution."
    return tickets_sweep(
        tickets=resolved,
        act=lambda incident: incident_close(incident=incident, by=None, reason=reason),
        batch_size=batch_size,
    )
