"""Suite 8: property tests (hypothesis) of every practice's state machine.

Hypothesis draws sequences of moves (every transition the model declares, legal from the current state or not,
field edits that change priority and assignment, approvals for changes and requested items, a requested item's
fulfilment tasks closed) with random pauses between them, often none (several moves at one journal instant, as when an
order is approved at its creation), and plays them through the services on a fresh record while the clock advances.
After every move:

- a move the state machine does not allow from the current state is refused (TransitionNotAllowed) and changes
  nothing; an allowed one lands in the declared target state (or is refused by an input guard and changes nothing);
- the journal's transitions form a path over declared edges only, each entry from the state the previous one left;
- timestamps are ordered: the journal by time, opened <= resolved <= closed;
- the state category is the one the practice declares for the state;
- the SLA clocks equal a replay of the journal (slas/replay.py), and no clock runs on a finished ticket.

Fixed seed (`derandomize`); `ITSM_PROPERTY_EXAMPLES` raises the number of sequences per practice.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from itsm.enums import JournalKind
from itsm.models import JournalEntry, Ticket
from tests.factories import (
    AgentFactory,
    TeamFactory,
    approval_policy_factory,
    change_factory,
    close_code,
    hold_reason,
    incident_factory,
    problem_factory,
)
from tests.security.conftest import report
from tests.security.sla_check import assert_clocks_match_journal, sla_definitions_for_every_practice

pytestmark = [pytest.mark.django_db]

EXAMPLES = int(os.environ.get("ITSM_PROPERTY_EXAMPLES", "10"))
STEPS = 10
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_SEEN: dict[str, int] = {}


@dataclass(frozen=True)
class Practice:
    name: str
    services: str  # module
    prefix: str  # service name prefix
    argument: str  # the services' keyword for the record
    arguments: dict  # transition -> keyword arguments (callables get the desk)
    edits: tuple[dict, ...]  # field edits through <prefix>_update


def _incident_args(desk):
    return {
        "hold": {"reason": hold_reason("awaiting_vendor")},
        "resolve": {"close_code": close_code(), "close_notes": "Fixed."},
        "reopen": {"comment": "Back again."},
        "cancel": {"reason": "Duplicate."},
    }


def _problem_args(desk):
    return {
        "fix": {"cause_notes": "A driver bug."},
        "resolve": {"resolution_code": "fix_applied", "cause_notes": "A driver bug.", "fix_notes": "Pinned it."},
        "reopen": {"comment": "It came back."},
        "cancel": {"reason": "Not a problem."},
    }


def _task_args(desk):
    return {"close": {"close_notes": "Done."}}


def _change_task_args(desk):
    return {"close": {"close_notes": "Done."}, "cancel": {"reason": "Not needed."}}


def _fulfilment_task_args(desk):
    return {"close_complete": {"close_notes": "Delivered."}, "close_incomplete": {"close_notes": "Out of stock."}}


def _requested_item_args(desk):
    return {"cancel": {"reason": "No longer needed."}}


def _change_args(desk):
    return {
        "review": {"close_code": "successful", "close_notes": "Went as planned."},
        "close": {"review_notes": "Nothing to follow up."},
        "cancel": {"reason": "Not needed."},
        "revert_to_new": {"reason": "Replan."},
    }


PRIORITY_EDITS = ({"impact": 1, "urgency": 1}, {"impact": 3, "urgency": 3}, {"impact": 2, "urgency": 1})
PRACTICES = {
    "incident": Practice("incident", "incidents.services", "incident", "incident", _incident_args, PRIORITY_EDITS),
    "problem": Practice("problem", "problems.services", "problem", "problem", _problem_args, PRIORITY_EDITS),
    "problem_task": Practice(
        "problem_task", "problems.services", "problem_task", "task", _task_args, ({"short_description": "Logs"},)
    ),
    "change": Practice("change", "changes.services", "change", "change", _change_args, PRIORITY_EDITS),
    "change_task": Practice(
        "change_task", "changes.services", "change_task", "task", _change_task_args, ({"short_description": "Swap"},)
    ),
    "requested_item": Practice(
        "requested_item",
        "requests_app.services",
        "requested_item",
        "item",
        _requested_item_args,
        # Edits name the desk's people, so they are resolved when played.
        (
            lambda desk: {"assignment_group": desk["team"], "assigned_to": desk["agent"]},
            lambda desk: {"assigned_to": None},
        ),
    ),
    "fulfilment_task": Practice(
        "fulfilment_task",
        "requests_app.services",
        "fulfilment_task",
        "task",
        _fulfilment_task_args,
        ({"short_description": "Image the laptop"},),
    ),
}


def _create(practice: str, desk: dict):
    agent = desk["agent"]
    if practice == "incident":
        return incident_factory(by=agent, caller=desk["caller"], assignment_group=desk["team"])
    if practice == "problem":
        return problem_factory(by=agent, assignment_group=desk["team"])
    if practice == "problem_task":
        from problems.services import problem_task_create

        return problem_task_create(problem=desk["problem"], by=agent, short_description="Collect logs")
    if practice == "requested_item":
        from tests.factories.requests import laptop_item, order, ritm_of

        # With an approval it waits for the requester's manager; without, it is approved and in fulfilment at the
        # instant it is ordered.
        item = laptop_item(approval=desk["approval"], name=f"Laptop {len(desk['made'])}")
        desk["made"].append(item)
        return ritm_of(order(desk["caller"], item))
    if practice == "fulfilment_task":
        from tests.factories.requests import laptop_item, order, ritm_of

        item = laptop_item(approval=False, parallel=True, name=f"Laptop {len(desk['made'])}")
        desk["made"].append(item)
        ritm = ritm_of(order(desk["caller"], item))
        return ritm.tasks.order_by("position").first()
    if practice == "change_task":
        from changes.services import change_task_create

        return change_task_create(change=desk["change"], by=agent, short_description="Swap the disk")
    return change_factory(by=agent, change_type=desk["change_types"].pop(0) if desk["change_types"] else "normal")


def _edges(record) -> set[tuple[str, str, str]]:
    """(source, target, name) of every transition the model declares, '*' sources expanded."""
    states = [value for value, _label in type(record)._meta.get_field("state").choices]
    edges = set()
    for transition in record.get_all_state_transitions():
        sources = states if transition.source in ("*", "+") else [transition.source]
        for source in sources:
            edges.add((source, transition.target, transition.name))
    return edges


def _journal_path(ticket: Ticket) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.TRANSITION).order_by("created_at", "id"))


def _assert_invariants(record, edges, initial: str, now: datetime) -> None:
    ticket = Ticket.objects.get(pk=record.pk)
    path = _journal_path(ticket)
    current = initial
    for index, entry in enumerate(path):
        if not entry.from_state:  # the creation entry: first, into the initial state
            assert index == 0 and entry.to_state == initial, f"{ticket.number}: creation entry {entry}"
            continue
        assert entry.from_state == current, f"{ticket.number}: journal jumps {current} -> {entry.from_state}"
        assert (entry.from_state, entry.to_state, entry.transition) in edges, f"undeclared edge {entry}"
        current = entry.to_state
    fresh = type(record).objects.get(pk=record.pk)
    assert current == fresh.state, f"{ticket.number}: journal ends in {current}, record is {fresh.state}"
    created = list(JournalEntry.objects.filter(ticket=ticket).order_by("id").values_list("created_at", flat=True))
    assert created == sorted(created), "journal entries written out of time order"
    assert all(moment <= now for moment in created)
    assert ticket.opened_at <= now
    if ticket.resolved_at:
        assert ticket.opened_at <= ticket.resolved_at <= now
    if ticket.closed_at:
        assert ticket.opened_at <= ticket.closed_at <= now
        if ticket.resolved_at and fresh.state == "closed":
            assert ticket.resolved_at <= ticket.closed_at
    assert_clocks_match_journal(ticket, until=now)


def _move(practice: Practice, record, desk: dict, move: tuple[str, object]):
    """Play one move; returns the record (re-read) and whether the move was a transition the FSM allowed."""
    import importlib

    services = importlib.import_module(practice.services)
    kind, what = move
    agent = desk["agent"]
    if kind == "edit" and callable(what):
        what = what(desk)
    if kind == "edit":
        before = JournalEntry.objects.filter(ticket_id=record.pk).count()
        try:
            getattr(services, f"{practice.prefix}_update")(**{practice.argument: record}, by=agent, **what)
        except ValidationError:  # a finished record takes no edits: refused, and nothing changed
            assert JournalEntry.objects.filter(ticket_id=record.pk).count() == before
            assert not type(record).objects.get(pk=record.pk).active
        return type(record).objects.get(pk=record.pk)
    if kind == "approve":
        from itsm.models import Approval
        from itsm.services import approval_approve

        for approval in Approval.objects.filter(ticket_id=record.pk, state="requested").select_related("approver"):
            approval_approve(approval=approval, by=approval.approver, comment="OK")
        return type(record).objects.get(pk=record.pk)
    if kind == "task":
        # A requested item is fulfilled (or closed incomplete) by its tasks: close the next open one.
        from requests_app.models import FulfilmentTask

        task = FulfilmentTask.objects.filter(requested_item_id=record.pk, active=True).order_by("position").first()
        if task is not None:
            if what == "complete":
                services.fulfilment_task_close_complete(task=task, by=agent, close_notes="Delivered.")
            else:
                services.fulfilment_task_close_incomplete(task=task, by=agent, close_notes="Out of stock.")
        return type(record).objects.get(pk=record.pk)
    name = what
    before_state = record.state
    before_journal = len(_journal_path(record))
    allowed = {(s, t) for s, t, n in desk["edges"] if n == name and s == before_state}
    function = getattr(services, f"{practice.prefix}_{name}")
    kwargs = practice.arguments(desk).get(name, {})
    try:
        function(**{practice.argument: record}, by=agent, **kwargs)
    except TransitionNotAllowed:
        fresh = type(record).objects.get(pk=record.pk)
        assert fresh.state == before_state and len(_journal_path(fresh)) == before_journal
        return fresh
    except (ValidationError, PermissionDenied):
        # An input guard or a condition: refused, and nothing changed.
        fresh = type(record).objects.get(pk=record.pk)
        assert fresh.state == before_state and len(_journal_path(fresh)) == before_journal
        return fresh
    fresh = type(record).objects.get(pk=record.pk)
    assert allowed, f"{name} succeeded from {before_state}, which the state machine does not allow"
    assert (before_state, fresh.state) in allowed, f"{name} went {before_state} -> {fresh.state}"
    assert len(_journal_path(fresh)) == before_journal + 1
    _SEEN[practice.name] = _SEEN.get(practice.name, 0) + 1
    return fresh


def _draw_move(data, practice: Practice, names: list[str], record, edges) -> tuple[str, object]:
    """Mostly a transition the state machine allows now (so sequences go deep), sometimes any transition (which
    must be refused), an edit, or, for changes, the approvers' decisions."""
    legal = sorted({n for s, _t, n in edges if s == record.state and n in names})
    kinds = ["legal", "legal", "legal", "any", "edit"] + (
        ["approve"] if practice.name in ("change", "requested_item") else []
    )
    if practice.name == "requested_item":
        kinds += ["task", "task"]
    kind = data.draw(st.sampled_from(kinds if legal else [k for k in kinds if k != "legal"]))
    if kind == "legal":
        return "transition", data.draw(st.sampled_from(legal))
    if kind == "any":
        return "transition", data.draw(st.sampled_from(names))
    if kind == "edit":
        return "edit", data.draw(st.sampled_from(practice.edits))
    if kind == "task":
        return "task", data.draw(st.sampled_from(["complete", "complete", "incomplete"]))
    return "approve", None


