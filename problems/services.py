"""Problem use cases: create (also from an incident), update, link incidents, every transition, known errors,
problem tasks and comments.

Each runs in one transaction: permission check, transition, save, journal, SLA re-evaluation, and notifications
through the outbox. Problems and their tasks are agents' work: end users may run none of these.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from automation.services import apply_rules_on_create
from catalog.models import ConfigurationItem, Service
from incidents.enums import IncidentState
from incidents.models import CloseCode, Incident
from incidents.services import incident_resolve, incident_update
from itsm.enums import Impact, JournalKind, TicketKind, Urgency
from itsm.models import Category, JournalEntry, Team, Ticket
from itsm.selectors import priority_for
from itsm.services import (
    ensure_agent,
    journal_add,
    journal_field_changes,
    journal_transition,
    outbox_enqueue,
    ticket_field_errors,
    ticket_next_number,
    transition_ensure_allowed,
)
from problems.enums import (
    AWAITING_PROBLEM,
    RESOLVED_BY_PROBLEM,
    KnowledgeArticleKind,
    ProblemResolutionCode,
)
from problems.models import KnowledgeArticle, Problem, ProblemTask
from slas.services import sla_evaluate

R = ProblemResolutionCode

# Fields an agent may change on a problem outside the transitions.
PROBLEM_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "service",
    "configuration_item",
    "category",
    "subcategory",
    "cause_notes",
    "workaround",
    "fix_notes",
)
PROBLEM_TASK_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "assignment_group",
    "assigned_to",
    "category",
    "subcategory",
)

# What a known-error article is written from: a change to one of these on a known error rewrites the article.
_ARTICLE_SOURCES = {"short_description", "description", "service", "configuration_item", "cause_notes", "workaround"}


def _validate(ticket: Ticket) -> None:
    """Cross-field rules every write must keep; raises ValidationError naming the field."""
    errors = ticket_field_errors(ticket, assignable="problems and problem tasks")
    if errors:
        raise ValidationError(errors)


def _path(ticket: Ticket) -> str:
    segment = "problems" if isinstance(ticket, Problem) else "problem-tasks"
    return f"{settings.ITSM_SITE_URL}/api/v1/{segment}/{ticket.number}/"


def _notify_assignee(ticket: Ticket, by: User) -> None:
    if ticket.assigned_to is None or ticket.assigned_to == by:
        return
    outbox_enqueue(
        event=f"{ticket.kind}.assigned",
        ticket=ticket,
        recipient=ticket.assigned_to,
        subject=f"[{ticket.number}] Assigned to you: {ticket.short_description}",
        body=f"{by} assigned {ticket.number} to you.\n\n{_path(ticket)}",
        key=f"{ticket.number}:{timezone.now().isoformat()}",
    )


def _created(ticket: Ticket, by: User) -> JournalEntry:
    """Number, save and journal a new problem or task, start its SLA clocks, tell its assignee."""
    if ticket.service is None and ticket.configuration_item is not None:
        ticket.service = ticket.configuration_item.service
    _validate(ticket)
    ticket.priority = priority_for(impact=ticket.impact, urgency=ticket.urgency)
    ticket.sync_state_category(ticket.state)
    ticket.number = ticket_next_number(kind=ticket.KIND)
    ticket.save()
    entry = journal_transition(ticket=ticket, actor=by, name="create", from_state="", to_state=ticket.state)
    sla_evaluate(ticket=ticket, at=entry.created_at)
    _notify_assignee(ticket, by)
    return entry


def _update(ticket: Problem | ProblemTask, by: User, allowed: tuple[str, ...], changes: dict[str, Any]) -> list:
    """Apply and journal field changes (not state); returns the (field, old, new) differences."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    ensure_agent(by, f"change a {ticket._meta.verbose_name}")
    if not ticket.active:
        raise ValidationError(
            {"state": f"A {ticket.get_state_display()} {ticket._meta.verbose_name} cannot be changed."}
        )
    diffs: list[tuple[str, Any, Any]] = []
    for field, value in changes.items():
        old = getattr(ticket, field)
        if old != value:
            diffs.append((field, old, value))
            setattr(ticket, field, value)
    if not diffs:
        return diffs
    if "configuration_item" in changes and ticket.service is None and ticket.configuration_item is not None:
        diffs.append(("service", None, ticket.configuration_item.service))
        ticket.service = ticket.configuration_item.service
    _validate(ticket)
    changed = {field for field, _old, _new in diffs}
    if changed & {"impact", "urgency"}:
        new_priority = priority_for(impact=ticket.impact, urgency=ticket.urgency)
        if new_priority != ticket.priority:
            diffs.append(("priority", ticket.priority, new_priority))
            ticket.priority = new_priority
    ticket.save(update_fields=[*(field for field, _old, _new in diffs), "updated_at"])
    entries = journal_field_changes(ticket=ticket, actor=by, changes=diffs)
    sla_evaluate(ticket=ticket, at=entries[0].created_at)
    if "assigned_to" in changed:
        _notify_assignee(ticket, by)
    return diffs


