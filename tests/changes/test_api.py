"""The change and approval API contract: transitions per type (409 with nothing changed), 404 for end users, 400
naming fields, templates, risk assessment, approvals (403 for others, 409 twice)."""

import pytest

from changes.enums import ChangeState as S
from changes.models import Change, RiskAnswerOption, RiskQuestion
from itsm.models import Approval, ApprovalPolicy, JournalEntry
from tests.changes.test_models import ALLOWED, ARGS, CASES, TARGET
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    approval_policy_factory,
    change_factory,
    change_in_state,
    change_path,
    change_template_factory,
    planned_window,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"
APPROVALS = "/api/v1/approvals/"


@pytest.mark.parametrize("name", sorted(TARGET))
@pytest.mark.parametrize(("change_type", "state"), CASES)
def test_change_transition_table_over_api(agent, change_type, state, name):
    """Every allowed transition answers 200; every refused one answers 409 and changes nothing."""
    change = change_in_state(state, change_type=change_type, by=agent)
    if not ApprovalPolicy.objects.exists():
        approval_policy_factory(approvers=[AgentFactory()])
    client = client_for(agent)
    before, journal = client.get(f"{URL}{change.number}/").json(), JournalEntry.objects.count()
    approvals = list(Approval.objects.order_by("pk").values_list("pk", "state"))
    response = client.post(f"{URL}{change.number}/{name}/", ARGS.get(name, {}), format="json")
    if state in ALLOWED[change_type][name]:
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == TARGET[name]
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "transition_not_allowed"
        assert client.get(f"{URL}{change.number}/").json() == before
        assert JournalEntry.objects.count() == journal
        assert list(Approval.objects.order_by("pk").values_list("pk", "state")) == approvals


def test_change_transitions_list_follows_the_type(agent):
    client = client_for(agent)
    normal = change_factory(by=agent)
    emergency = change_factory(by=agent, change_type="emergency")
    names = lambda c: {t["name"] for t in client.get(f"{URL}{c.number}/transitions/").json()}  # noqa: E731
    assert names(normal) == {"assess", "cancel"}
    assert names(emergency) == {"request_approval", "cancel"}


def test_change_create_and_read(agent, team):
    window = planned_window()
    response = client_for(agent).post(
        URL,
        {
            "short_description": "Patch the firewall",
            "change_type": "emergency",
            "assignment_group": team.name,
            "planned_start": window["planned_start"].isoformat(),
            "planned_end": window["planned_end"].isoformat(),
            "implementation_plan": "Apply the vendor patch.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("CHG") and body["state"] == "new" and body["state_code"] == -5
    assert body["change_type"] == "emergency" and body["risk"] == "moderate" and body["approval"] == "not_requested"
    assert body["requested_by"] == agent.username


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "short_description"),
        ({"short_description": "x", "change_type": "standard"}, "change_type"),
        ({"short_description": "x", "change_type": "minor"}, "change_type"),
        ({"short_description": "x", "state": "scheduled"}, "state"),
        ({"short_description": "x", "risk": "low"}, "risk"),
        ({"short_description": "x", "approval": "approved"}, "approval"),
        (
            {"short_description": "x", "planned_start": "2030-01-02T10:00:00Z", "planned_end": "2030-01-02T09:00:00Z"},
            "planned_end",
        ),
        ({"short_description": "x", "affected_cis": ["no-such-ci"]}, "affected_cis"),
    ],
)
def test_change_create_bad_input_is_400_naming_field(agent, payload, field):
    response = client_for(agent).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Change.objects.exists()


def test_change_type_cannot_change_after_new_over_api(agent):
    change = change_in_state("assess", by=agent)
    response = client_for(agent).patch(f"{URL}{change.number}/", {"change_type": "emergency"}, format="json")
    assert response.status_code == 400 and "change_type" in response.json()