def _names(practice: str) -> list[str]:
    model = {
        "incident": "incidents.models.Incident",
        "problem": "problems.models.Problem",
        "problem_task": "problems.models.ProblemTask",
        "change": "changes.models.Change",
        "change_task": "changes.models.ChangeTask",
        "requested_item": "requests_app.models.RequestedItem",
        "fulfilment_task": "requests_app.models.FulfilmentTask",
    }[practice]
    module, _, cls = model.rpartition(".")
    import importlib

    klass = getattr(importlib.import_module(module), cls)
    return sorted({t.name for t in klass().get_all_state_transitions()})


@pytest.fixture
def desk(db):
    sla_definitions_for_every_practice()
    team = TeamFactory(name="Property desk")
    agent = AgentFactory(username="prop_agent")
    approver = AgentFactory(username="prop_approver")
    team.members.add(agent, approver)
    approval_policy_factory(approvers=[approver], name="Property CAB")
    from tests.factories import UserFactory
    from tests.factories.requests import set_manager

    caller = UserFactory(username="prop_caller")
    set_manager(caller, approver)  # approves the caller's requested items
    with time_machine.travel(START - timedelta(days=1), tick=False):
        problem = problem_factory(by=agent)
        change = change_factory(by=agent)
    return {
        "agent": agent,
        "team": team,
        "caller": caller,
        "problem": problem,
        "change": change,
        "made": [],
    }


