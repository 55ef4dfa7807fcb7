"""The scheduling API: conflicts (GET, and 409 with them on schedule unless a change manager overrides), the calendar
(400 naming the parameter, windows expanded, constant queries), change tasks (Review waits for them) and incidents
caused by a change."""

from datetime import UTC, datetime, time, timedelta

import pytest

from changes.enums import ChangeState as S
from changes.models import Change, ChangeTask, ChangeWindow
from itsm.enums import JournalKind, Role
from itsm.models import JournalEntry
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    ConfigurationItemFactory,
    change_factory,
    change_in_state,
    incident_factory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"
TASKS = "/api/v1/change-tasks/"
T0 = datetime(2030, 6, 3, 8, 0, tzinfo=UTC)


def _at(hours: float, length: float = 2) -> dict:
    return {"planned_start": T0 + timedelta(hours=hours), "planned_end": T0 + timedelta(hours=hours + length)}


@pytest.fixture
def web():
    return ConfigurationItemFactory(name="web-01")


def test_conflicts_endpoint_lists_reasons(agent, web, end_user):
    other = change_factory(by=agent, affected_cis=[web], **_at(0))
    change = change_factory(by=agent, affected_cis=[web], **_at(1))
    response = client_for(agent).get(f"{URL}{change.number}/conflicts/")
    assert response.status_code == 200
    [conflict] = response.json()
    assert conflict["kind"] == "same_ci" and conflict["other_change"] == other.number
    assert conflict["configuration_item"] == "web-01" and "also changes web-01" in conflict["reason"]
    assert client_for(agent).get(f"{URL}{change.number}/").json()["conflicts"][0]["kind"] == "same_ci"
    assert client_for(end_user).get(f"{URL}{change.number}/conflicts/").status_code == 404


