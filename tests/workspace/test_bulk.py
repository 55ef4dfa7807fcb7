"""Bulk actions on the cross-practice queues (my work, my teams' queues, unassigned): each ticket through its own
practice's services, with a result per ticket (done, 409, 404), in the same code path as the practice lists."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.models import Ticket
from problems.models import Problem
from tests.factories import AgentFactory, TeamFactory, incident_factory, problem_factory

pytestmark = pytest.mark.django_db

URL = reverse("workspace:bulk", args=["tickets"])


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_queue_lists_offer_bulk_actions(agent_client, agent, team):
    incident = incident_factory(by=agent, assignment_group=team)
    body = agent_client.get(reverse("workspace:list", args=["tickets"]), {"queue": "unassigned"}).content.decode()
    assert 'id="bulk-form"' in body
    assert f'name="ids" value="{incident.pk}"' in body
    assert 'value="transition:start"' in body and 'value="transition:assess"' in body
    assert f'value="{agent.username}"' in body  # team members to assign to


def test_bulk_assign_to_me_across_practices(agent_client, agent, team):
    incident = incident_factory(by=agent, assignment_group=team)
    problem = problem_factory(by=agent, assignment_group=team)
    hidden = incident_factory(by=AgentFactory(), assignment_group=TeamFactory(name="Elsewhere"))
    response = agent_client.post(
        URL, {"ids": [incident.pk, problem.pk, 999_999_999], "action": "assign_me", "back": "queue=unassigned"}
    )
    assert response.status_code == 302 and response["Location"].endswith("/workspace/tickets/?queue=unassigned")
    assert set(Ticket.objects.filter(assigned_to=agent).values_list("pk", flat=True)) == {incident.pk, problem.pk}
    text = _messages(response)
    assert f"Done on 2: {incident.number}, {problem.number}" in text
    assert "Not done on 1 selected (404" in text
    assert hidden.number not in text


def test_bulk_assign_to_a_team_member(agent_client, agent, team):
    colleague = AgentFactory(username="colleague")
    team.members.add(colleague)
    incident = incident_factory(by=agent, assignment_group=team)
    problem = problem_factory(by=agent, assignment_group=team)
    agent_client.post(URL, {"ids": [incident.pk, problem.pk], "action": "assign", "assigned_to": "colleague"})
    assert Incident.objects.get(pk=incident.pk).assigned_to == colleague
    assert Problem.objects.get(pk=problem.pk).assigned_to == colleague
    # An unknown agent: 400 per ticket, nothing changes.
    response = agent_client.post(URL, {"ids": [incident.pk], "action": "assign", "assigned_to": "nobody"})
    assert Incident.objects.get(pk=incident.pk).assigned_to == colleague
    assert f"{incident.number} (400" in _messages(response)


def test_bulk_transition_where_each_practice_has_it(agent_client, agent, team):
    new = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    resolved_elsewhere = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    agent_client.post(URL, {"ids": [resolved_elsewhere.pk], "action": "transition:start"})
    problem = problem_factory(by=agent, assignment_group=team, assigned_to=agent)
    response = agent_client.post(
        URL, {"ids": [new.pk, resolved_elsewhere.pk, problem.pk], "action": "transition:start"}
    )
    assert Incident.objects.get(pk=new.pk).state == IncidentState.IN_PROGRESS
    assert Problem.objects.get(pk=problem.pk).state == "new"  # problems have no "start": 409, unchanged
    text = _messages(response)
    assert f"Done on 1: {new.number}" in text
    assert f"{resolved_elsewhere.number} (409" in text  # already in progress: not allowed in its state
    assert f"{problem.number} (409" in text
    # The practice's own step is taken on the same queue.
    agent_client.post(URL, {"ids": [problem.pk], "action": "transition:assess"})
    assert Problem.objects.get(pk=problem.pk).state == "assess"


def test_bulk_on_queues_costs_a_bounded_number_of_queries_per_ticket(agent_client, agent, team):
    tickets = [incident_factory(by=agent, assignment_group=team) for _ in range(3)]
    tickets += [problem_factory(by=agent, assignment_group=team) for _ in range(3)]

    def queries(chosen) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.post(URL, {"ids": [t.pk for t in chosen], "action": "assign_me"})
        assert response.status_code == 302
        return len(captured)

    one_each = queries([tickets[0], tickets[3]])
    three_each = queries(tickets[1:3] + tickets[4:6] + [tickets[0], tickets[3]])
    assert one_each <= 45  # 38 when written: the session, the selection by kind, one read per practice, 2 updates
    # Four more tickets cost their service calls, nothing else grows with the selection.
    assert (three_each - one_each) / 4 <= 12  # 10.5 when written (the update service and its journal)
    assert Ticket.objects.filter(assigned_to=agent).count() == 6
