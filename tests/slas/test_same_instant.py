"""Several changes at one instant: the live engine and the journal replay agree, and every change counts.

The rule (docs/sla-engine.md, "Several changes at one instant"): each journaled change (a transition, or the field
changes saved together: one ticket version) is evaluated on its own, in journal order, also when several share an
instant. A clock that starts and stops at the same instant exists: completed, zero elapsed, met; as ServiceNow's
task_sla, evaluated on every insert and update, records a response met by the update that follows the insert.

Time is frozen (tick=False), so every change of a step shares the journal instant to the microsecond.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import services
from itsm.enums import JournalKind
from itsm.models import JournalEntry
from slas.engine import evaluate
from slas.enums import ClockStage
from slas.models import SLAClock, SLADefinition
from slas.replay import live_states, replay_ticket, sla_recompute_ticket
from slas.services import calendar_for, spec_of
from tests.factories import close_code, hold_reason, incident_factory
from tests.factories.requests import laptop_item, order, ritm_of

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EPOCH = int(T.timestamp())
OPEN = ["new", "active", "pending_customer", "pending_third_party"]
DONE = ["resolved", "closed", "cancelled"]


def _definition(name: str, practice: str, **kwargs) -> SLADefinition:
    kwargs.setdefault("duration_seconds", 3600)
    return SLADefinition.objects.create(name=name, practice=practice, active=True, **kwargs)


def _response(practice: str) -> SLADefinition:
    return _definition(
        f"{practice} response",
        practice,
        target="response",
        start_condition={"state_category": ["new"]},
        stop_condition={"state_category": ["active", "pending_customer", "pending_third_party", *DONE]},
    )


def _resolution(practice: str, **kwargs) -> SLADefinition:
    return _definition(
        f"{practice} resolution",
        practice,
        target="resolution",
        start_condition={"state_category": OPEN},
        pause_condition={"state_category": ["pending_customer", "pending_third_party"]},
        stop_condition={"state_category": DONE},
        duration_seconds=8 * 3600,
        **kwargs,
    )


def _compare(ticket, until: datetime) -> tuple[list, list]:
    live = sorted(state.comparable() for state in live_states(ticket=ticket, until=until))
    replayed = sorted(record.state.comparable() for record in replay_ticket(ticket=ticket, until=until))
    return live, replayed


def _clock(ticket, definition) -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, definition=definition)


def _met_at_once(clock: SLAClock, moment: datetime) -> None:
    """Started and completed at the same instant: zero elapsed, met."""
    assert clock.stage == ClockStage.COMPLETED
    assert clock.started_at == clock.stopped_at == moment
    assert (clock.business_elapsed, clock.actual_elapsed, clock.pause_total) == (0, 0, 0)
    assert not clock.has_breached


def test_requested_item_approved_at_creation_records_its_response_as_met(end_user):
    response, resolution = _response("requested_item"), _resolution("requested_item")
    with time_machine.travel(T, tick=False):
        ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    # Submitted, approved and in fulfilment, all at the order's instant.
    entries = JournalEntry.objects.filter(ticket=ritm, kind=JournalKind.TRANSITION).order_by("id")
    assert [e.to_state for e in entries] == ["submitted", "approved", "in_fulfilment"]
    assert {e.created_at for e in entries} == {T}
    live, replayed = _compare(ritm, T + timedelta(hours=1))
    assert live == replayed
    assert len(live) == 2
    _met_at_once(_clock(ritm, response), T)
    assert _clock(ritm, resolution).stage == ClockStage.IN_PROGRESS


def test_incident_created_started_and_resolved_at_one_instant(agent, team):
    response, resolution = _response("incident"), _resolution("incident")
    with time_machine.travel(T, tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
        services.incident_start(incident=incident, by=agent)
        services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Done.")
    live, replayed = _compare(incident, T + timedelta(hours=1))
    assert live == replayed
    assert len(live) == 2
    _met_at_once(_clock(incident, response), T)
    _met_at_once(_clock(incident, resolution), T)


def test_hold_and_resume_at_one_instant(agent, team):
    """A vendor (underpinning contract) clock runs while the incident awaits a vendor: on hold and resumed at one
    instant, it starts and is met at that instant; the resolution clock pauses for zero seconds."""
    resolution = _resolution("incident")
    vendor = _definition(
        "Vendor answer",
        "incident",
        sla_type="uc",
        target="response",
        start_condition={"state_category": ["pending_third_party"]},
        stop_condition={"state_category": ["new", "active", *DONE]},
    )
    with time_machine.travel(T, tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
        services.incident_start(incident=incident, by=agent)
    later = T + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_vendor"))
        services.incident_resume(incident=incident, by=agent)
    live, replayed = _compare(incident, T + timedelta(hours=2))
    assert live == replayed
    _met_at_once(_clock(incident, vendor), later)
    running = _clock(incident, resolution)
    assert (running.stage, running.pause_total, running.checkpoint_at) == (ClockStage.IN_PROGRESS, 0, later)


def test_reset_at_the_instant_the_clock_started(agent, team):
    """Reset on entering active: created and started at one instant, the first clock completes at once (met, zero)
    and a fresh one runs; a recompute from the journal keeps both."""
    definition = _definition(
        "Work time",
        "incident",
        target="resolution",
        start_condition={"state_category": OPEN},
        stop_condition={"state_category": DONE},
        reset_condition={"state_category": ["active"]},
        duration_seconds=4 * 3600,
    )
    with time_machine.travel(T, tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
        services.incident_start(incident=incident, by=agent)
    until = T + timedelta(hours=1)
    live, replayed = _compare(incident, until)
    assert live == replayed
    first, second = SLAClock.objects.filter(ticket=incident, definition=definition).order_by("pk")
    _met_at_once(first, T)
    assert (second.stage, second.started_at) == (ClockStage.IN_PROGRESS, T)
    with time_machine.travel(until, tick=False):
        assert sla_recompute_ticket(ticket=incident) == 2
    assert sorted(s.comparable() for s in live_states(ticket=incident, until=until)) == live
    assert list(SLAClock.objects.filter(ticket=incident).order_by("pk").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_the_engine_keeps_a_clock_started_and_stopped_at_one_instant():
    """The pure function: a start and a stop evaluated one after the other at the same second give a completed clock
    with zero elapsed (never a vanished one)."""
    from slas.conditions import Snapshot

    spec = spec_of(
        SLADefinition(
            name="Response",
            practice="incident",
            duration_seconds=1800,
            thresholds=[50],
            start_condition={"state_category": ["new"]},
            stop_condition={"state_category": ["active"]},
        )
    )
    calendar = calendar_for(None)
    (clock,) = evaluate(spec, calendar, None, Snapshot("new", 3, None, None, None, False), EPOCH)
    assert evaluate(spec, calendar, clock, Snapshot("active", 3, None, None, None, True), EPOCH) == [clock]
    assert (clock.stage, clock.started_at, clock.stopped_at, clock.business_elapsed) == ("completed", EPOCH, EPOCH, 0)
    assert not clock.has_breached


def test_rules_on_creation_are_evaluated_change_by_change(agent, team):
    """Assignment rules change a new incident in steps at its creation instant (priority, then assignee): the clocks
    are evaluated after each step, as the replay evaluates each journaled version. A P1 'assign within 15 minutes' clock
    starts when the first rule raises the priority and is met when the second assigns it."""
    from automation.models import AssignmentRule
    from incidents.services import incident_create

    anything = [{"field": "urgency", "op": "in", "value": [1, 2, 3]}]
    AssignmentRule.objects.create(
        name="raise", order=1, conditions=anything, set_priority=1, priority_reason="VIP", stop=False
    )
    AssignmentRule.objects.create(
        name="assign", order=2, conditions=anything, set_assignment_group=team, set_assigned_to=agent
    )
    dispatch = _definition(
        "P1 assigned in 15 minutes",
        "incident",
        sla_type="ola",
        target="response",
        match_priorities=[1],
        start_condition={"state_category": ["new"], "assigned": False},
        stop_condition={"assigned": True},
        duration_seconds=900,
    )
    with time_machine.travel(T, tick=False):
        incident = incident_create(by=agent, short_description="Mail is down", impact=3, urgency=3)
    incident.refresh_from_db()
    assert (incident.priority, incident.assigned_to) == (1, agent)
    live, replayed = _compare(incident, T + timedelta(hours=1))
    assert live == replayed
    _met_at_once(_clock(incident, dispatch), T)
