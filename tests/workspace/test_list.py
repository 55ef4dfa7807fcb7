"""The generic workspace list: every registered practice, keyset pages, CSV export, bulk actions, saved filters."""

import csv
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.csvsafe import csv_safe
from itsm.models import SavedFilter
from itsm.workspace import practices
from itsm.workspace.paging import keyset_page
from tests.factories import (
    AgentFactory,
    change_factory,
    incident_factory,
    problem_factory,
    problem_task_in_state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def list_url(slug):
    return reverse("workspace:list", args=[slug])


def test_every_declared_practice_is_registered():
    slugs = {p.slug for p in practices()}
    assert {"incidents", "problems", "problem-tasks", "changes", "change-tasks"} <= slugs
    for practice in practices():
        for transition in practice.transitions:
            assert transition.name in practice.transitions_table, (practice.slug, transition.name)
        for key in practice.default_columns:
            assert practice.column(key) is not None, (practice.slug, key)


def test_practice_lists_and_pages_render(agent_client, agent):
    problem = problem_factory(by=agent, short_description="Printers keep jamming")
    task = problem_task_in_state("new", by=agent, problem=problem)
    change = change_factory(by=agent, short_description="Replace core switch")
    from changes.services import change_task_create

    change_task = change_task_create(change=change, by=agent, short_description="Swap the line cards")
    pairs = (("problems", problem), ("problem-tasks", task), ("changes", change), ("change-tasks", change_task))
    for slug, record in pairs:
        body = agent_client.get(list_url(slug)).content.decode()
        assert record.number in body, slug
        detail = agent_client.get(reverse("workspace:detail", args=[slug, record.number]))
        assert detail.status_code == 200, slug
        assert record.short_description in detail.content.decode()


def test_problem_transition_through_generic_view(agent_client, agent):
    problem = problem_factory(by=agent)
    response = agent_client.post(reverse("workspace:transition", args=["problems", problem.number, "assess"]))
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.state == "assess"


def test_change_transition_missing_input_is_400_naming_field(agent_client, agent):
    from tests.factories import change_in_state

    change = change_in_state("implement", by=agent)
    url = reverse("workspace:transition", args=["changes", change.number, "review"])
    response = agent_client.post(url, {"close_code": "", "close_notes": ""})
    assert response.status_code == 400
    change.refresh_from_db()
    assert change.state == "implement"
    assert "This field" in response.content.decode()


def test_unknown_practice_404(agent_client):
    assert agent_client.get("/workspace/nope/").status_code == 404


def test_end_user_gets_404_everywhere(client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    client.force_login(end_user)
    for url in (
        list_url("incidents"),
        list_url("tickets"),
        reverse("workspace:export", args=["incidents"]),
        reverse("workspace:detail", args=["incidents", incident.number]),
        reverse("workspace:search") + "?q=" + incident.number,
    ):
        assert client.get(url).status_code == 404, url


def test_keyset_pages_cover_everything_once_in_both_directions(agent, team):
    for index in range(23):
        incident_factory(by=agent, short_description=f"Row {index % 4}")
    queryset = Incident.objects.all()
    seen, cursor, pages = [], "", []
    while True:
        page = keyset_page(queryset, field="short_description", descending=False, per_page=5, cursor=cursor)
        pages.append(page)
        seen += [row.pk for row in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 23 and len(set(seen)) == 23
    assert seen == list(queryset.order_by("short_description", "id").values_list("pk", flat=True))
    back = keyset_page(queryset, field="short_description", descending=False, per_page=5, cursor=pages[2].prev_cursor)
    assert [r.pk for r in back.rows] == [r.pk for r in pages[1].rows]
    assert keyset_page(queryset, field="opened_at", descending=True, per_page=5, cursor="garbage!").first


def test_list_query_count_constant_in_page_size(agent_client, agent, team):
    for _ in range(3):
        incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        agent_client.get(list_url("incidents"), {"per_page": 100, "cols": "number,caller,assigned_to,service"})
    for _ in range(30):
        incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        agent_client.get(list_url("incidents"), {"per_page": 100, "cols": "number,caller,assigned_to,service"})
    assert len(large.captured_queries) == len(small.captured_queries)
    cache.clear()
    with CaptureQueriesContext(connection) as mine:
        agent_client.get(list_url("tickets"), {"queue": "mine", "per_page": 100})
    assert len(mine.captured_queries) <= len(large.captured_queries)


def test_columns_chosen_per_list(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.get(list_url("incidents"), {"cols": "number,caller,bogus"})
    assert [c.key for c in response.context["columns"]] == ["number", "caller"]
    assert incident.caller.get_username() in response.content.decode() or incident.caller.get_full_name()


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ok", "ok"),
    ],
)
def test_csv_safe_neutralises_formulas(raw, safe):
    assert csv_safe(raw) == safe


def test_csv_export_filtered_and_neutralised(agent_client, agent):
    incident_factory(by=agent, short_description='=HYPERLINK("http://evil")', urgency=1, impact=1)
    incident_factory(by=agent, short_description="Plain low one")
    response = agent_client.get(
        reverse("workspace:export", args=["incidents"]), {"priority": "1", "cols": "number,short_description"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Number", "Short description"]
    assert len(rows) == 2
    assert rows[1][1].startswith("'=HYPERLINK")


def test_bulk_assign_to_me_and_transition(agent_client, agent, team):
    first = incident_factory(by=agent, assignment_group=team)
    second = incident_factory(by=agent, assignment_group=team)
    url = reverse("workspace:bulk", args=["incidents"])
    response = agent_client.post(url, {"ids": [first.pk, second.pk], "action": "assign_me"})
    assert response.status_code == 302
    assert set(Incident.objects.filter(assigned_to=agent).values_list("pk", flat=True)) == {first.pk, second.pk}
    agent_client.post(url, {"ids": [first.pk], "action": "transition:start"})
    assert Incident.objects.get(pk=first.pk).state == IncidentState.IN_PROGRESS
    # Not allowed in its state: refused and reported, nothing changes.
    response = agent_client.post(url, {"ids": [first.pk], "action": "transition:close"}, follow=True)
    assert Incident.objects.get(pk=first.pk).state == IncidentState.IN_PROGRESS
    assert "Not done" in response.content.decode()


def test_bulk_assign_to_non_member_is_refused(agent_client, agent, team):
    outsider = AgentFactory(username="outsider")
    incident = incident_factory(by=agent, assignment_group=team)
    agent_client.post(
        reverse("workspace:bulk", args=["incidents"]),
        {"ids": [incident.pk], "action": "assign", "assigned_to": "outsider"},
    )
    incident.refresh_from_db()
    assert incident.assigned_to is None and outsider.pk


def test_saved_filters_are_per_user(agent_client, agent, client):
    url = reverse("workspace:filter_save", args=["incidents"])
    agent_client.post(url, {"name": "P1 open", "query": "priority=1&active=true&cursor=abc"})
    saved = SavedFilter.objects.get(user=agent)
    assert saved.query == "priority=1&active=true"
    body = agent_client.get(list_url("incidents")).content.decode()
    assert "P1 open" in body
    other = AgentFactory(username="other")
    client.force_login(other)
    assert "P1 open" not in client.get(list_url("incidents")).content.decode()
    assert client.post(reverse("workspace:filter_delete", args=["incidents", saved.pk])).status_code == 404


def test_navigation_counts(agent_client, agent, team):
    incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    incident_factory(by=agent, assignment_group=team)
    nav = agent_client.get(list_url("incidents")).context["nav"]
    counts = {q["key"]: q["count"] for q in nav["queues"]}
    assert counts == {"mine": 1, "my_teams": 2, "unassigned": 1}
    assert {p["slug"]: p["count"] for p in nav["practices"]}["incidents"] == 2


def test_search_by_number_opens_ticket_and_text_lists_matches(agent_client, agent):
    incident = incident_factory(by=agent, short_description="VPN drops every hour")
    problem = problem_factory(by=agent, short_description="VPN concentrator memory leak")
    response = agent_client.get(reverse("workspace:search"), {"q": incident.number.lower()})
    assert response.status_code == 302 and response.url.endswith(f"/workspace/incidents/{incident.number}/")
    body = agent_client.get(reverse("workspace:search"), {"q": "vpn"}).content.decode()
    assert incident.number in body and problem.number in body


def test_ticket_page_query_count_constant_in_journal_length(agent_client, agent, other_agent, team):
    from incidents.services import incident_comment, incident_update

    incident = incident_factory(by=agent, assignment_group=team)
    url = reverse("workspace:detail", args=["incidents", incident.number])
    incident_comment(incident=incident, by=agent, body="first", kind="work_note")
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        assert agent_client.get(url).status_code == 200
    for index in range(15):
        incident_comment(
            incident=incident, by=other_agent if index % 2 else agent, body=f"note {index}", kind="comment"
        )
        incident_update(incident=incident, by=agent, short_description=f"Changed {index}")
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        body = agent_client.get(url).content.decode()
    assert "note 14" in body and "Changed 14" in body
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 30
