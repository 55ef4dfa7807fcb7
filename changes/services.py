"""Change use cases: create (also from a standard template), update, every transition, the risk questionnaire, the
reactions to the approval policy's decision, conflicts (stored, recomputed, overridden) and change tasks.

Each runs in one transaction: permission check, transition, save, journal, SLA re-evaluation, and notifications
through the outbox. Changes are agents' work: end users may run none of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django_fsm import TransitionNotAllowed

from automation.services import apply_rules_on_create
from catalog.models import ConfigurationItem, Service
from changes.conflicts import Conflict
from changes.enums import (
    OPEN_CHANGE_TASK_STATES,
    PLANNED_CHANGE_STATES,
    ChangeApproval,
    ChangeCloseCode,
    ChangeRisk,
    ChangeState,
    ChangeType,
)
from changes.models import (
    Change,
    ChangeConflict,
    ChangeRiskAnswer,
    ChangeTask,
    ChangeTemplate,
    RiskAnswerOption,
    RiskQuestion,
    RiskThreshold,
)
from changes.rules import can_override_conflicts
from changes.selectors import change_conflicts_find, ci_graph_around
from itsm.enums import Impact, JournalKind, TicketKind, Urgency
from itsm.models import Category, JournalEntry, Team
from itsm.selectors import priority_for
from itsm.services import (
    approval_policy_for,
    approvals_request,
    approvals_withdraw,
    ensure_agent,
    journal_add,
    journal_field_changes,
    journal_transition,
    ticket_field_errors,
    ticket_next_number,
    transition_ensure_allowed,
)
from slas.services import sla_evaluate

# Fields an agent may change on a change outside the transitions (`change_type` only in New).
CHANGE_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "change_type",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "service",
    "configuration_item",
    "category",
    "subcategory",
    "justification",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "planned_start",
    "planned_end",
    "affected_cis",
    "affected_services",
)
_M2M = ("affected_cis", "affected_services")
# A change to one of these recomputes the change's conflicts (and those of the changes it conflicted with).
_CONFLICT_FIELDS = frozenset(
    {
        "planned_start",
        "planned_end",
        "affected_cis",
        "affected_services",
        "configuration_item",
        "service",
        "assigned_to",
    }
)
# Risk thresholds used when an admin has defined none: the lowest total score of each level.
DEFAULT_RISK_THRESHOLDS = {ChangeRisk.VERY_HIGH: 15, ChangeRisk.HIGH: 10, ChangeRisk.MODERATE: 5, ChangeRisk.LOW: 0}


def _validate(change: Change) -> None:
    """Cross-field rules every write must keep; raises ValidationError naming the field."""
    errors = ticket_field_errors(change, assignable="changes")
    if change.change_type not in ChangeType.values:
        errors["change_type"] = f"Must be one of: {', '.join(ChangeType.values)}."
    elif change.change_type == ChangeType.STANDARD and change.template_id is None:
        errors["change_type"] = "Standard changes are made from a template (POST /api/v1/changes/from-template/)."
    if change.planned_start and change.planned_end and change.planned_end <= change.planned_start:
        errors["planned_end"] = "The planned end must be after the planned start."
    if errors:
        raise ValidationError(errors)


def _created(change: Change, by: User) -> JournalEntry:
    """Number, save and journal a new change, start its SLA clocks."""
    if change.service is None and change.configuration_item is not None:
        change.service = change.configuration_item.service
    change.kind = change.KIND
    _validate(change)
    change.priority = priority_for(impact=change.impact, urgency=change.urgency)
    change.sync_state_category(change.state)
    change.number = ticket_next_number(kind=change.KIND)
    change.save()
    entry = journal_transition(ticket=change, actor=by, name="create", from_state="", to_state=change.state)
    sla_evaluate(ticket=change, at=entry.created_at)
    return entry


def _names(records: Iterable[Any]) -> str:
    return ", ".join(sorted(str(r) for r in records))


def _set_m2m(change: Change, field: str, values: Iterable[Any]) -> tuple[str, str, str] | None:
    """Replace a many-to-many set; returns its journal line (field, old names, new names) when it changed."""
    manager = getattr(change, field)
    old = list(manager.all())
    new = list(values)
    if {o.pk for o in old} == {n.pk for n in new}:
        return None
    manager.set(new)
    return field, _names(old), _names(new)


@transaction.atomic
def change_update(*, change: Change, by: User, **changes: Any) -> Change:
    """Change fields (not state), each journaled; the type only while the change is New."""
    unknown = set(changes) - set(CHANGE_UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    ensure_agent(by, "change changes")
    if not change.active:
        raise ValidationError({"state": f"A {change.get_state_display()} change cannot be changed."})
    if "change_type" in changes and changes["change_type"] != change.change_type and change.state != ChangeState.NEW:
        raise ValidationError({"change_type": "The type can only change while the change is New."})
    m2m = {field: changes.pop(field) for field in _M2M if field in changes}
    diffs: list[tuple[str, Any, Any]] = []
    for field, value in changes.items():
        old = getattr(change, field)
        if old != value:
            diffs.append((field, old, value))
            setattr(change, field, value)
    if "configuration_item" in changes and change.service is None and change.configuration_item is not None:
        diffs.append(("service", None, change.configuration_item.service))
        change.service = change.configuration_item.service
    _validate(change)
    changed = {field for field, _old, _new in diffs}
    if changed & {"impact", "urgency"}:
        new_priority = priority_for(impact=change.impact, urgency=change.urgency)
        if new_priority != change.priority:
            diffs.append(("priority", change.priority, new_priority))
            change.priority = new_priority
    if diffs:
        change.save(update_fields=[*(field for field, _old, _new in diffs), "updated_at"])
    lines = [line for field, values in m2m.items() if (line := _set_m2m(change, field, values))]
    if not diffs and not lines:
        return change
    entries = journal_field_changes(ticket=change, actor=by, changes=[*diffs, *lines])
    sla_evaluate(ticket=change, at=entries[0].created_at)
    touched = changed | {field for field, _old, _new in lines}
    if touched & _CONFLICT_FIELDS:
        change_conflicts_refresh(change=change)
    return change


@transaction.atomic
def change_create(
    *,
    by: User,
    short_description: str,
    change_type: str = ChangeType.NORMAL,
    description: str = "",
    impact: int = Impact.LOW,
    urgency: int = Urgency.LOW,
    caller: User | None = None,
    assignment_group: Team | None = None,
    assigned_to: User | None = None,
    service: Service | None = None,
    configuration_item: ConfigurationItem | None = None,
    justification: str = "",
    implementation_plan: str = "",
    backout_plan: str = "",
    test_plan: str = "",
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    affected_cis: Iterable[ConfigurationItem] = (),
    affected_services: Iterable[Service] = (),
    category: Category | None = None,
    subcategory: Category | None = None,
) -> Change:
    """Raise a normal or emergency change; the requester defaults to the agent raising it."""
    ensure_agent(by, "raise changes")
    change = Change(
        short_description=(short_description or "").strip(),
        change_type=change_type,
        description=description,
        impact=impact,
        urgency=urgency,
        caller=caller or by,
        opened_by=by,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        service=service,
        configuration_item=configuration_item,
        justification=justification,
        implementation_plan=implementation_plan,
        backout_plan=backout_plan,
        test_plan=test_plan,
        planned_start=planned_start,
        planned_end=planned_end,
        category=category,
        subcategory=subcategory,
    )
    _created(change, by)
    apply_rules_on_create(ticket=change, by=by)
    change.affected_cis.set(affected_cis)
    change.affected_services.set(affected_services)
    change_conflicts_refresh(change=change)
    return change


@transaction.atomic
def change_create_from_template(
    *,
    template: ChangeTemplate,
    by: User,
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    short_description: str = "",
    assigned_to: User | None = None,
) -> Change:
    """Raise a standard change from an active template (risk Low, plans and team copied).

    Effects: with a planned window given, the pre-approved change is scheduled at once (New -> Scheduled, two
    journal entries); without one it stays New until `schedule`.
    """
    ensure_agent(by, "raise changes")
    if not template.active:
        raise ValidationError({"template": f"The template '{template}' is not active."})
    change = Change(
        short_description=(short_description or "").strip() or template.short_description,
        change_type=ChangeType.STANDARD,
        template=template,
        description=template.description,
        implementation_plan=template.implementation_plan,
        backout_plan=template.backout_plan,
        test_plan=template.test_plan,
        assignment_group=template.assignment_group,
        assigned_to=assigned_to,
        service=template.service,
        configuration_item=template.configuration_item,
        risk=ChangeRisk.LOW,
        caller=by,
        opened_by=by,
        planned_start=planned_start,
        planned_end=planned_end,
    )
    _created(change, by)
    journal_add(
        ticket=change, actor=by, kind=JournalKind.WORK_NOTE, body=f"Created from standard template '{template}'."
    )
    if template.configuration_item_id:
        change.affected_cis.set([template.configuration_item])
    found = change_conflicts_refresh(change=change)
    if planned_start and planned_end:
        if found:
            # Pre-approved is not conflict-free: it waits in New, the conflicts listed, for a fix or an override.
            _note_unscheduled(change, by, found)
        else:
            change_schedule(change=change, by=by)
    return change


# --- transitions ----------------------------------------------------------------------------------------------


def _columns(change: Change) -> dict[str, Any]:
    return {field.attname: getattr(change, field.attname) for field in change._meta.concrete_fields}


def _transition(
    ticket: Change | ChangeTask, name: str, by: User | None, body: str = "", actor: User | None = None, **kwargs
) -> None:
    """Run one transition of a change or task: check, change, save what changed (optimistic on state), journal,
    re-evaluate SLAs; a change leaving the planned states takes its conflicts with it.

    `by=None` skips the permission check (the kernel's approval decision drives it); `actor` is then journaled.
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
    if isinstance(ticket, Change) and source in PLANNED_CHANGE_STATES and ticket.state not in PLANNED_CHANGE_STATES:
        change_conflicts_refresh(change=ticket)  # its conflicts go, and so do the other changes' with it


def _ensure_allowed(change: Change, name: str, by: User) -> None:
    """State first (409), then permission (403): guards on the input come after, so nothing changes on refusal."""
    transition_ensure_allowed(user=by, transition=getattr(change, name))


def _require(change: Change, fields: Iterable[str], what: str) -> None:
    errors = {}
    for field in fields:
        value = getattr(change, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[field] = f"Required {what}."
    if errors:
        raise ValidationError(errors)


_PLANNED = ("planned_start", "planned_end")


@transaction.atomic
def change_assess(*, change: Change, by: User) -> Change:
    """New -> Assess (normal changes only)."""
    _transition(change, "assess", by)
    return change


@transaction.atomic
def change_request_approval(*, change: Change, by: User) -> Change:
    """Ask the approvers: normal changes from Assess, emergency changes from New.

    The plans and the planned window are required first. The approval policy is the first that matches the change's
    type and risk; with none, nothing changes (400 on `approval_policy`).
    """
    _ensure_allowed(change, "request_approval", by)
    _require(change, ("implementation_plan", "backout_plan", "test_plan", *_PLANNED), "before approval is requested")
    policy = approval_policy_for(practice=change.kind, ticket_type=change.change_type, risk=change.risk)
    if policy is None:
        raise ValidationError(
            {
                "approval_policy": f"No active approval policy applies to {change.get_change_type_display()} changes "
                f"of risk {change.get_risk_display()}; an admin must define one."
            }
        )
    _transition(change, "request_approval", by, body=f"Approval policy: {policy}.")
    approvals_request(ticket=change, policy=policy, by=by)
    return change


class ChangeConflictError(TransitionNotAllowed):
    """The change has conflicts and no override: scheduling is refused (409, the conflicts in the answer)."""

    code = "change_conflicts"

    def __init__(self, change: Change, conflicts: list[Conflict]) -> None:
        super().__init__(
            f"{change.number} has {len(conflicts)} conflict(s); fix them, or a change manager schedules it with "
            "an override reason.",
            object=change,
        )
        self.conflicts = conflicts

    @property
    def extra(self) -> dict[str, Any]:
        return {"conflicts": [{"kind": c.kind, "reason": c.reason} for c in self.conflicts]}


def _conflict_lines(conflicts: Iterable[Conflict]) -> str:
    return "\n".join(f"- {conflict.reason}" for conflict in conflicts)


@transaction.atomic
def change_schedule(*, change: Change, by: User | None, actor: User | None = None, override_reason: str = "") -> Change:
    """Authorize (policy met) or, for a standard change, New -> Scheduled; the planned window is required.

    Effects: the conflicts are recomputed and stored first. With conflicts the change is only scheduled when a change
    manager gives an override reason, journaled with the conflicts it overrides; otherwise ChangeConflictError (409).
    """
    if by is not None:
        _ensure_allowed(change, "schedule", by)
    _require(change, _PLANNED, "before the change is scheduled")
    override_reason = (override_reason or "").strip()
    if override_reason and not can_override_conflicts(by):
        raise PermissionDenied("Only change managers can override conflicts.")
    conflicts = change_conflicts_refresh(change=change)
    if conflicts and not override_reason:
        raise ChangeConflictError(change, conflicts)
    if conflicts:
        journal_add(
            ticket=change,
            actor=by,
            kind=JournalKind.WORK_NOTE,
            body=f"Conflicts overridden by {by.get_username()}: {override_reason}\n{_conflict_lines(conflicts)}",
        )
    _transition(change, "schedule", by, actor=actor)
    return change


def _note_unscheduled(change: Change, by: User | None, conflicts: list[Conflict]) -> None:
    journal_add(
        ticket=change,
        actor=by,
        kind=JournalKind.WORK_NOTE,
        body=f"Not scheduled: {len(conflicts)} conflict(s). Fix them, or a change manager schedules it with an "
        f"override reason.\n{_conflict_lines(conflicts)}",
    )


def _conflict_rows(change: Change, conflicts: list[Conflict]) -> list[ChangeConflict]:
    return [
        ChangeConflict(
            change=change,
            kind=c.kind,
            other_change_id=c.other_id,
            window_id=c.window_id,
            configuration_item_id=c.ci_id,
            reason=c.reason,
        )
        for c in conflicts
    ]


def _stored(change_id: int) -> set[tuple]:
    return set(
        ChangeConflict.objects.filter(change_id=change_id).values_list(
            "kind", "other_change_id", "window_id", "configuration_item_id", "reason"
        )
    )


# Conflict recomputes are serialised (a PostgreSQL transaction-level advisory lock; SQLite serialises writers
# anyway): two crossing recomputes would each write both changes' rows, and read the others' half-written state.
# Holders wait on nothing else: the conflict rows are written under this lock only, and the changes they point at are
# locked FOR NO KEY UPDATE elsewhere, which the foreign keys' KEY SHARE locks do not wait for.
_CONFLICTS_LOCK = 0x43484743  # "CHGC"


def _conflicts_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CONFLICTS_LOCK])