def _columns(ticket: Ticket) -> dict[str, Any]:
    return {field.attname: getattr(ticket, field.attname) for field in ticket._meta.concrete_fields}


def _transition(ticket: Problem | ProblemTask, name: str, by: User | None, body: str = "", **kwargs: Any) -> None:
    """Run one transition: check, change, save what changed (optimistic on state), journal, re-evaluate SLAs."""
    method = getattr(ticket, name)
    if by is not None:
        transition_ensure_allowed(user=by, transition=method)
    source = ticket.state
    before = _columns(ticket)
    method(by=by, **kwargs)
    changed = [column for column, value in _columns(ticket).items() if before[column] != value]
    ticket.save(update_fields=[*changed, "updated_at"])
    entry = journal_transition(ticket=ticket, actor=by, name=name, from_state=source, to_state=ticket.state, body=body)
    sla_evaluate(ticket=ticket, at=entry.created_at)


def _ensure_allowed(ticket: Problem | ProblemTask, name: str, by: User) -> None:
    """State first (409), then permission (403): guards on the input come after, so nothing changes on refusal."""
    transition_ensure_allowed(user=by, transition=getattr(ticket, name))


# --- problems -------------------------------------------------------------------------------------------------


@transaction.atomic
def problem_create(
    *,
    by: User,
    short_description: str,
    description: str = "",
    impact: int = Impact.LOW,
    urgency: int = Urgency.LOW,
    assignment_group: Team | None = None,
    assigned_to: User | None = None,
    service: Service | None = None,
    configuration_item: ConfigurationItem | None = None,
    cause_notes: str = "",
    workaround: str = "",
    fix_notes: str = "",
    category: Category | None = None,
    subcategory: Category | None = None,
) -> Problem:
    """Log a new problem; the agent who raises it is its caller (problems have no end-user caller)."""
    ensure_agent(by, "raise problems")
    problem = Problem(
        kind=TicketKind.PROBLEM,
        short_description=(short_description or "").strip(),
        description=description,
        cause_notes=cause_notes,
        workaround=workaround,
        fix_notes=fix_notes,
        caller=by,
        opened_by=by,
        impact=impact,
        urgency=urgency,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        service=service,
        configuration_item=configuration_item,
        category=category,
        subcategory=subcategory,
    )
    _created(problem, by)
    apply_rules_on_create(ticket=problem, by=by)
    return problem


@transaction.atomic
def problem_update(*, problem: Problem, by: User, **changes: Any) -> Problem:
    """Change fields (not state), each journaled; a known error's article follows its problem."""
    diffs = _update(problem, by, PROBLEM_UPDATABLE_FIELDS, changes)
    if problem.known_error and {field for field, _o, _n in diffs} & _ARTICLE_SOURCES:
        _article_sync(problem)
    return problem


@transaction.atomic
def problem_create_from_incident(*, incident: Incident, by: User) -> Problem:
    """Raise a problem from an incident: copies its description, service, CI and team, and links the incident.

    Effects: the new problem's journal notes its origin; the incident journals the link as a field change.
    """
    ensure_agent(by, "raise problems")
    if incident.problem_id is not None:
        raise ValidationError({"problem": f"{incident.number} is already linked to {incident.problem.number}."})
    problem = problem_create(
        by=by,
        short_description=incident.short_description,
        description=incident.description,
        service=incident.service,
        configuration_item=incident.configuration_item,
        assignment_group=incident.assignment_group,
    )
    journal_add(ticket=problem, actor=by, kind=JournalKind.WORK_NOTE, body=f"Created from incident {incident.number}.")
    incident_update(incident=incident, by=by, problem=problem)
    return problem