def test_schedule_answers_409_with_conflicts_and_a_change_manager_overrides(agent, web):
    change_factory(by=agent, affected_cis=[web], **_at(0))
    change = change_in_state("scheduled", by=agent, affected_cis=[web], **_at(1))  # approved, held in Authorize
    journal = JournalEntry.objects.filter(ticket=change).count()

    response = client_for(agent).post(f"{URL}{change.number}/schedule/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "change_conflicts" and [c["kind"] for c in body["conflicts"]] == ["same_ci"]
    assert Change.objects.get(pk=change.pk).state == S.AUTHORIZE
    assert JournalEntry.objects.filter(ticket=change).count() == journal

    refused = client_for(agent).post(f"{URL}{change.number}/schedule/", {"override_reason": "Go"}, format="json")
    assert refused.status_code == 403 and Change.objects.get(pk=change.pk).state == S.AUTHORIZE

    manager = AgentFactory(role=Role.CHANGE_MANAGER)
    done = client_for(manager).post(
        f"{URL}{change.number}/schedule/", {"override_reason": "Agreed with the web team"}, format="json"
    )
    assert done.status_code == 200 and done.json()["state"] == S.SCHEDULED
    note = JournalEntry.objects.filter(ticket=change, kind=JournalKind.WORK_NOTE).last()
    assert note.actor == manager and "Agreed with the web team" in note.body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "start"),
        ("start=2030-06-01", "end"),
        ("start=yesterday&end=2030-06-30", "start"),
        ("start=2030-06-30&end=2030-06-01", "end"),
        ("start=2030-01-01&end=2031-01-01", "end"),
    ],
)
def test_calendar_refuses_bad_ranges_naming_the_parameter(agent, query, field):
    response = client_for(agent).get(f"{URL}calendar/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_calendar_lists_changes_and_expands_windows(agent, web, end_user, django_assert_max_num_queries):
    blackout = ChangeWindow.objects.create(
        kind="blackout", name="Freeze", start=T0 + timedelta(days=5), end=T0 + timedelta(days=40)
    )
    sundays = ChangeWindow.objects.create(
        kind="maintenance", name="Sunday", recurrence="weekly", weekdays="7", start_time=time(1), end_time=time(5)
    )
    sundays.configuration_items.add(web)
    for hours in range(0, 24 * 20, 24):
        change_factory(by=agent, affected_cis=[web], **_at(hours))
    change_in_state("canceled", by=agent, **_at(2))  # canceled changes are not on the calendar
    client = client_for(agent)
    with django_assert_max_num_queries(12):
        body = client.get(f"{URL}calendar/?start=2030-06-01&end=2030-07-01").json()
    assert len(body["changes"]) == 20 and body["changes"][0]["affected_cis"] == ["web-01"]
    windows = [(w["name"], w["start"][:10]) for w in body["windows"]]
    assert ("Freeze", "2030-06-08") in windows
    assert [day for name, day in windows if name == "Sunday"] == [
        "2030-06-02",
        "2030-06-09",
        "2030-06-16",
        "2030-06-23",
        "2030-06-30",
    ]
    assert body["windows"][0]["configuration_items"] in ([], ["web-01"]) and blackout.pk
    assert client_for(end_user).get(f"{URL}calendar/?start=2030-06-01&end=2030-07-01").status_code == 404


def test_change_tasks_hold_back_review_until_done(agent, team, end_user):
    change = change_in_state("implement", by=agent)
    client = client_for(agent)
    created = client.post(
        TASKS, {"change": change.number, "short_description": "Patch node 1", "assignment_group": team.name}
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert created.json()["change"] == change.number and created.json()["state"] == "new"

    review = {"close_code": "successful", "close_notes": "Done"}
    refused = client.post(f"{URL}{change.number}/review/", review, format="json")
    assert refused.status_code == 409 and number in refused.json()["detail"]
    assert Change.objects.get(pk=change.pk).state == S.IMPLEMENT

    assert client.post(f"{TASKS}{number}/start/").json()["state"] == "work_in_progress"
    assert client.post(f"{TASKS}{number}/close/", {"close_notes": ""}).status_code == 400
    assert client.post(f"{TASKS}{number}/close/", {"close_notes": "Patched"}).json()["state"] == "closed"
    assert client.post(f"{TASKS}{number}/start/").status_code == 409
    assert client.post(f"{URL}{change.number}/review/", review, format="json").json()["state"] == S.REVIEW
    assert client.get(f"{TASKS}?change={change.number}").json()["results"][0]["number"] == number
    assert client_for(end_user).get(f"{TASKS}{number}/").status_code == 404


def test_canceling_a_change_cancels_its_open_tasks(agent):
    change = change_in_state("assess", by=agent)
    client = client_for(agent)
    number = client.post(TASKS, {"change": change.number, "short_description": "Prepare"}).json()["number"]
    assert client.post(f"{URL}{change.number}/cancel/", {"reason": "Not needed"}).status_code == 200
    task = ChangeTask.objects.get(number=number)
    assert task.state == "canceled" and task.journal.filter(transition="cancel").exists()
    assert client.post(TASKS, {"change": change.number, "short_description": "Late"}).status_code == 400


def test_incident_caused_by_change_by_number_is_journaled(agent, end_user):
    change = change_in_state("review", by=agent)
    incident = incident_factory(by=agent, caller=end_user)
    client = client_for(agent)
    response = client.patch(f"/api/v1/incidents/{incident.number}/", {"caused_by_change": change.number}, format="json")
    assert response.status_code == 200 and response.json()["caused_by_change"] == change.number
    entry = JournalEntry.objects.get(ticket=incident, field="caused_by_change")
    assert entry.new_value == change.number and entry.actor == agent
    assert client.patch(
        f"/api/v1/incidents/{incident.number}/", {"caused_by_change": "CHG9999999"}, format="json"
    ).json().keys() == {"caused_by_change"}
    own = client_for(end_user).get(f"/api/v1/incidents/{incident.number}/").json()
    assert "caused_by_change" not in own
