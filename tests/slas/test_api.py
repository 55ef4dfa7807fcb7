"""Schedule API: CRUD by admins, reads and computations by agents, validation, and the oracle through the API."""

import json
from collections import defaultdict

import pytest

from tests.conftest import client_for
from tests.factories import UserFactory
from tests.slas.test_business_time import ORACLE, oracle_cases

pytestmark = pytest.mark.django_db

URL = "/api/v1/schedules/"
WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in ("Mon", "Tue", "Wed", "Thu", "Fri")]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="deskadmin", role="Admins")


def _create(client, **overrides):
    body = {
        "name": "Berlin office",
        "timezone": "Europe/Berlin",
        "spans": WEEKDAYS_9_TO_5,
        "holidays": [{"date": "2026-12-25", "name": "Christmas", "yearly": True}],
    } | overrides
    return client.post(URL, body, format="json")


def test_schedule_create_read_update_delete(admin_user, agent):
    admin = client_for(admin_user)
    response = _create(admin)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["spans"][0] == {"weekday": "Mon", "start": "09:00", "end": "17:00"}
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Christmas", "yearly": True}]
    url = f"{URL}{body['id']}/"
    assert client_for(agent).get(url).json()["name"] == "Berlin office"
    patched = admin.patch(url, {"spans": [{"weekday": "Sat", "start": "10:00", "end": "24:00"}]}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["spans"] == [{"weekday": "Sat", "start": "10:00", "end": "24:00"}]
    assert patched.json()["holidays"][0]["date"] == "2026-12-25"  # untouched when not sent
    put = admin.put(url, {"name": "Berlin", "timezone": "UTC", "spans": WEEKDAYS_9_TO_5}, format="json")
    assert put.status_code == 200 and put.json()["timezone"] == "UTC"
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


def test_schedule_write_needs_admin(agent, end_user):
    assert _create(client_for(agent)).status_code == 403
    assert client_for(end_user).get(URL).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"spans": [{"weekday": "Mon", "start": "17:00", "end": "09:00"}]}, "spans"),
        (
            {
                "spans": [
                    {"weekday": "Mon", "start": "09:00", "end": "13:00"},
                    {"weekday": "Mon", "start": "12:00", "end": "17:00"},
                ]
            },
            "spans",
        ),
        ({"spans": [{"weekday": "Funday", "start": "09:00", "end": "17:00"}]}, "spans"),
        ({"spans": [{"weekday": "Mon", "start": "9am", "end": "17:00"}]}, "spans"),
        ({"spans": [{"weekday": "Mon", "start": "09:00", "end": "24:30"}]}, "spans"),
        ({"holidays": [{"date": "2026-02-30"}]}, "holidays"),
        ({"holidays": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]}, "holidays"),
        ({"name": ""}, "name"),
    ],
)
def test_schedule_bad_input_is_400_naming_field(admin_user, overrides, field):
    response = _create(client_for(admin_user), **overrides)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_schedule_duplicate_name_is_400(admin_user):
    client = client_for(admin_user)
    assert _create(client).status_code == 201
    response = _create(client)
    assert response.status_code == 400 and "name" in response.json()


def test_deadline_and_elapsed(admin_user, agent):
    schedule_id = _create(client_for(admin_user), timezone="America/New_York").json()["id"]
    client = client_for(agent)
    response = client.post(
        f"{URL}{schedule_id}/deadline/", {"start": "2026-11-27T16:00:00-05:00", "duration_minutes": 240}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"deadline": "2026-11-30T12:00:00-05:00"}
    response = client.post(
        f"{URL}{schedule_id}/elapsed/",
        {"start": "2026-11-27T16:00:00-05:00", "end": "2026-11-30T12:00:00-05:00"},
        format="json",
    )
    assert response.json() == {"business_seconds": 4 * 3600}


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("deadline", {"start": "2026-11-27T16:00:00", "duration_minutes": 5}, "start"),
        ("deadline", {"start": "tomorrow", "duration_minutes": 5}, "start"),
        ("deadline", {"start": "2026-11-27T16:00:00Z", "duration_minutes": -1}, "duration_minutes"),
        ("deadline", {"start": "2026-11-27T16:00:00Z"}, "duration_minutes"),
        ("elapsed", {"start": "2026-11-27T16:00:00Z", "end": "2026-11-26T16:00:00Z"}, "end"),
        ("elapsed", {"start": "2026-11-27T16:00:00Z"}, "end"),
    ],
)
def test_computation_bad_input_is_400(admin_user, agent, action, body, field):
    schedule_id = _create(client_for(admin_user)).json()["id"]
    response = client_for(agent).post(f"{URL}{schedule_id}/{action}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.skipif(not oracle_cases(), reason="../shared/data/sla_oracle is not present")
def test_every_oracle_case_through_the_api(admin_user, agent):
    """All oracle cases reproduced through POST /api/v1/schedules/{id}/deadline/, one schedule per calendar."""
    schedules = json.loads((ORACLE / "schedules.json").read_text())["schedules"]
    admin, client = client_for(admin_user), client_for(agent)
    groups = defaultdict(list)
    for case in oracle_cases():
        groups[(case["schedule"], case["timezone"], tuple(case["holidays_in_window"]))].append(case)
    for index, ((name, zone, holidays), cases) in enumerate(groups.items()):
        spans = [
            {"weekday": d, "start": a, "end": b} for d in schedules[name]["days"] for a, b in schedules[name]["spans"]
        ]
        created = admin.post(
            URL,
            {"name": f"oracle {index}", "timezone": zone, "spans": spans, "holidays": [{"date": h} for h in holidays]},
            format="json",
        )
        assert created.status_code == 201, created.json()
        for case in cases:
            response = client.post(
                f"{URL}{created.json()['id']}/deadline/",
                {"start": case["start_local"], "duration_minutes": case["duration_minutes"]},
                format="json",
            )
            assert response.status_code == 200
            assert response.json()["deadline"] == case["expected_deadline_local"], case["id"]