@transaction.atomic
def problem_link_incident(*, problem: Problem, incident: Incident, by: User) -> Incident:
    """Link an incident to this problem (replacing any earlier link), journaled on both."""
    ensure_agent(by, "link incidents to problems")
    if not problem.active:
        raise ValidationError({"problem": f"A {problem.get_state_display()} problem takes no more incidents."})
    if incident.problem_id == problem.pk:
        return incident
    incident_update(incident=incident, by=by, problem=problem)
    journal_add(ticket=problem, actor=by, kind=JournalKind.WORK_NOTE, body=f"Linked incident {incident.number}.")
    return incident


@transaction.atomic
def problem_unlink_incident(*, problem: Problem, incident: Incident, by: User) -> Incident:
    """Remove an incident's link to this problem, journaled on both."""
    ensure_agent(by, "unlink incidents from problems")
    if incident.problem_id != problem.pk:
        raise ValidationError({"incident": f"{incident.number} is not linked to {problem.number}."})
    incident_update(incident=incident, by=by, problem=None)
    journal_add(ticket=problem, actor=by, kind=JournalKind.WORK_NOTE, body=f"Unlinked incident {incident.number}.")
    return incident


@transaction.atomic
def problem_assess(*, problem: Problem, by: User) -> Problem:
    """New -> Assess."""
    _transition(problem, "assess", by)
    return problem


@transaction.atomic
def problem_analyze(*, problem: Problem, by: User) -> Problem:
    """Assess -> Root Cause Analysis."""
    _transition(problem, "analyze", by)
    return problem


@transaction.atomic
def problem_fix(*, problem: Problem, by: User, cause_notes: str = "") -> Problem:
    """Root Cause Analysis -> Fix in Progress; the root cause must be known by then (given here or before)."""
    _ensure_allowed(problem, "fix", by)
    cause = (cause_notes or "").strip()
    if not cause and not problem.cause_notes.strip():
        raise ValidationError({"cause_notes": "Record the root cause before working on the fix."})
    _transition(problem, "fix", by, cause_notes=cause)
    if cause and problem.known_error:
        _article_sync(problem)
    return problem


def _resolution_errors(
    problem: Problem, code: str, cause: str, fix: str, close: str, duplicate_of: Problem | None
) -> dict[str, str]:
    """The notes each resolution code requires (given now or recorded before), by field."""
    errors: dict[str, str] = {}
    cause = cause or problem.cause_notes.strip()
    fix = fix or problem.fix_notes.strip()
    if code not in R.values:
        return {"resolution_code": f"Must be one of: {', '.join(R.values)}."}
    if code in (R.FIX_APPLIED, R.RISK_ACCEPTED) and not cause:
        errors["cause_notes"] = "The root cause is required for this resolution."
    if code == R.FIX_APPLIED and not fix:
        errors["fix_notes"] = "Describe the fix that was applied."
    if code in (R.RISK_ACCEPTED, R.CANCELED) and not close:
        errors["close_notes"] = "Close notes are required for this resolution."
    if code == R.DUPLICATE:
        if duplicate_of is None:
            errors["duplicate_of"] = "Name the problem this one duplicates."
        elif duplicate_of.pk == problem.pk:
            errors["duplicate_of"] = "A problem cannot duplicate itself."
        else:
            seen, original = {problem.pk}, duplicate_of
            while original is not None and original.pk not in seen:
                seen.add(original.pk)
                original = original.duplicate_of
            if original is not None:
                errors["duplicate_of"] = f"{duplicate_of.number} is itself a duplicate of this problem."
    return errors


