import pytest

from automation.models import AssignmentRule, TeamRouting, Trigger, TriggerRun
from incidents.services import incident_create
from itsm.models import JournalEntry
from tests.conftest import client_for
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/automation/dry-run/"


@pytest.fixture
def automation(identity, access):
    top, _sub = access
    TeamRouting.objects.create(team=identity, mode="round_robin")
    AssignmentRule.objects.create(
        name="Password resets",
        conditions=[{"field": "text", "op": "keywords", "value": ["password reset"]}],
        set_category=top,
        set_assignment_group=identity,
    )
    identity.manager = AgentFactory(username="id_manager")
    identity.save()
    Trigger.objects.create(
        name="P1 breach to the manager",
        event="sla_breached",
        conditions=[{"field": "priority", "op": "equals", "value": 1}],
        notify="group_manager",
        message="Breach",
        work_note="Escalated.",
    )


def test_dry_run_of_a_draft_predicts_rule_routing_and_changes_nothing(agent, automation):
    before = (JournalEntry.objects.count(), TeamRouting.objects.get().last_assigned_id)
    draft = {"short_description": "Password reset please", "impact": 1, "urgency": 1}
    response = client_for(agent).post(URL, {"draft": draft}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    rule, routing = body["rules"]
    assert rule["source"] == "Assignment rule 'Password resets'"
    assert {c["field"]: c["new"] for c in rule["changes"]} == {"category": "Access", "assignment_group": "Identity"}
    assert routing["changes"] == [{"field": "assigned_to", "old": "", "new": "id_agent_0"}]
    assert [t["trigger"] for t in body["triggers"]] == ["P1 breach to the manager"]
    assert body["triggers"][0]["notify"] == ["id_manager"]
    assert (JournalEntry.objects.count(), TeamRouting.objects.get().last_assigned_id) == before


def test_dry_run_predicts_what_creation_then_does(agent, automation):
    caller = UserFactory()
    predicted = client_for(agent).post(
        URL, {"draft": {"short_description": "password reset", "caller": caller.username}}, format="json"
    )
    incident = incident_create(by=caller, short_description="password reset")
    incident.refresh_from_db()
    changes = {c["field"]: c["new"] for step in predicted.json()["rules"] for c in step["changes"]}
    assert changes == {
        "category": incident.category.name,
        "assignment_group": incident.assignment_group.name,
        "assigned_to": incident.assigned_to.username,
    }


def test_dry_run_of_a_ticket_for_one_event(agent, automation):
    incident = incident_create(by=agent, short_description="Core down", impact=1, urgency=1)
    journal = incident.journal.count()
    response = client_for(agent).post(URL, {"ticket": incident.number, "event": "sla_breached"}, format="json")
    assert response.status_code == 200
    assert response.json()["ticket"] == incident.number
    assert [t["trigger"] for t in response.json()["triggers"]] == ["P1 breach to the manager"]
    other = client_for(agent).post(URL, {"ticket": incident.number, "event": "updated"}, format="json")
    assert other.json()["triggers"] == []
    assert incident.journal.count() == journal and not TriggerRun.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "ticket"),
        ({"ticket": "INC1", "draft": {"short_description": "x"}}, "ticket"),
        ({"draft": {}}, "draft"),
        ({"draft": {"short_description": "x", "assignment_group": "Nope"}}, "draft"),
        ({"ticket": "INC1", "event": "exploded"}, "event"),
    ],
)
def test_dry_run_bad_input_400_naming_the_field(agent, payload, field):
    response = client_for(agent).post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json()


def test_dry_run_unknown_ticket_404_and_end_users_404(agent, end_user):
    assert client_for(agent).post(URL, {"ticket": "INC9999999"}, format="json").status_code == 404
    draft = {"draft": {"short_description": "x"}}
    assert client_for(end_user).post(URL, draft, format="json").status_code == 404


def test_categories_api_lists_by_practice(agent, access):
    rows = client_for(agent).get("/api/v1/categories/?practice=incident").json()["results"]
    assert [(r["name"], r["parent"]) for r in rows] == [("Access", None), ("Password", "Access")]