@transaction.atomic
def change_conflicts_refresh(*, change: Change, cascade: bool = True) -> list[Conflict]:
    """Recompute and store the change's conflicts; returns them.

    Effects: the stored rows are replaced when they differ. With `cascade`, the changes it conflicted with before
    or conflicts with now are recomputed too (their conflicts with this one come and go with it).
    """
    _conflicts_lock()
    found = change_conflicts_find(change=change)
    before = _stored(change.pk)
    now = {(c.kind, c.other_id, c.window_id, c.ci_id, c.reason) for c in found}
    if before != now:
        ChangeConflict.objects.filter(change=change).delete()
        ChangeConflict.objects.bulk_create(_conflict_rows(change, found), ignore_conflicts=True)
    if cascade:
        partners = {row[1] for row in before | now if row[1]}
        partners |= set(ChangeConflict.objects.filter(other_change=change).values_list("change_id", flat=True))
        for other in Change.objects.filter(pk__in=partners - {change.pk}).order_by("pk"):
            change_conflicts_refresh(change=other, cascade=False)
    return found


@transaction.atomic
def change_conflicts_refresh_around(*, ci_ids: Iterable[int]) -> int:
    """Recompute the planned changes on CIs within the conflict depth of these CIs (after a dependency between them
    was added or removed), and those they conflicted with; returns how many were recomputed first."""
    ci_ids = set(ci_ids)
    graph = ci_graph_around(ci_ids, getattr(settings, "ITSM_CHANGE_CONFLICT_DEPTH", 3))
    region = ci_ids | set(graph) | {target for targets in graph.values() for target in targets}
    planned = (
        Change.objects.filter(Q(affected_cis__in=region) | Q(configuration_item__in=region))
        .filter(state__in=PLANNED_CHANGE_STATES, planned_start__isnull=False, planned_end__isnull=False)
        .distinct()
        .order_by("pk")
    )
    changes = list(planned)
    for change in changes:
        change_conflicts_refresh(change=change)
    return len(changes)