@transaction.atomic
def problem_resolve(
    *,
    problem: Problem,
    by: User,
    resolution_code: str,
    cause_notes: str = "",
    fix_notes: str = "",
    close_notes: str = "",
    duplicate_of: Problem | None = None,
    resolve_incidents: bool = False,
) -> Problem:
    """Resolve the problem with a resolution code and the notes it requires.

    With `resolve_incidents`, every linked incident on hold awaiting a problem is resolved in the same transaction
    (close code "resolved by problem", close notes naming the problem), and each incident's caller is told. The
    problem's journal lists the incidents it resolved.
    """
    _ensure_allowed(problem, "resolve", by)
    cause, fix, close = (cause_notes or "").strip(), (fix_notes or "").strip(), (close_notes or "").strip()
    errors = _resolution_errors(problem, resolution_code, cause, fix, close, duplicate_of)
    waiting: list[Incident] = []
    close_code = None
    if resolve_incidents:
        close_code = CloseCode.objects.filter(slug=RESOLVED_BY_PROBLEM, active=True).first()
        if close_code is None:
            errors["resolve_incidents"] = f"The incident close code '{RESOLVED_BY_PROBLEM}' is missing or inactive."
    if errors:
        raise ValidationError(errors)
    label = R(resolution_code).label
    _transition(
        problem,
        "resolve",
        by,
        body=f"{label}: {close or fix or cause or (duplicate_of.number if duplicate_of else '')}".strip(),
        resolution_code=resolution_code,
        cause_notes=cause,
        fix_notes=fix,
        close_notes=close,
        duplicate_of=duplicate_of,
    )
    if resolve_incidents:
        waiting = list(
            # Not problem.incidents: a prefetched relation would carry its deferred columns into this query.
            Incident.objects.select_for_update(of=("self",))
            .filter(problem=problem)
            .filter(state=IncidentState.ON_HOLD, hold_reason__slug=AWAITING_PROBLEM)
            .select_related("caller", "hold_reason")
            .order_by("pk")
        )
        summary = problem.fix_notes or problem.close_notes or problem.workaround or label
        for incident in waiting:
            incident_resolve(
                incident=incident,
                by=by,
                close_code=close_code,
                close_notes=f"Resolved by problem {problem.number} ({label}): {summary}",
            )
        if waiting:
            journal_add(
                ticket=problem,
                actor=by,
                kind=JournalKind.WORK_NOTE,
                body=f"Resolved {len(waiting)} linked incident(s): {', '.join(i.number for i in waiting)}.",
            )
    return problem


@transaction.atomic
def problem_close(*, problem: Problem, by: User) -> Problem:
    """Resolved -> Closed."""
    _transition(problem, "close", by)
    return problem


@transaction.atomic
def problem_cancel(*, problem: Problem, by: User, reason: str = "") -> Problem:
    """Cancel an open problem raised in error; the reason is journaled."""
    _transition(problem, "cancel", by, body=(reason or "").strip())
    return problem


@transaction.atomic
def problem_reopen(*, problem: Problem, by: User, comment: str = "") -> Problem:
    """Resolved -> Root Cause Analysis (the fix did not hold); the reason goes into the journal as a work note."""
    _transition(problem, "reopen", by)
    if (comment or "").strip():
        journal_add(ticket=problem, actor=by, kind=JournalKind.WORK_NOTE, body=comment.strip())
    return problem


def _article_text(problem: Problem) -> tuple[str, str]:
    """The article end users read: no problem number (agents find the problem through the article's link)."""
    title = f"Known error: {problem.short_description}"[:200]
    parts = []
    if problem.description.strip():
        parts.append(f"Symptoms\n{problem.description.strip()}")
    parts.append(f"Root cause\n{problem.cause_notes.strip()}")
    parts.append(f"Workaround\n{problem.workaround.strip()}")
    return title, "\n\n".join(parts)


def _article_sync(problem: Problem) -> KnowledgeArticle:
    """Write (or rewrite) the problem's published known-error article."""
    title, body = _article_text(problem)
    article, _created = KnowledgeArticle.objects.update_or_create(
        problem=problem,
        kind=KnowledgeArticleKind.KNOWN_ERROR,
        defaults={
            "title": title,
            "body": body,
            "service": problem.service,
            "configuration_item": problem.configuration_item,
            "published": True,
        },
    )
    return article


