"""SLA compliance report: counts per group, the API's validation and permissions, the workspace page, and one query
whatever the number of clocks."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from itsm.enums import Priority, TicketKind
from itsm.models import Ticket
from slas.enums import ClockStage
from slas.models import SLAClock, SLADefinition
from slas.reports import compliance_total, sla_compliance
from slas.services import sla_sweep
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    close_code,
    incident_factory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/sla-reports/compliance/"
PAGE = reverse("slas:sla_report")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
RANGE = {"start": "2026-03-01", "end": "2026-03-31"}
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _definition(name: str, target: str, hours: int, *, active: bool = False) -> SLADefinition:
    return SLADefinition.objects.create(
        name=name,
        target=target,
        practice="incident",
        active=active,
        start_condition={"state_category": OPEN},
        stop_condition={"state_category": ["resolved", "closed"]},
        cancel_condition={"state_category": ["cancelled"]},
        duration_seconds=hours * 3600,
    )


def _clock(ticket, definition, stage, *, started_at=None, breached=False, due_at=None, elapsed=0) -> SLAClock:
    started_at = started_at or datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    return SLAClock.objects.create(
        ticket=ticket,
        definition=definition,
        stage=stage,
        has_breached=breached,
        duration_seconds=definition.duration_seconds,
        started_at=started_at,
        checkpoint_at=started_at,
        due_at=due_at,
        business_elapsed=elapsed,
    )


def _ticket(*, by, team=None, service=None, priority=Priority.LOW, kind=TicketKind.INCIDENT):
    if kind == TicketKind.INCIDENT:
        ticket = incident_factory(by=by, assignment_group=team, service=service)
    else:
        ticket = Ticket.objects.create(
            number=f"PRB{Ticket.objects.count():07d}",
            kind=kind,
            short_description="x",
            caller=by,
            assignment_group=team,
        )
    Ticket.objects.filter(pk=ticket.pk).update(priority=priority)
    return ticket


@pytest.fixture
def clocks(agent):
    """Seven clocks in March (one of each outcome and then some), and two just outside it.

    inc1 Network/Email/P1: response met, resolution breached (finished)
    inc2 Service Desk/no service/P3: response running, resolution past due but not swept yet (breached)
    inc3 no team/Email/P4: response cancelled after breaching (counts as breached), resolution paused
    prb1 Network/no service/P4 (a problem): resolution met
    """
    network, desk = TeamFactory(name="Network"), TeamFactory(name="Service Desk")
    email = ServiceFactory(name="Email")
    response, resolution = _definition("Response 1h", "response", 1), _definition("Resolution 4h", "resolution", 4)
    inc1 = _ticket(by=agent, team=network, service=email, priority=Priority.CRITICAL)
    inc2 = _ticket(by=agent, team=desk, priority=Priority.MODERATE)
    inc3 = _ticket(by=agent, service=email)
    prb1 = _ticket(by=agent, team=network, kind=TicketKind.PROBLEM)
    _clock(inc1, response, ClockStage.COMPLETED, started_at=START)  # the first instant is in
    _clock(inc1, resolution, ClockStage.COMPLETED, breached=True, elapsed=5 * 3600)
    _clock(inc2, response, ClockStage.IN_PROGRESS, due_at=NOW + timedelta(minutes=5))
    _clock(inc2, resolution, ClockStage.IN_PROGRESS, due_at=NOW - timedelta(minutes=1))
    _clock(inc3, response, ClockStage.CANCELLED, breached=True)
    _clock(inc3, resolution, ClockStage.PAUSED)
    _clock(prb1, resolution, ClockStage.COMPLETED)
    _clock(inc1, response, ClockStage.COMPLETED, started_at=START - timedelta(seconds=1))  # out
    _clock(inc1, response, ClockStage.COMPLETED, breached=True, started_at=END)  # out: the end is excluded
    return {"network": network, "desk": desk, "email": email, "response": response, "resolution": resolution}


def _table(rows) -> dict:
    return {row.label: (row.met, row.breached, row.in_progress, row.cancelled, row.compliance) for row in rows}


# --- the selector -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (
            "definition",
            {"Resolution 4h": (1, 2, 1, 0, 33.3), "Response 1h": (1, 1, 1, 0, 50.0)},
        ),
        ("practice", {"Incident": (1, 3, 2, 0, 25.0), "Problem": (1, 0, 0, 0, 100.0)}),
        (
            "team",
            {
                "Network": (2, 1, 0, 0, 66.6),
                "Service Desk": (0, 1, 1, 0, 0.0),
                "No assignment group": (0, 1, 1, 0, 0.0),
            },
        ),
        ("service", {"Email": (1, 2, 1, 0, 33.3), "No service": (1, 1, 1, 0, 50.0)}),
        (
            "priority",
            {"1 - Critical": (1, 1, 0, 0, 50.0), "3 - Moderate": (0, 1, 1, 0, 0.0), "4 - Low": (1, 1, 1, 0, 50.0)},
        ),
    ],
)
def test_sla_compliance_counts_each_grouping(clocks, group_by, expected):
    rows = sla_compliance(start=START, end=END, group_by=group_by)
    assert _table(rows) == expected
    assert compliance_total(rows=rows).total == 7


def test_sla_compliance_orders_groups_and_keys_them(clocks):
    team_rows = sla_compliance(start=START, end=END, group_by="team")
    assert [row.key for row in team_rows] == [clocks["network"].pk, clocks["desk"].pk, None]  # no group last
    assert [row.key for row in sla_compliance(start=START, end=END, group_by="priority")] == [1, 3, 4]
    assert [row.key for row in sla_compliance(start=START, end=END, group_by="practice")] == ["incident", "problem"]


def test_sla_compliance_filters_by_practice_and_team(clocks):
    incidents = sla_compliance(start=START, end=END, group_by="definition", practice="incident")
    assert _table(incidents)["Resolution 4h"] == (0, 2, 1, 0, 0.0)
    network = sla_compliance(start=START, end=END, group_by="definition", team=clocks["network"])
    assert _table(network) == {"Resolution 4h": (1, 1, 0, 0, 50.0), "Response 1h": (1, 0, 0, 0, 100.0)}
    assert sla_compliance(start=START, end=END, group_by="team", practice="change") == []


def test_sla_compliance_total_of_nothing_has_no_rate():
    total = compliance_total(rows=sla_compliance(start=START, end=END, group_by="team"))
    assert (total.total, total.compliance) == (0, None)


def test_sla_compliance_rate_rounds_down():
    from slas.reports import ComplianceRow

    assert ComplianceRow(key=1, label="x", met=1999, breached=1).compliance == 99.9  # never shows 100 with a breach


def test_sla_compliance_unknown_grouping_raises():
    with pytest.raises(ValueError, match="group_by"):
        sla_compliance(start=START, end=END, group_by="colour")


def test_sla_compliance_counts_clocks_kept_by_the_services(agent):
    """End to end: clocks started, stopped, cancelled and breached by the incident services and the sweep."""
    _definition("Resolution 1h", "resolution", 1, active=True)
    met, breached, cancelled = (incident_factory(by=agent) for _ in range(3))
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        services.incident_resolve(incident=met, by=agent, close_code=close_code(), close_notes="Done")
        services.incident_cancel(incident=cancelled, by=agent, reason="Duplicate")
    with time_machine.travel(NOW + timedelta(minutes=90), tick=False):
        incident_factory(by=agent)  # due in an hour: still running at the report
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert sla_sweep() > 0
        services.incident_resolve(incident=breached, by=agent, close_code=close_code(), close_notes="Late")
        rows = sla_compliance(start=START, end=END, group_by="definition")
    assert _table(rows) == {"Resolution 1h": (1, 1, 1, 1, 50.0)}


# --- the API ----------------------------------------------------------------------------------------------------


def test_api_compliance_by_team(clocks, agent):
    response = client_for(agent).get(API, RANGE | {"group_by": "team", "practice": "incident"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["start"] == "2026-03-01" and body["end"] == "2026-03-31"
    assert (body["group_by"], body["practice"], body["team"]) == ("team", "incident", None)
    assert body["rows"][0] == {
        "key": clocks["network"].pk,
        "label": "Network",
        "met": 1,
        "breached": 1,
        "in_progress": 0,
        "cancelled": 0,
        "total": 2,
        "compliance": 50.0,
    }
    assert body["rows"][-1]["key"] is None and body["rows"][-1]["compliance"] == 0.0  # its only finish breached
    assert body["total"] | {"key": None} == body["total"]
    assert (body["total"]["met"], body["total"]["breached"], body["total"]["total"]) == (1, 3, 6)


def test_api_compliance_filters_by_team(clocks, agent):
    response = client_for(agent).get(API, RANGE | {"group_by": "priority", "team": clocks["desk"].pk})
    assert response.status_code == 200
    assert [(row["key"], row["label"]) for row in response.json()["rows"]] == [(3, "3 - Moderate")]
    assert response.json()["team"] == clocks["desk"].pk


def test_api_compliance_defaults_to_the_last_30_days_by_definition(clocks, agent):
    body = client_for(agent).get(API).json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-02-14", "2026-03-15", "definition")
    # The out-of-range clock from 28 February 23:59:59 is in this window; the one on 1 April is not.
    assert body["total"]["total"] == 8


def test_api_compliance_accepts_two_years_less_a_day(agent):
    response = client_for(agent).get(API, {"start": "2024-02-29", "end": "2026-02-27"})
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "01/03/2026"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"end": ""}, "end"),
        ({"group_by": "colour"}, "group_by"),
        ({"practice": "hr_case"}, "practice"),
        ({"team": "network"}, "team"),
        ({"team": "99999999999999999999999"}, "team"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ({"start": "2024-02-29", "end": "2026-02-28"}, "end"),
    ],
)
def test_api_compliance_rejects_bad_parameters(agent, params, field):
    response = client_for(agent).get(API, RANGE | params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_api_compliance_is_for_agents_only(api, end_user, clocks):
    assert api.get(API).status_code == 401
    assert client_for(end_user).get(API).status_code == 403


@pytest.mark.parametrize("role", ["Team managers", "Admins"])
def test_api_compliance_readable_by_managers_and_admins(role):
    assert client_for(UserFactory(role=role)).get(API).status_code == 200


def _more_clocks(clocks, agent, count: int) -> None:
    """More clocks in more groups (new teams, services and definitions), to show the query count does not grow."""
    for n in range(count):
        team, service = TeamFactory(name=f"Extra team {n}"), ServiceFactory(name=f"Extra service {n}")
        definition = _definition(f"Extra {n}", "resolution", 2)
        ticket = _ticket(by=agent, team=team, service=service)
        _clock(ticket, definition, ClockStage.COMPLETED)
        _clock(ticket, clocks["response"], ClockStage.IN_PROGRESS, due_at=NOW + timedelta(hours=1))


def _queries(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("group_by", ["definition", "practice", "team", "service", "priority"])
def test_api_compliance_query_count_is_constant(clocks, agent, group_by):
    client = client_for(agent)
    params = RANGE | {"group_by": group_by, "practice": "incident"}
    before = _queries(client, API, params)
    _more_clocks(clocks, agent, 5)
    assert _queries(client, API, params) == before
    assert before <= 2  # the user's roles, the report
    assert _queries(client, API, params | {"team": clocks["network"].pk}) == before + 1  # the team, validated


# --- the page ---------------------------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_page_shows_the_table_and_bars(clocks, agent_client):
    response = agent_client.get(PAGE, RANGE | {"group_by": "team"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row">Network</th>' in html and "No assignment group" in html
    assert "66.6 %" in html and 'style="width: 66.6%"' in html
    assert 'style="width: 0.0%"' in html  # Service Desk: all finished clocks breached
    assert html.count('class="bar"') >= 2
    assert 'class="report-total"' in html
    assert 'href="/workspace/reports/sla/" class="active"' in html


def test_page_defaults_to_the_last_30_days(agent_client):
    response = agent_client.get(PAGE)
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["start"].isoformat() == "2026-02-14"
    assert 'value="2026-03-15"' in response.content.decode()
    assert "No SLA clocks started in this range." in response.content.decode()


def test_page_explains_bad_parameters(agent_client):
    response = agent_client.get(PAGE, {"start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 200
    assert "The end date must not be before the start date." in response.content.decode()
    assert response.context["rows"] == []


def test_page_query_count_is_constant(clocks, agent, agent_client):
    params = RANGE | {"group_by": "service"}
    before = _queries(agent_client, PAGE, params)
    _more_clocks(clocks, agent, 5)
    assert _queries(agent_client, PAGE, params) == before
    assert before <= 5  # session, user, roles, the report, the team choices


def test_page_hidden_from_end_users_and_anonymous(client, end_user):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(end_user)
    assert client.get(PAGE).status_code == 404
    assert b"/workspace/reports/sla/" not in client.get(reverse("portal:home")).content


@pytest.mark.parametrize("role", ["Agents", "Team managers", "Admins"])
def test_page_open_to_agents_managers_and_admins(client, role):
    user = AgentFactory(role=role)
    client.force_login(user)
    assert client.get(PAGE).status_code == 200
    assert b'href="/workspace/reports/sla/"' in client.get(reverse("workspace:list", args=["incidents"])).content