@transaction.atomic
def change_conflicts_refresh_planned() -> int:
    """Recompute the conflicts of every planned change (after a window or the CI graph changed); returns how many."""
    planned = Change.objects.filter(
        state__in=PLANNED_CHANGE_STATES, planned_start__isnull=False, planned_end__isnull=False
    ).select_related("assigned_to")
    count = 0
    for change in planned.order_by("pk").iterator(chunk_size=500):
        change_conflicts_refresh(change=change, cascade=False)
        count += 1
    ChangeConflict.objects.exclude(change__state__in=PLANNED_CHANGE_STATES).delete()
    return count


@transaction.atomic
def change_implement(*, change: Change, by: User) -> Change:
    """Scheduled -> Implement: the work starts (actual start recorded)."""
    _transition(change, "implement", by)
    return change


def change_ensure_tasks_done(*, change: Change) -> None:
    """A change in Implement with open tasks cannot go to Review: TransitionNotAllowed (409) naming the tasks."""
    if change.state != ChangeState.IMPLEMENT:
        return
    open_tasks = sorted(change.tasks.filter(state__in=OPEN_CHANGE_TASK_STATES).values_list("number", flat=True))
    if open_tasks:
        raise TransitionNotAllowed(
            f"{change.number} has open tasks ({', '.join(open_tasks)}): close or cancel them first.", object=change
        )