def test_end_users_get_404_for_changes_and_templates(end_user, agent):
    change = change_factory(by=agent, caller=end_user)
    client = client_for(end_user)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{change.number}/").status_code == 404
    assert client.post(f"{URL}{change.number}/assess/").status_code == 404
    assert client.get("/api/v1/change-templates/").status_code == 404


def test_from_template_schedules_a_standard_change(agent):
    template = change_template_factory(name="Spooler restart")
    window = planned_window()
    client = client_for(agent)
    listed = client.get("/api/v1/change-templates/").json()["results"]
    assert [t["name"] for t in listed] == ["Spooler restart"]
    response = client.post(
        f"{URL}from-template/",
        {"template": template.name, **{k: v.isoformat() for k, v in window.items()}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "scheduled" and body["change_type"] == "standard" and body["template"] == "Spooler restart"


def test_from_template_bad_input_is_400(agent):
    response = client_for(agent).post(
        f"{URL}from-template/", {"template": "nope", "planned_start": "2030-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400 and "template" in response.json()


def test_assess_risk_over_api(agent):
    question = RiskQuestion.objects.create(text="Downtime?")
    high = RiskAnswerOption.objects.create(question=question, label="Hours", score=12)
    change = change_factory(by=agent)
    client = client_for(agent)
    assert client.get("/api/v1/risk-questions/").json()[0]["options"][0]["score"] == 12
    response = client.post(
        f"{URL}{change.number}/assess-risk/", {"answers": {str(question.pk): high.pk}}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["risk"] == "high" and body["risk_score"] == 12 and "Downtime?: Hours (+12)" in body["risk_explanation"]
    bad = client.post(f"{URL}{change.number}/assess-risk/", {"answers": {"x": 1}}, format="json")
    assert bad.status_code == 400 and "answers" in bad.json()


def test_approvals_api_decide_own_only_once(agent):
    change = change_in_state("authorize", by=agent)
    approval = Approval.objects.get(ticket=change)
    approver, stranger = approval.approver, AgentFactory()
    url = f"{APPROVALS}{approval.pk}/"

    assert client_for(stranger).post(f"{url}approve/", {}, format="json").status_code == 403
    response = client_for(approver).post(f"{url}approve/", {"comment": "Go"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved" and response.json()["ticket"] == change.number
    assert Change.objects.get(pk=change.pk).state == S.SCHEDULED
    again = client_for(approver).post(f"{url}reject/", {"comment": "No"}, format="json")
    assert again.status_code == 409


def test_approvals_visibility_end_user_sees_only_own(agent, end_user):
    change = change_in_state("authorize", by=agent, approver=end_user)
    approval_policy_factory(approvers=[AgentFactory()], name="ECAB", ticket_type="emergency", order=1)
    other = change_in_state("authorize", change_type="emergency", by=agent)
    client = client_for(end_user)
    listed = client.get(APPROVALS).json()["results"]
    assert [a["ticket"] for a in listed] == [change.number]
    theirs = Approval.objects.get(ticket=other)
    assert client.get(f"{APPROVALS}{theirs.pk}/").status_code == 404
    assert client.post(f"{APPROVALS}{theirs.pk}/approve/").status_code == 404
    # An end user approver (a manager, say) decides by API too.
    mine = Approval.objects.get(ticket=change)
    rejected = client.post(f"{APPROVALS}{mine.pk}/reject/", {"comment": "Not now"}, format="json")
    assert rejected.status_code == 200
    assert Change.objects.get(pk=change.pk).state == S.NEW
    # Agents see approvals of every change; the `mine` filter narrows to their own.
    assert len(client_for(agent).get(APPROVALS).json()["results"]) == 2
    assert client_for(agent).get(APPROVALS, {"mine": "true"}).json()["results"] == []


def test_change_list_query_count_is_constant(agent, django_assert_max_num_queries):
    for state in ("new", "authorize", "scheduled"):
        change_in_state(state, by=agent)
    client = client_for(agent)
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    assert change_path("standard", "assess") is None
