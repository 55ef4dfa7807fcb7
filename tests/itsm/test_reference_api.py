"""The reference lists every API client needs: teams (agents only), hold reasons and close codes."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import CloseCode, HoldReason
from tests.conftest import client_for
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/teams/"
HOLD_REASONS = "/api/v1/hold-reasons/"
CLOSE_CODES = "/api/v1/close-codes/"

HOLD_REASON_SLUGS = {"awaiting_caller", "awaiting_problem", "awaiting_vendor", "awaiting_change"}
CLOSE_CODE_SLUGS = {
    "solution_provided",
    "workaround_provided",
    "known_error",
    "duplicate",
    "resolved_by_caller",
    "resolved_by_change",
    "resolved_by_problem",
    "user_error",
}


def test_team_list_for_agent_shows_members_and_manager(agent, team, other_agent):
    manager = AgentFactory(username="boss")
    team.members.add(manager)
    team.manager = manager
    team.save()
    TeamFactory(name="Disbanded", active=False)

    response = client_for(agent).get(TEAMS)

    assert response.status_code == 200
    results = {row["name"]: row for row in response.json()["results"]}
    assert list(results) == ["Network", "Service Desk"]
    desk = results["Service Desk"]
    assert desk["manager"] == "boss"
    assert sorted(desk["members"]) == ["agent_a", "boss"]
    assert results["Network"]["members"] == ["agent_b"]
    assert set(desk) == {"id", "name", "description", "email", "manager", "members", "active"}


def test_team_detail_for_agent(agent, team):
    response = client_for(agent).get(f"{TEAMS}{team.pk}/")

    assert response.status_code == 200
    assert response.json()["members"] == ["agent_a"]


def test_team_list_end_user_is_403(end_user, team):
    assert client_for(end_user).get(TEAMS).status_code == 403
    assert client_for(end_user).get(f"{TEAMS}{team.pk}/").status_code == 403


def test_team_list_anonymous_is_401(api, team):
    assert api.get(TEAMS).status_code == 401


def test_team_list_query_count_constant_in_page_size(agent):
    for i in range(30):
        TeamFactory(name=f"Team {i:02d}", members=[AgentFactory(), AgentFactory()])
    counts = []
    for size in (3, 30):
        # A fresh user each time, so the role lookup cached on the user object counts in both requests.
        client = client_for(User.objects.get(pk=agent.pk))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(TEAMS, {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))

    assert counts[0] == counts[1]
    assert counts[1] <= 4


@pytest.mark.parametrize("user_fixture", ["agent", "end_user"])
def test_hold_reason_list_has_the_seeded_slugs(request, user_fixture):
    response = client_for(request.getfixturevalue(user_fixture)).get(HOLD_REASONS)

    assert response.status_code == 200
    rows = response.json()
    assert {row["slug"] for row in rows} == HOLD_REASON_SLUGS
    caller = next(row for row in rows if row["slug"] == "awaiting_caller")
    assert caller == {"slug": "awaiting_caller", "name": "Awaiting Caller", "category": "pending_customer"}


def test_hold_reason_list_hides_inactive(agent):
    HoldReason.objects.filter(slug="awaiting_change").update(active=False)

    slugs = {row["slug"] for row in client_for(agent).get(HOLD_REASONS).json()}

    assert slugs == HOLD_REASON_SLUGS - {"awaiting_change"}
    assert client_for(agent).get(f"{HOLD_REASONS}awaiting_change/").status_code == 404


def test_hold_reason_detail_by_slug(agent):
    response = client_for(agent).get(f"{HOLD_REASONS}awaiting_vendor/")

    assert response.status_code == 200
    assert response.json()["category"] == "pending_third_party"


@pytest.mark.parametrize("user_fixture", ["agent", "end_user"])
def test_close_code_list_has_the_seeded_slugs(request, user_fixture):
    response = client_for(request.getfixturevalue(user_fixture)).get(CLOSE_CODES)

    assert response.status_code == 200
    rows = response.json()
    assert {row["slug"] for row in rows} == CLOSE_CODE_SLUGS
    assert {"slug": "solution_provided", "name": "Solution provided"} in rows


def test_close_code_list_hides_inactive(agent):
    CloseCode.objects.filter(slug="user_error").update(active=False)

    slugs = {row["slug"] for row in client_for(agent).get(CLOSE_CODES).json()}

    assert slugs == CLOSE_CODE_SLUGS - {"user_error"}


@pytest.mark.parametrize("url", [HOLD_REASONS, CLOSE_CODES])
def test_reference_lists_anonymous_is_401(api, url):
    assert api.get(url).status_code == 401


@pytest.mark.parametrize("url", [HOLD_REASONS, CLOSE_CODES, TEAMS])
def test_reference_lists_are_read_only(agent, url):
    assert client_for(agent).post(url, {"slug": "x", "name": "X"}, format="json").status_code == 405