@transaction.atomic
def change_review(*, change: Change, by: User, close_code: str, close_notes: str) -> Change:
    """Implement -> Review with how it went: a close code and notes; refused (409) while change tasks are open."""
    change_ensure_tasks_done(change=change)
    _ensure_allowed(change, "review", by)
    notes = (close_notes or "").strip()
    errors = {}
    if close_code not in ChangeCloseCode.values:
        errors["close_code"] = f"Must be one of: {', '.join(ChangeCloseCode.values)}."
    if not notes:
        errors["close_notes"] = "Say how the implementation went."
    if errors:
        raise ValidationError(errors)
    label = ChangeCloseCode(close_code).label
    _transition(change, "review", by, body=f"{label}: {notes}", close_code=close_code, close_notes=notes)
    return change


@transaction.atomic
def change_close(*, change: Change, by: User, review_notes: str) -> Change:
    """Review -> Closed with the post-implementation review notes."""
    _ensure_allowed(change, "close", by)
    notes = (review_notes or "").strip()
    if not notes:
        raise ValidationError({"review_notes": "The post-implementation review notes are required."})
    _transition(change, "close", by, body=notes, review_notes=notes)
    return change


@transaction.atomic
def change_cancel(*, change: Change, by: User, reason: str = "") -> Change:
    """Cancel a change not yet done; pending approvals are withdrawn, open tasks canceled, the reason journaled."""
    _transition(change, "cancel", by, body=(reason or "").strip())
    approvals_withdraw(ticket=change, by=by)
    for task in change.tasks.filter(state__in=OPEN_CHANGE_TASK_STATES).order_by("pk"):
        _transition(task, "cancel", None, actor=by, body=f"{change.number} was canceled.", close_notes="")
    return change


