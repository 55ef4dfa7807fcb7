from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from automation.models import AssignmentRule, Trigger, TriggerRun
from incidents.enums import IncidentState
from incidents.services import incident_comment, incident_create, incident_update
from itsm.enums import JournalKind
from itsm.models import OutboxMessage
from slas.models import SLADefinition
from slas.services import sla_sweep
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

P1 = [{"field": "priority", "op": "equals", "value": 1}]


@pytest.fixture
def resolution_sla(db):
    return SLADefinition.objects.create(
        name="P1 resolution 1h",
        target="resolution",
        practice="incident",
        active=True,
        match_priorities=[1],
        start_condition={"state_category": ["new", "active"]},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=3600,
    )


@pytest.fixture
def escalate(db):
    return Trigger.objects.create(
        name="P1 breach to the manager",
        event="sla_breached",
        practice="incident",
        conditions=P1,
        notify="group_manager",
        message="A P1 incident breached its SLA.",
        work_note="Escalated to the team manager.",
    )


def test_p1_breach_trigger_notifies_the_team_manager_once_and_journals(identity, resolution_sla, escalate):
    manager = AgentFactory(username="id_manager", email="manager@example.com")
    identity.manager = manager
    identity.save()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        incident = incident_create(
            by=identity.members.first(), short_description="Core down", impact=1, urgency=1, assignment_group=identity
        )
        p3 = incident_create(by=identity.members.first(), short_description="Minor", assignment_group=identity)
    assert incident.priority == 1
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        sla_sweep()
        sla_sweep()
    run = TriggerRun.objects.get()
    assert run.ticket_id == incident.pk and "notified id_manager" in run.outcome
    assert OutboxMessage.objects.filter(event="automation.trigger", recipient=manager, ticket=incident).count() == 1
    note = incident.journal.get(kind=JournalKind.WORK_NOTE, body__startswith="Trigger")
    assert "P1 breach to the manager" in note.body and "Escalated to the team manager." in note.body
    assert not p3.journal.filter(body__startswith="Trigger").exists()


def test_loop_guard_trigger_never_fires_on_its_own_change(agent):
    Trigger.objects.create(
        name="urgent means P1",
        event="updated",
        conditions=[{"field": "urgency", "op": "equals", "value": 1}],
        set_fields={"priority": 1},
    )
    incident = incident_create(by=agent, short_description="x")
    incident_update(incident=incident, by=agent, urgency=1)
    incident.refresh_from_db()
    assert incident.priority == 1
    assert TriggerRun.objects.count() == 1
    assert incident.journal.filter(field="priority", actor=None).count() == 1


def test_created_trigger_runs_a_transition_after_the_rules(agent, identity, access):
    top, _sub = access
    AssignmentRule.objects.create(
        name="access", conditions=[{"field": "text", "op": "contains", "value": "login"}], set_category=top
    )
    Trigger.objects.create(
        name="start access work",
        event="created",
        practice="incident",
        conditions=[{"field": "category", "op": "equals", "value": "Access"}],
        transition="start",
    )
    incident = incident_create(by=agent, short_description="login fails")
    incident.refresh_from_db()
    assert incident.state == IncidentState.IN_PROGRESS
    assert incident.journal.filter(kind=JournalKind.TRANSITION, transition="start", actor=None).exists()
    assert "transition 'start' done" in TriggerRun.objects.get().outcome
    other = incident_create(by=agent, short_description="printer jam")
    assert other.state == IncidentState.NEW


def test_caller_comment_trigger_fires_for_the_caller_only(agent):
    caller = UserFactory()
    Trigger.objects.create(name="caller wrote", event="caller_commented", work_note="Caller replied.")
    incident = incident_create(by=agent, short_description="x", caller=caller)
    incident_comment(incident=incident, by=agent, body="any news?")
    assert not TriggerRun.objects.exists()
    incident_comment(incident=incident, by=caller, body="still broken")
    assert TriggerRun.objects.count() == 1


def test_trigger_refused_transition_is_recorded_not_raised(agent):
    Trigger.objects.create(name="bad", event="created", practice="incident", transition="close")
    incident = incident_create(by=agent, short_description="x")
    assert incident.state == IncidentState.NEW
    assert "refused" in TriggerRun.objects.get().outcome


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"event": "created", "set_fields": {"state": "closed"}}, "set_fields"),
        ({"event": "created", "transition": "start"}, "practice"),
        ({"event": "created", "notify": "caller"}, "message"),
    ],
)
def test_trigger_validation(fields, error):
    with pytest.raises(ValidationError) as raised:
        Trigger(name="t", **fields).full_clean()
    assert error in raised.value.message_dict