@transaction.atomic
def problem_mark_known_error(
    *, problem: Problem, by: User, workaround: str = "", cause_notes: str = ""
) -> KnowledgeArticle:
    """Flag the problem as a known error and publish its article (root cause and workaround, found by CI/service).

    The root cause and workaround may be given here or be on the problem already; both are required. Marking again
    updates the article.
    """
    ensure_agent(by, "mark known errors")
    if not problem.active:
        raise ValidationError({"state": f"A {problem.get_state_display()} problem cannot become a known error."})
    workaround, cause = (workaround or "").strip(), (cause_notes or "").strip()
    errors = {}
    if not (workaround or problem.workaround.strip()):
        errors["workaround"] = "A known error needs a workaround."
    if not (cause or problem.cause_notes.strip()):
        errors["cause_notes"] = "A known error needs its root cause."
    if errors:
        raise ValidationError(errors)
    changes = {"known_error": True}
    if workaround:
        changes["workaround"] = workaround
    if cause:
        changes["cause_notes"] = cause
    diffs = [
        (field, getattr(problem, field), value) for field, value in changes.items() if getattr(problem, field) != value
    ]
    if diffs:
        for field, _old, value in diffs:
            setattr(problem, field, value)
        problem.save(update_fields=[*(field for field, _o, _v in diffs), "updated_at"])
        entries = journal_field_changes(ticket=problem, actor=by, changes=diffs)
        sla_evaluate(ticket=problem, at=entries[0].created_at)
    return _article_sync(problem)


# --- problem tasks --------------------------------------------------------------------------------------------


@transaction.atomic
def problem_task_create(
    *,
    problem: Problem,
    by: User,
    short_description: str,
    description: str = "",
    assignment_group: Team | None = None,
    assigned_to: User | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
) -> ProblemTask:
    """Add a task to an open problem, for a team; the problem's journal notes it."""
    ensure_agent(by, "add problem tasks")
    if not problem.active or problem.resolved_at is not None:
        raise ValidationError({"problem": f"A {problem.get_state_display()} problem takes no new tasks."})
    task = ProblemTask(
        kind=TicketKind.PROBLEM_TASK,
        problem=problem,
        short_description=(short_description or "").strip(),
        description=description,
        caller=by,
        opened_by=by,
        impact=problem.impact,
        urgency=problem.urgency,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        service=problem.service,
        configuration_item=problem.configuration_item,
        category=category,
        subcategory=subcategory,
    )
    _created(task, by)
    journal_add(ticket=problem, actor=by, kind=JournalKind.WORK_NOTE, body=f"Added task {task.number}.")
    return task


@transaction.atomic
def problem_task_update(*, task: ProblemTask, by: User, **changes: Any) -> ProblemTask:
    """Change a task's description or assignment, each change journaled."""
    _update(task, by, PROBLEM_TASK_UPDATABLE_FIELDS, changes)
    return task


@transaction.atomic
def problem_task_assess(*, task: ProblemTask, by: User) -> ProblemTask:
    """New -> Assess."""
    _transition(task, "assess", by)
    return task


@transaction.atomic
def problem_task_start(*, task: ProblemTask, by: User) -> ProblemTask:
    """New or Assess -> Work in Progress."""
    _transition(task, "start", by)
    return task


@transaction.atomic
def problem_task_close(*, task: ProblemTask, by: User, close_notes: str) -> ProblemTask:
    """Close the task with notes on what was done (or why it is no longer needed)."""
    _ensure_allowed(task, "close", by)
    notes = (close_notes or "").strip()
    if not notes:
        raise ValidationError({"close_notes": "Close notes are required to close a task."})
    _transition(task, "close", by, body=notes, close_notes=notes)
    return task


# --- journal --------------------------------------------------------------------------------------------------


def _comment(ticket: Ticket, by: User, body: str, kind: str) -> JournalEntry:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "This field may not be blank."})
    if kind not in (JournalKind.COMMENT, JournalKind.WORK_NOTE):
        raise ValidationError({"kind": "Must be 'comment' or 'work_note'."})
    ensure_agent(by, "write on problems and problem tasks")
    if not ticket.active:
        raise ValidationError({"body": f"A {ticket.get_state_display()} record takes no more comments."})
    return journal_add(ticket=ticket, actor=by, kind=kind, body=body)


@transaction.atomic
def problem_comment(*, problem: Problem, by: User, body: str, kind: str = JournalKind.WORK_NOTE) -> JournalEntry:
    """Add a comment or work note to a problem (agents only; problems have no end-user audience)."""
    return _comment(problem, by, body, kind)


@transaction.atomic
def problem_task_comment(*, task: ProblemTask, by: User, body: str, kind: str = JournalKind.WORK_NOTE) -> JournalEntry:
    """Add a comment or work note to a problem task (agents only)."""
    return _comment(task, by, body, kind)