@transaction.atomic
def change_revert_to_new(*, change: Change, by: User, reason: str = "") -> Change:
    """Assess, Authorize or Scheduled -> New by hand; pending approvals are withdrawn, the reason journaled."""
    _transition(change, "revert_to_new", by, body=(reason or "").strip())
    approvals_withdraw(ticket=change, by=by)
    return change


# --- reactions to the approval policy (registered with the kernel in ChangesConfig.ready) ----------------------


def change_on_approved(*, ticket_id: int, by: User) -> None:
    """The policy is met: the change is approved and, in Authorize, scheduled at once (as ServiceNow does)."""
    change = Change.objects.select_for_update(no_key=True).get(pk=ticket_id)
    if change.state != ChangeState.AUTHORIZE:
        return
    change.approval = ChangeApproval.APPROVED
    change.save(update_fields=["approval", "updated_at"])
    entries = journal_field_changes(
        ticket=change, actor=by, changes=[("approval", ChangeApproval.REQUESTED.label, ChangeApproval.APPROVED.label)]
    )
    sla_evaluate(ticket=change, at=entries[0].created_at)
    conflicts = change_conflicts_refresh(change=change)
    if conflicts:
        # Approved but not scheduled: it waits in Authorize until its conflicts are fixed or overridden.
        _note_unscheduled(change, None, conflicts)
        return
    change_schedule(change=change, by=None, actor=by)