@pytest.mark.parametrize("name", list(PRACTICES))
def test_random_sequences_keep_every_invariant(name, desk):
    practice = PRACTICES[name]
    # The transitions people take through a service; the rest (a requested item's approval, fulfilment) follow
    # from other records and are driven by those (the approve and task moves).
    services = importlib.import_module(practice.services)
    names = [n for n in _names(name) if hasattr(services, f"{practice.prefix}_{n}")]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        # No shrinking by default: each step is real database work, and a failure prints its whole sequence anyway.
        phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("ITSM_PROPERTY_SHRINK") else []),
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def run(data):
        desk["change_types"] = [data.draw(st.sampled_from(["normal", "emergency"]))]
        desk["approval"] = data.draw(st.booleans())
        now = START
        with time_machine.travel(now, tick=False) as traveller:
            record = _create(name, desk)
            # The state the creation entry records: an order that needs no approval moves on within its creation.
            initial = _journal_path(record)[0].to_state
            desk["edges"] = _edges(record)
            for _step in range(data.draw(st.integers(min_value=4, max_value=STEPS))):
                # Often at the same instant as the move before (several changes at one journal instant), else later.
                now += timedelta(seconds=data.draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=6 * 3600))))
                traveller.move_to(now)
                move = _draw_move(data, practice, names, record, desk["edges"])
                record = _move(practice, record, desk, move)
                _assert_invariants(record, desk["edges"], initial, now)

    run()
    print(f"\nproperty: {name}: {EXAMPLES} sequences, {_SEEN.get(name, 0)} transitions taken, invariants held")
    report(
        "8 state-machine properties",
        f"{len(_SEEN)} practices, {EXAMPLES} random sequences each, {sum(_SEEN.values())} transitions taken "
        "(plus refused moves and edits), every invariant held",
    )
