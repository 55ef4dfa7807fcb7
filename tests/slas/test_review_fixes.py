"""Findings of the SLA review: cross-process activation, schedules without hours, inputs that used to reach a 500,
clocks keeping their duration, schedule edits rescheduling running clocks, recompute keeping history."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from slas.enums import SLAActionKind
from slas.models import SLAAction, SLAClock, SLADefinition
from slas.services import SpanInput, definitions_for, schedule_save, sla_definition_activate
from tests.conftest import client_for
from tests.factories import UserFactory, incident_factory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="review_admin", role="Admins")


def _definition(**kwargs):
    return SLADefinition.objects.create(
        **{
            "name": "Res",
            "target": "resolution",
            "practice": "incident",
            "active": True,
            "duration_seconds": 3600,
            "start_condition": {"state_category": OPEN},
            "stop_condition": {"state_category": ["resolved", "closed", "cancelled"]},
        }
        | kwargs
    )


def test_activation_is_seen_by_every_process(admin_user):
    old = _definition(name="v1")
    draft = _definition(name="v2", active=False, replaces=old)
    assert [d.name for d in definitions_for(practice="incident")] == ["v1"]
    # Another process activating: only the database changes (no signal reaches this process's cache).
    SLADefinition.objects.filter(pk=old.pk).update(active=False, updated_at=timezone.now())
    SLADefinition.objects.filter(pk=draft.pk).update(active=True, updated_at=timezone.now())
    assert [d.name for d in definitions_for(practice="incident")] == ["v2"]
    before = SLADefinition.objects.get(pk=old.pk).updated_at
    sla_definition_activate(definition=SLADefinition.objects.get(pk=old.pk), by=admin_user)
    assert SLADefinition.objects.get(pk=old.pk).updated_at > before


def test_schedule_needs_business_hours(admin_user):
    client = client_for(admin_user)
    response = client.post("/api/v1/schedules/", {"name": "Never", "timezone": "UTC", "spans": []}, format="json")
    assert response.status_code == 400 and "spans" in response.json()
    response = client.post(
        "/api/v1/schedules/",
        {"name": "Local", "timezone": "localtime", "spans": [{"weekday": "Mon", "start": "09:00", "end": "17:00"}]},
        format="json",
    )
    assert response.status_code == 400 and "timezone" in response.json()


def test_schedule_api_takes_holiday_country(admin_user):
    response = client_for(admin_user).post(
        "/api/v1/schedules/",
        {
            "name": "UK",
            "timezone": "Europe/London",
            "holiday_country": "gb",
            "holiday_subdivision": "eng",
            "spans": [{"weekday": "Mon", "start": "09:00", "end": "17:00"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["holiday_country"] == "GB"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "0001-01-01T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"}, "start"),
        ({"start": "2000-01-01T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"}, "end"),
    ],
)
def test_elapsed_refuses_odd_and_huge_ranges(admin_user, agent, body, field):
    schedule = schedule_save(by=admin_user, name="S", timezone="UTC", spans=[SpanInput(0, 0, 3600)])
    response = client_for(agent).post(f"/api/v1/schedules/{schedule.pk}/elapsed/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_report_far_future_dates_are_400(agent):
    response = client_for(agent).get("/api/v1/sla-reports/compliance/", {"start": "9999-12-01", "end": "9999-12-02"})
    assert response.status_code == 400 and "start" in response.json()


def test_running_clock_keeps_its_duration(agent):
    definition = _definition()
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=UTC), tick=False):
        incident = incident_factory(by=agent)
    SLADefinition.objects.filter(pk=definition.pk).update(duration_seconds=7200, updated_at=timezone.now())
    with time_machine.travel(datetime(2026, 11, 24, 10, 30, tzinfo=UTC), tick=False):
        from incidents.services import incident_update

        incident_update(incident=incident, by=agent, description="more")
        incident_update(incident=incident, by=agent, urgency=2)
    clock = SLAClock.objects.get(ticket=incident, definition=definition)
    assert clock.due_at == datetime(2026, 11, 24, 10, tzinfo=UTC) and clock.has_breached


def test_schedule_change_reschedules_running_clocks(admin_user, agent):
    schedule = schedule_save(
        by=admin_user, name="Office", timezone="UTC", spans=[SpanInput(d, 9 * 3600, 17 * 3600) for d in range(5)]
    )
    _definition(schedule=schedule, duration_seconds=4 * 3600)
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=UTC), tick=False):  # Tuesday
        incident = incident_factory(by=agent)
    clock = SLAClock.objects.get(ticket=incident)
    assert clock.due_at == datetime(2026, 11, 24, 13, tzinfo=UTC)
    schedule_save(by=admin_user, schedule=schedule, spans=[SpanInput(d, 9 * 3600, 11 * 3600) for d in range(5)])
    clock.refresh_from_db()
    assert clock.due_at == datetime(2026, 11, 25, 11, tzinfo=UTC)


def test_recompute_keeps_clocks_of_retired_definitions(agent):
    from slas.replay import sla_recompute_ticket

    old = _definition(name="v1")
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=UTC), tick=False):
        incident = incident_factory(by=agent)
    SLADefinition.objects.filter(pk=old.pk).update(active=False, updated_at=timezone.now())
    _definition(name="v2", duration_seconds=7200)
    sla_recompute_ticket(ticket=incident)
    assert set(SLAClock.objects.filter(ticket=incident).values_list("definition__name", flat=True)) == {"v1", "v2"}


def test_actions_and_reset_are_validated():
    definition = _definition(thresholds=[50, 75])
    with pytest.raises(ValidationError) as exc:
        SLAAction(definition=definition, percent=60, kind=SLAActionKind.NOTIFY_ASSIGNEE).full_clean()
    assert "percent" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        SLAAction(definition=definition, percent=100, kind=SLAActionKind.REASSIGN).full_clean()
    assert "team" in exc.value.message_dict
    definition.reset_condition = {"assigned": False}
    definition.thresholds = [True, 50]
    with pytest.raises(ValidationError) as exc:
        definition.full_clean()
    assert {"reset_condition", "thresholds"} <= set(exc.value.message_dict)


def test_replacement_waits_for_the_replaced_versions_running_clock(admin_user, agent):
    """Activating v2 (replacing v1) while v1's clock runs on a ticket: one clock, v1's, to its end; v2 takes over when
    the ticket next starts a clock (here: reopened). A chain v3 -> v2 -> v1 waits for v1 as well."""
    from incidents.models import CloseCode
    from incidents.services import incident_reopen, incident_resolve, incident_update

    v1 = _definition(name="v1")
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=UTC), tick=False):
        incident = incident_factory(by=agent)
    v2 = _definition(name="v2", active=False, replaces=v1, duration_seconds=7200)
    sla_definition_activate(definition=v2, by=admin_user)
    v3 = _definition(name="v3", active=False, replaces=v2, duration_seconds=9000)
    sla_definition_activate(definition=v3, by=admin_user)
    running = SLAClock.objects.filter(ticket=incident, stage__in=["in_progress", "paused"])
    with time_machine.travel(datetime(2026, 11, 24, 9, 30, tzinfo=UTC), tick=False):
        incident = incident_update(incident=incident, by=agent, urgency=2)
    assert list(running.values_list("definition__name", flat=True)) == ["v1"]
    code = CloseCode.objects.get(slug="solution_provided")
    with time_machine.travel(datetime(2026, 11, 24, 9, 40, tzinfo=UTC), tick=False):
        incident = incident_resolve(incident=incident, by=agent, close_code=code, close_notes="fixed")
    assert not running.exists()
    with time_machine.travel(datetime(2026, 11, 24, 9, 50, tzinfo=UTC), tick=False):
        incident_reopen(incident=incident, by=agent, comment="still broken")
    assert list(running.values_list("definition__name", flat=True)) == ["v3"]


def test_reschedule_queries_do_not_grow_with_clocks(admin_user, agent):
    """A schedule change reschedules every running clock on it in a constant number of queries (the definition's
    spec is built once, not once per clock)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from slas.services import clocks_reschedule

    schedule = schedule_save(
        by=admin_user, name="Office", timezone="UTC", spans=[SpanInput(d, 9 * 3600, 17 * 3600) for d in range(5)]
    )
    _definition(schedule=schedule, duration_seconds=4 * 3600)
    counts = []
    for _ in range(2):
        with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=UTC), tick=False):
            for _ in range(3):
                incident_factory(by=agent)
        with CaptureQueriesContext(connection) as queries:
            rescheduled = clocks_reschedule(schedule=schedule)
        counts.append((rescheduled, len(queries)))
    assert [n for n, _q in counts] == [3, 6]
    assert counts[0][1] == counts[1][1]