def change_on_rejected(*, ticket_id: int, by: User, comment: str = "") -> None:
    """An approver rejected: back to New (approval Rejected), pending approvals withdrawn."""
    change = Change.objects.select_for_update(no_key=True).get(pk=ticket_id)
    if change.state != ChangeState.AUTHORIZE:
        return
    _transition(
        change, "revert_to_new", None, actor=by, body=f"Rejected by {by.get_username()}: {comment}", rejected=True
    )
    approvals_withdraw(ticket=change, by=by)


def change_configuration_items(ticket_id: int) -> list[ConfigurationItem]:
    """The CIs whose owner teams approve a change: its affected CIs and its own CI."""
    change = Change.objects.select_related("configuration_item").get(pk=ticket_id)
    cis = list(change.affected_cis.all())
    if change.configuration_item_id and change.configuration_item not in cis:
        cis.append(change.configuration_item)
    return cis


# --- risk -----------------------------------------------------------------------------------------------------


def risk_thresholds() -> list[tuple[int, str]]:
    """(lowest score, risk) pairs, highest first: the admin's thresholds, else the defaults."""
    rows = list(RiskThreshold.objects.values_list("min_score", "risk"))
    if not rows:
        rows = [(score, risk) for risk, score in DEFAULT_RISK_THRESHOLDS.items()]
    return sorted(rows, reverse=True)


def risk_for_score(score: int) -> str:
    """The highest risk whose threshold the score reaches; Low below every threshold."""
    for min_score, risk in risk_thresholds():
        if score >= min_score:
            return risk
    return ChangeRisk.LOW


