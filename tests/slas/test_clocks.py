"""SLA clocks on incidents: attach, pause on hold awaiting the caller, stop on resolution, milestones exactly once,
actions, and replay from the journal equal to the incremental result."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from incidents import services
from itsm.enums import JournalKind
from itsm.models import OutboxMessage
from slas.enums import ClockStage, SLAActionKind
from slas.models import SLAAction, SLAClock, SLADefinition, SLAMilestone
from slas.services import SpanInput, schedule_save, sla_sweep
from tests.factories import UserFactory, close_code, hold_reason, incident_factory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office_hours(db):
    admin = UserFactory(username="sla_admin", role="Admins")
    return schedule_save(
        by=admin,
        name="Berlin 9-17",
        timezone="Europe/Berlin",
        spans=[SpanInput(day, 9 * 3600, 17 * 3600) for day in range(5)],
    )


@pytest.fixture
def resolution_4h(office_hours, team):
    definition = SLADefinition.objects.create(
        name="Resolution 4h",
        target="resolution",
        practice="incident",
        active=True,
        start_condition={"state_category": OPEN},
        pause_condition={"state_category": ["pending_customer"]},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=4 * 3600,
        schedule=office_hours,
    )
    for percent in (50, 75, 90, 100):
        SLAAction.objects.create(definition=definition, percent=percent, kind=SLAActionKind.NOTIFY_ASSIGNEE)
    return definition


def test_friday_16h_due_monday_noon_and_hold_moves_it(resolution_4h, agent, end_user, team):
    with time_machine.travel(at(2026, 11, 27, 16, 0), tick=False):  # a Friday
        incident = incident_factory(by=agent, caller=end_user, assignment_group=team, assigned_to=agent)
    clock = SLAClock.objects.get(ticket=incident)
    assert clock.stage == ClockStage.IN_PROGRESS
    assert clock.due_at == at(2026, 11, 30, 12, 0)
    with time_machine.travel(at(2026, 11, 30, 9, 30), tick=False):
        services.incident_start(incident=incident, by=agent)
        services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_caller"), comment="Which PC?")
    clock.refresh_from_db()
    assert clock.stage == ClockStage.PAUSED and clock.due_at is None
    assert clock.business_elapsed == 90 * 60
    with time_machine.travel(at(2026, 11, 30, 10, 30), tick=False):
        services.incident_comment(incident=incident, by=end_user, body="PC-042")  # resumes
    clock.refresh_from_db()
    assert clock.stage == ClockStage.IN_PROGRESS
    assert clock.due_at == at(2026, 11, 30, 13, 0)  # one business hour later
    assert clock.pause_total == 3600


def test_milestones_fire_once_at_their_instants(resolution_4h, agent, end_user, team):
    with time_machine.travel(at(2026, 11, 27, 16, 0), tick=False):
        incident = incident_factory(by=agent, caller=end_user, assignment_group=team, assigned_to=agent)
    clock = SLAClock.objects.get(ticket=incident)
    with time_machine.travel(at(2026, 11, 30, 14, 0), tick=False):
        assert sla_sweep() == 4
        assert sla_sweep() == 0
    reached = {m.percent: m.reached_at for m in SLAMilestone.objects.filter(clock=clock)}
    assert reached == {
        50: at(2026, 11, 30, 10, 0),
        75: at(2026, 11, 30, 11, 0),
        90: at(2026, 11, 30, 11, 36),
        100: at(2026, 11, 30, 12, 0),  # the breach is recorded at the due time, not at detection
    }
    clock.refresh_from_db()
    assert clock.has_breached and clock.stage == ClockStage.IN_PROGRESS
    assert OutboxMessage.objects.filter(ticket=incident, event__startswith="sla.").count() == 4
    assert incident.journal.filter(kind=JournalKind.SLA).count() == 4
    with time_machine.travel(at(2026, 11, 30, 15, 0), tick=False):
        services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Done")
    clock.refresh_from_db()
    assert clock.stage == ClockStage.COMPLETED and clock.has_breached
    assert clock.stopped_at == at(2026, 11, 30, 15, 0)


def test_stopped_before_due_is_met(resolution_4h, agent, team):
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    with time_machine.travel(at(2026, 11, 24, 12, 0), tick=False):
        services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Done")
        assert sla_sweep() == 0
    clock = SLAClock.objects.get(ticket=incident)
    assert clock.stage == ClockStage.COMPLETED and not clock.has_breached
    assert clock.business_elapsed == 3 * 3600
    assert list(SLAMilestone.objects.filter(clock=clock).values_list("percent", flat=True)) == [50, 75]


def test_priority_change_cancels_and_attaches_the_matching_definition(office_hours, agent):
    common = {
        "target": "resolution",
        "practice": "incident",
        "active": True,
        "schedule": office_hours,
        "start_condition": {"state_category": OPEN},
        "stop_condition": {"state_category": ["resolved", "closed", "cancelled"]},
    }
    low = SLADefinition.objects.create(name="P4", match_priorities=[4], duration_seconds=40 * 3600, **common)
    high = SLADefinition.objects.create(name="P1", match_priorities=[1], duration_seconds=3600, **common)
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent)
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        services.incident_update(incident=incident, by=agent, impact=1, urgency=1)
    clocks = {c.definition_id: c for c in SLAClock.objects.filter(ticket=incident)}
    assert clocks[low.pk].stage == ClockStage.CANCELLED
    assert clocks[high.pk].stage == ClockStage.IN_PROGRESS
    assert clocks[high.pk].due_at == at(2026, 11, 24, 11, 0)


def test_breach_action_reassigns_and_raises_priority(office_hours, agent, team):
    from tests.factories import TeamFactory

    escalation_team = TeamFactory(name="Escalations")
    definition = SLADefinition.objects.create(
        name="Response 1h",
        target="response",
        practice="incident",
        active=True,
        schedule=office_hours,
        start_condition={"state_category": ["new"]},
        stop_condition={"state_category": ["active", "resolved", "closed", "cancelled"]},
        duration_seconds=3600,
    )
    SLAAction.objects.create(definition=definition, percent=100, kind=SLAActionKind.REASSIGN, team=escalation_team)
    SLAAction.objects.create(definition=definition, percent=100, kind=SLAActionKind.RAISE_PRIORITY)
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent, assignment_group=team)
    with time_machine.travel(at(2026, 11, 24, 11, 0), tick=False):
        sla_sweep()
    incident.refresh_from_db()
    assert incident.assignment_group == escalation_team
    assert incident.priority == 3
    assert incident.journal.filter(kind=JournalKind.FIELD_CHANGE, field="assignment_group").exists()


def test_incident_api_shows_clocks(resolution_4h, agent, team):
    from tests.conftest import client_for

    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    with time_machine.travel(at(2026, 11, 24, 11, 0), tick=False):
        body = client_for(agent).get(f"/api/v1/incidents/{incident.number}/").json()
    (clock,) = body["sla_clocks"]
    assert clock["definition"] == "Resolution 4h" and clock["target"] == "resolution"
    assert clock["stage"] == "in_progress" and clock["has_breached"] is False
    assert clock["business_elapsed_seconds"] == 7200 and clock["business_remaining_seconds"] == 7200
    assert clock["percentage"] == 50.0
    assert clock["due_at"] == "2026-11-24T12:00:00Z"  # 13:00 in Berlin


def test_percentage_never_rounds_up_to_a_breach():
    from slas.engine import percentage

    assert percentage(9995, 10000) == 99.95
    assert percentage(99999, 100000) == 99.99
    assert percentage(100000, 100000) == 100.0


def test_replay_from_journal_equals_incremental(resolution_4h, office_hours, agent, end_user, team):
    from slas.replay import live_states, replay_ticket

    response = SLADefinition.objects.create(
        name="Response 30m",
        target="response",
        practice="incident",
        active=True,
        schedule=office_hours,
        start_condition={"state_category": ["new"]},
        stop_condition={
            "state_category": ["active", "pending_customer", "pending_third_party", "resolved", "closed", "cancelled"]
        },
        duration_seconds=1800,
    )
    steps = [
        (at(2026, 11, 27, 16, 20), lambda i: None),
        (at(2026, 11, 30, 9, 10), lambda i: services.incident_update(incident=i, by=agent, impact=2, urgency=1)),
        (at(2026, 11, 30, 9, 40), lambda i: services.incident_start(incident=i, by=agent)),
        (
            at(2026, 11, 30, 10, 5),
            lambda i: services.incident_hold(
                incident=i, by=agent, reason=hold_reason("awaiting_caller"), comment="Which PC?"
            ),
        ),
        (at(2026, 11, 30, 15, 55), lambda i: services.incident_comment(incident=i, by=end_user, body="PC-042")),
        (
            at(2026, 12, 1, 11, 0),
            lambda i: services.incident_resolve(incident=i, by=agent, close_code=close_code(), close_notes="Fixed"),
        ),
        (at(2026, 12, 1, 12, 30), lambda i: services.incident_reopen(incident=i, by=end_user, comment="Again")),
    ]
    incident = None
    for moment, step in steps:
        with time_machine.travel(moment, tick=False):
            if incident is None:
                incident = incident_factory(by=agent, caller=end_user, assignment_group=team, assigned_to=agent)
            else:
                step(incident)
            if moment.hour == 11:
                sla_sweep()
    until = at(2026, 12, 2, 17, 0)
    live = [s.comparable() for s in live_states(ticket=incident, until=until)]
    replayed = [
        r.state.comparable()
        for r in sorted(
            replay_ticket(ticket=incident, until=until), key=lambda r: (r.state.started_at, r.definition.pk)
        )
    ]
    assert len(live) == 3  # response, resolution, and a fresh resolution clock after the reopen
    assert sorted(live) == sorted(replayed)
    assert {c.definition_id for c in SLAClock.objects.filter(ticket=incident)} == {resolution_4h.pk, response.pk}


def test_recompute_after_schedule_change(resolution_4h, office_hours, agent, team):
    from slas.replay import sla_recompute_ticket

    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    clock = SLAClock.objects.get(ticket=incident)
    assert clock.due_at == at(2026, 11, 24, 13, 0)
    admin = UserFactory(username="sla_admin2", role="Admins")
    schedule_save(by=admin, schedule=office_hours, spans=[SpanInput(day, 8 * 3600, 10 * 3600) for day in range(5)])
    with time_machine.travel(at(2026, 11, 24, 9, 30), tick=False):
        assert sla_recompute_ticket(ticket=incident) == 1
    clock.refresh_from_db()
    assert clock.due_at == at(2026, 11, 26, 9, 0)  # 1h on Tuesday 9-10, 2h on Wednesday 8-10, 1h on Thursday


def test_definition_contradictions_refused_at_save():
    from django.core.exceptions import ValidationError

    definition = SLADefinition(
        name="Broken",
        target="resolution",
        practice="incident",
        duration_seconds=60,
        start_condition={"state_category": ["resolved"]},
        stop_condition={"state_category": ["resolved", "closed"]},
        pause_condition={"state_category": ["pending_customer"]},
    )
    with pytest.raises(ValidationError) as exc:
        definition.full_clean()
    assert "stop_condition" in exc.value.message_dict and "pause_condition" in exc.value.message_dict
    definition.start_condition = {"state_category": ["new", "active", "pending_customer"]}
    definition.stop_condition = {"state_category": ["resolved"]}
    definition.full_clean()
    definition.thresholds = [90, 50]
    with pytest.raises(ValidationError) as exc:
        definition.full_clean()
    assert "thresholds" in exc.value.message_dict


def test_workspace_and_admin_show_clocks(resolution_4h, agent, team, client):
    from django.contrib.auth.models import User

    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        incident = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    client.force_login(agent)
    with time_machine.travel(at(2026, 11, 24, 11, 0), tick=False):
        page = client.get(f"/workspace/incidents/{incident.number}/").content.decode()
    assert "Resolution 4h" in page and "2h 00m left" in page and "sla-warn" in page
    with time_machine.travel(at(2026, 11, 24, 14, 0), tick=False):
        page = client.get(f"/workspace/incidents/{incident.number}/").content.decode()
    assert "Breached" in page and "sla-breached" in page
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    admin_page = client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "SLA clocks" in admin_page and "Resolution 4h" in admin_page
