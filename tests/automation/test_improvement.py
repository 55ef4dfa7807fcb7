from datetime import UTC, datetime

import pytest
import time_machine

from automation.models import ImprovementInitiative
from automation.trends import trends_by_month
from incidents.services import incident_create, incident_reopen, incident_resolve
from itsm.enums import Role
from problems.services import problem_create
from tests.conftest import client_for
from tests.factories import AgentFactory, UserFactory, close_code

pytestmark = pytest.mark.django_db
URL = "/api/v1/automation/initiatives/"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def initiative_payload(**overrides):
    return {
        "title": "Faster password resets",
        "problem_statement": "Password resets take a day.",
        "metric": "mttr_hours",
        "practice": "incident",
        "baseline_value": 24,
        "target_value": 4,
        **overrides,
    }


@pytest.fixture
def manager(db):
    return AgentFactory(username="team_manager", role=Role.TEAM_MANAGER)


def test_initiative_created_linked_and_moved_through_its_states(agent, manager):
    problem = problem_create(by=agent, short_description="Resets are manual")
    api = client_for(agent)
    created = api.post(URL, initiative_payload(problems=[problem.number]), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner"] == agent.username and body["state"] == "identified" and body["problems"] == [problem.number]
    pk = body["id"]
    assert api.post(f"{URL}{pk}/approve/").status_code == 403  # the owner proposes, a manager approves
    assert api.post(f"{URL}{pk}/complete/").status_code == 409
    assert ImprovementInitiative.objects.get(pk=pk).state == "identified"
    assert client_for(manager).post(f"{URL}{pk}/approve/").json()["state"] == "approved"
    assert api.post(f"{URL}{pk}/start/").json()["state"] == "in_progress"
    assert api.post(f"{URL}{pk}/complete/").json()["state"] == "done"
    frozen = api.patch(f"{URL}{pk}/", {"title": "x"}, format="json")
    assert frozen.status_code == 400 and "state" in frozen.json()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"target_value": 48}, "target_value"),
        ({"metric": "sla_compliance", "baseline_value": 80, "target_value": 70}, "target_value"),
        ({"metric": "happiness"}, "metric"),
        ({"problems": ["PRB404"]}, "problems"),
        ({"title": ""}, "title"),
    ],
)
def test_initiative_bad_input_400_naming_the_field(agent, overrides, field):
    response = client_for(agent).post(URL, initiative_payload(**overrides), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not ImprovementInitiative.objects.exists()


def test_register_and_trends_are_agents_only(end_user):
    assert client_for(end_user).get(URL).status_code == 404
    assert client_for(end_user).get("/api/v1/automation/trends/").status_code == 404


def _history(agent, team):
    """Two incidents in April (resolved in 10 h and 20 h, one reopened), one in May resolved in 2 h, one open."""
    caller = UserFactory()
    with time_machine.travel(datetime(2026, 4, 10, 8, tzinfo=UTC), tick=False) as clock:
        first = incident_create(by=agent, caller=caller, short_description="a", assignment_group=team)
        second = incident_create(by=agent, caller=caller, short_description="b", assignment_group=team)
        clock.move_to(datetime(2026, 4, 10, 18, tzinfo=UTC))
        incident_resolve(incident=first, by=agent, close_code=close_code(), close_notes="done")
        clock.move_to(datetime(2026, 4, 11, 4, tzinfo=UTC))
        incident_resolve(incident=second, by=agent, close_code=close_code(), close_notes="done")
        incident_reopen(incident=second, by=caller, comment="still broken")
        incident_resolve(incident=second, by=agent, close_code=close_code(), close_notes="done")
        clock.move_to(datetime(2026, 5, 3, 9, tzinfo=UTC))
        third = incident_create(by=agent, caller=caller, short_description="c", assignment_group=team)
        clock.move_to(datetime(2026, 5, 3, 11, tzinfo=UTC))
        incident_resolve(incident=third, by=agent, close_code=close_code(), close_notes="done")
        clock.move_to(datetime(2026, 5, 20, 0, tzinfo=UTC))
        incident_create(by=agent, caller=caller, short_description="d", assignment_group=team)


def test_trends_by_month_volume_mttr_reopen_fcr_backlog(agent, team):
    _history(agent, team)
    rows = {row["month"]: row for row in trends_by_month(practice="incident", months=3, now=NOW)}
    assert list(rows) == ["2026-04", "2026-05", "2026-06"]
    april, may, june = rows["2026-04"], rows["2026-05"], rows["2026-06"]
    assert (april["volume"], april["resolved"], april["mttr_hours"]) == (2, 2, 15.0)
    assert april["reopen_rate"] == pytest.approx(33.3) and april["first_contact_rate"] == 100.0
    assert (may["volume"], may["mttr_hours"], may["reopen_rate"]) == (2, 2.0, 0.0)
    assert may["backlog"] == 1 and may["backlog_age_days"] == pytest.approx(12.0)
    assert june["volume"] == 0 and june["mttr_hours"] is None and june["backlog"] == 1
    other = trends_by_month(team_id=team.pk + 999, months=3, now=NOW)
    assert all(row["volume"] == 0 for row in other)


def test_trends_api_filters_and_validates(agent, team, django_assert_max_num_queries):
    _history(agent, team)
    api = client_for(agent)
    with django_assert_max_num_queries(20):
        rows = api.get(f"/api/v1/automation/trends/?practice=incident&team={team.name}&months=3").json()
    assert [row["month"] for row in rows][-1] == datetime.now(UTC).strftime("%Y-%m")
    bad = api.get("/api/v1/automation/trends/?months=99")
    assert bad.status_code == 400 and "months" in bad.json()
    assert "team" in api.get("/api/v1/automation/trends/?team=Nope").json()


def test_initiative_trend_against_target(agent, team):
    _history(agent, team)
    initiative = ImprovementInitiative.objects.create(
        title="MTTR",
        owner=agent,
        problem_statement="slow",
        metric="mttr_hours",
        practice="incident",
        baseline_value=15,
        target_value=4,
    )
    with time_machine.travel(NOW, tick=False):
        trend = client_for(agent).get(f"{URL}{initiative.pk}/trend/?months=3").json()
    assert [p["value"] for p in trend["points"]] == [15.0, 2.0, None]
    assert trend["latest"] == 2.0 and trend["target_met"] is True


def test_admin_register_pages_and_actions(client, agent, team):
    admin = UserFactory(username="reg_admin", is_staff=True, is_superuser=True, role=Role.ADMIN)
    client.force_login(admin)
    _history(agent, team)
    initiative = ImprovementInitiative.objects.create(
        title="MTTR", owner=agent, problem_statement="slow", metric="mttr_hours", baseline_value=15, target_value=4
    )
    for url in [
        "/admin/automation/improvementinitiative/",
        "/admin/automation/improvementinitiative/add/",
        f"/admin/automation/improvementinitiative/{initiative.pk}/change/",
        "/admin/automation/improvementinitiative/trends/?practice=incident&months=6",
        f"/admin/automation/improvementinitiative/{initiative.pk}/trend/",
    ]:
        assert client.get(url).status_code == 200, url
    client.post(
        "/admin/automation/improvementinitiative/",
        {"action": "approve", "_selected_action": [initiative.pk]},
    )
    initiative.refresh_from_db()
    assert initiative.state == "approved"
    assert client.get("/admin/automation/improvementinitiative/999999/trend/").status_code == 404