@transaction.atomic
def change_assess_risk(*, change: Change, by: User, answers: dict[int, int]) -> Change:
    """Answer every active risk question (question id -> option id) and derive the risk from the total score.

    Effects: the answers replace earlier ones; risk, score and an explanation listing each answer's contribution are
    journaled. Only while the change is New or in Assess (the approvers decide on the risk).
    """
    ensure_agent(by, "assess the risk of changes")
    if change.state not in (ChangeState.NEW, ChangeState.ASSESS):
        raise ValidationError({"state": f"The risk cannot be assessed in state {change.get_state_display()}."})
    questions = list(RiskQuestion.objects.filter(active=True).order_by("order", "id"))
    if not questions:
        raise ValidationError({"answers": "There is no active risk questionnaire."})
    try:
        answers = {int(q): int(o) for q, o in answers.items()}
    except (TypeError, ValueError):
        raise ValidationError({"answers": "Map question ids to option ids."}) from None
    wanted = {q.pk for q in questions}
    errors = []
    if missing := sorted(wanted - set(answers)):
        errors.append(f"Answer question(s) {', '.join(map(str, missing))}.")
    if unknown := sorted(set(answers) - wanted):
        errors.append(f"No active question(s) {', '.join(map(str, unknown))}.")
    options = {o.pk: o for o in RiskAnswerOption.objects.filter(pk__in=answers.values(), question__in=questions)}
    for question in questions:
        option_id = answers.get(question.pk)
        if option_id is not None and (option_id not in options or options[option_id].question_id != question.pk):
            errors.append(f"Option {option_id} is not an answer to question {question.pk}.")
    if errors:
        raise ValidationError({"answers": errors})
    ChangeRiskAnswer.objects.filter(change=change).delete()
    rows, lines, total = [], [], 0
    for question in questions:
        option = options[answers[question.pk]]
        total += option.score
        rows.append(ChangeRiskAnswer(change=change, question=question, option=option, score=option.score))
        lines.append(f"{question.text}: {option.label} ({option.score:+d})")
    ChangeRiskAnswer.objects.bulk_create(rows)
    risk = risk_for_score(total)
    bands = ", ".join(f"{ChangeRisk(r).label} from {s}" for s, r in risk_thresholds())
    explanation = "\n".join([*lines, f"Total {total}: {ChangeRisk(risk).label} ({bands})."])
    diffs = [
        (field, getattr(change, field), value)
        for field, value in (("risk", risk), ("risk_score", total), ("risk_explanation", explanation))
        if getattr(change, field) != value
    ]
    for field, _old, value in diffs:
        setattr(change, field, value)
    if diffs:
        change.save(update_fields=[*(field for field, _o, _n in diffs), "updated_at"])
    journal_add(ticket=change, actor=by, kind=JournalKind.WORK_NOTE, body=f"Risk assessed.\n{explanation}")
    shown = [(f, o, n) for f, o, n in diffs if f != "risk_explanation"]
    if shown:
        entries = journal_field_changes(ticket=change, actor=by, changes=shown)
        sla_evaluate(ticket=change, at=entries[0].created_at)
    return change


# --- journal --------------------------------------------------------------------------------------------------


def _comment(ticket: Change | ChangeTask, by: User, body: str, kind: str) -> JournalEntry:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "This field may not be blank."})
    if kind not in (JournalKind.COMMENT, JournalKind.WORK_NOTE):
        raise ValidationError({"kind": "Must be 'comment' or 'work_note'."})
    ensure_agent(by, f"write on {ticket._meta.verbose_name_plural}")
    if not ticket.active:
        raise ValidationError(
            {"body": f"A {ticket.get_state_display()} {ticket._meta.verbose_name} takes no more comments."}
        )
    return journal_add(ticket=ticket, actor=by, kind=kind, body=body)


@transaction.atomic
def change_comment(*, change: Change, by: User, body: str, kind: str = JournalKind.WORK_NOTE) -> JournalEntry:
    """Add a comment or work note to a change (agents only)."""
    return _comment(change, by, body, kind)


# --- change tasks ---------------------------------------------------------------------------------------------

