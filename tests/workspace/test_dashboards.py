"""Dashboards: the figures, the pages and the API from the same functions, bounded query counts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.services import incident_reopen
from itsm.models import Ticket
from tests.conftest import client_for
from tests.factories import close_code, incident_factory, incident_in_state

pytestmark = pytest.mark.django_db


def test_team_dashboard_figures(agent, team):
    old = incident_factory(by=agent, assignment_group=team)
    Ticket.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=10))
    incident_factory(by=agent, assignment_group=team)
    resolved = incident_in_state("resolved", by=agent, assignment_group=team)
    incident_reopen(incident=resolved, by=agent, comment="Still broken")
    close_code()
    from itsm.workspace.dashboards import team_dashboard

    incident_in_state("resolved", by=agent, assignment_group=team)
    data = team_dashboard(team_ids=[team.pk], days=14)
    ages = {b["label"]: b["count"] for b in data["backlog_by_age"]}
    assert ages["< 1 day"] == 3 and ages["7-30 days"] == 1  # resolved tickets still count until closed
    assert data["resolved"] == 1 and data["resolutions"] == 2 and data["reopened"] == 1 and data["reopen_rate"] == 50.0
    assert sum(d["created"] for d in data["created_vs_resolved"]) == 4  # the 10-day-old one is in the window too
    assert data["mttr_hours"] is not None


def test_dashboard_api_matches_and_agents_only(agent, team, end_user):
    incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    body = client_for(agent).get("/api/v1/dashboards/agent/").json()
    assert body["my_open"] == 1
    team_body = client_for(agent).get(f"/api/v1/dashboards/team/?team={team.pk}&days=7").json()
    assert team_body["days"] == 7 and team_body["backlog_total"] == 1
    assert client_for(end_user).get("/api/v1/dashboards/agent/").status_code == 404


def _queries(client, url) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_pages_render_with_bounded_queries(client, agent, team):
    client.force_login(agent)
    for _ in range(2):
        incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    small = (_queries(client, reverse("workspace:dashboard")), _queries(client, reverse("workspace:team_dashboard")))
    for _ in range(12):
        incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    large = (_queries(client, reverse("workspace:dashboard")), _queries(client, reverse("workspace:team_dashboard")))
    assert large == small
    body = client.get(reverse("workspace:team_dashboard")).content.decode()
    assert "<svg" in body and "Created vs resolved" in body