CHANGE_TASK_UPDATABLE_FIELDS = (
    "short_description",
    "description",
    "assignment_group",
    "assigned_to",
    "category",
    "subcategory",
)


def _validate_task(task: ChangeTask) -> None:
    errors = ticket_field_errors(task, assignable="change tasks")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def change_task_create(
    *,
    change: Change,
    by: User,
    short_description: str,
    description: str = "",
    assignment_group: Team | None = None,
    assigned_to: User | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
) -> ChangeTask:
    """Add a task to a change that is not yet in Review, for a team; the change's journal notes it."""
    ensure_agent(by, "add change tasks")
    if change.state not in PLANNED_CHANGE_STATES:
        raise ValidationError({"change": f"A change in {change.get_state_display()} takes no new tasks."})
    task = ChangeTask(
        kind=TicketKind.CHANGE_TASK,
        change=change,
        short_description=(short_description or "").strip(),
        description=description,
        caller=by,
        opened_by=by,
        impact=change.impact,
        urgency=change.urgency,
        assignment_group=assignment_group,
        assigned_to=assigned_to,
        service=change.service,
        configuration_item=change.configuration_item,
        category=category,
        subcategory=subcategory,
    )
    _validate_task(task)
    task.priority = priority_for(impact=task.impact, urgency=task.urgency)
    task.sync_state_category(task.state)
    task.number = ticket_next_number(kind=task.KIND)
    task.save()
    entry = journal_transition(ticket=task, actor=by, name="create", from_state="", to_state=task.state)
    sla_evaluate(ticket=task, at=entry.created_at)
    journal_add(ticket=change, actor=by, kind=JournalKind.WORK_NOTE, body=f"Added task {task.number}.")
    return task


@transaction.atomic
def change_task_update(*, task: ChangeTask, by: User, **changes: Any) -> ChangeTask:
    """Change a task's description or assignment, each change journaled."""
    unknown = set(changes) - set(CHANGE_TASK_UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    ensure_agent(by, "change change tasks")
    if not task.active:
        raise ValidationError({"state": f"A {task.get_state_display()} change task cannot be changed."})
    diffs = [(field, getattr(task, field), value) for field, value in changes.items() if getattr(task, field) != value]
    if not diffs:
        return task
    for field, _old, value in diffs:
        setattr(task, field, value)
    _validate_task(task)
    task.save(update_fields=[*(field for field, _old, _new in diffs), "updated_at"])
    entries = journal_field_changes(ticket=task, actor=by, changes=diffs)
    sla_evaluate(ticket=task, at=entries[0].created_at)
    return task


@transaction.atomic
def change_task_assess(*, task: ChangeTask, by: User) -> ChangeTask:
    """New -> Assess."""
    _transition(task, "assess", by)
    return task


@transaction.atomic
def change_task_start(*, task: ChangeTask, by: User) -> ChangeTask:
    """New or Assess -> Work in Progress."""
    _transition(task, "start", by)
    return task


@transaction.atomic
def change_task_close(*, task: ChangeTask, by: User, close_notes: str) -> ChangeTask:
    """Close the task with notes on what was done."""
    transition_ensure_allowed(user=by, transition=task.close)
    notes = (close_notes or "").strip()
    if not notes:
        raise ValidationError({"close_notes": "Close notes are required to close a task."})
    _transition(task, "close", by, body=notes, close_notes=notes)
    return task


@transaction.atomic
def change_task_cancel(*, task: ChangeTask, by: User, reason: str = "") -> ChangeTask:
    """Cancel a task that is no longer needed, with the reason."""
    reason = (reason or "").strip()
    _transition(task, "cancel", by, body=reason, close_notes=reason)
    return task


@transaction.atomic
def change_task_comment(*, task: ChangeTask, by: User, body: str, kind: str = JournalKind.WORK_NOTE) -> JournalEntry:
    """Add a comment or work note to a change task (agents only)."""
    return _comment(task, by, body, kind)
