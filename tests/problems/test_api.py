"""The problem API contract: CRUD, transitions (409 with nothing changed), journal, known errors, incident links,
knowledge articles, 404 for end users, 400 naming fields, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import incident_hold
from itsm.models import JournalEntry
from problems.enums import ProblemState as S
from problems.models import KnowledgeArticle, Problem, ProblemTask
from problems.services import problem_link_incident, problem_mark_known_error
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    ConfigurationItemFactory,
    ServiceFactory,
    hold_reason,
    incident_factory,
    incident_in_state,
    problem_factory,
    problem_in_state,
    problem_task_in_state,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/problems/"
TASKS = "/api/v1/problem-tasks/"
KB = "/api/v1/knowledge-articles/"

OPEN = {S.NEW, S.ASSESS, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS}
ALLOWED = {
    "assess": {S.NEW},
    "analyze": {S.ASSESS},
    "fix": {S.ROOT_CAUSE_ANALYSIS},
    "resolve": OPEN,
    "close": {S.RESOLVED},
    "cancel": OPEN,
    "reopen": {S.RESOLVED},
}
BODIES = {
    "fix": {"cause_notes": "Expired certificate."},
    "resolve": {"resolution_code": "canceled", "close_notes": "Not a problem."},
}


def _url(record, suffix=""):
    base = URL if isinstance(record, Problem) else TASKS
    return f"{base}{record.number}/{suffix}"


@pytest.mark.parametrize("name", sorted(ALLOWED))
@pytest.mark.parametrize("state", list(S))
def test_problem_transition_table_over_api(agent, name, state):
    """Every allowed transition answers 200; every refused one answers 409 and changes nothing."""
    problem = problem_in_state(state, by=agent)
    client = client_for(agent)
    before, journal = client.get(_url(problem)).json(), JournalEntry.objects.count()
    response = client.post(_url(problem, f"{name}/"), BODIES.get(name, {}), format="json")
    if state in ALLOWED[name]:
        assert response.status_code == 200, response.json()
        assert response.json()["state"] != state
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "transition_not_allowed"
        assert client.get(_url(problem)).json() == before
        assert JournalEntry.objects.count() == journal


TASK_ALLOWED = {"assess": {"new"}, "start": {"new", "assess"}, "close": {"new", "assess", "work_in_progress"}}


@pytest.mark.parametrize("name", sorted(TASK_ALLOWED))
@pytest.mark.parametrize("state", ["new", "assess", "work_in_progress", "closed"])
def test_problem_task_transition_table_over_api(agent, name, state):
    task = problem_task_in_state(state, by=agent)
    client = client_for(agent)
    before, journal = client.get(_url(task)).json(), JournalEntry.objects.count()
    response = client.post(_url(task, f"{name}/"), {"close_notes": "Done."}, format="json")
    if state in TASK_ALLOWED[name]:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == 409
        assert client.get(_url(task)).json() == before
        assert JournalEntry.objects.count() == journal


def test_problem_create_and_read(agent, team):
    ServiceFactory(name="Email")
    response = client_for(agent).post(
        URL,
        {
            "short_description": "Mail stalls",
            "impact": 1,
            "urgency": 2,
            "service": "Email",
            "assignment_group": team.name,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("PRB") and body["state"] == "new" and body["state_code"] == 101
    assert body["priority"] == 2 and body["service"] == "Email" and body["assignment_group"] == team.name
    assert body["incidents"] == [] and body["known_error"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "short_description"),
        ({"short_description": " "}, "short_description"),
        ({"short_description": "x", "impact": 9}, "impact"),
        ({"short_description": "x", "assignment_group": "No Such Team"}, "assignment_group"),
        ({"short_description": "x", "state": "closed"}, "state"),
        ({"short_description": "x", "known_error": True}, "known_error"),
        ({"short_description": "x", "resolution_code": "fix_applied"}, "resolution_code"),
    ],
)
def test_problem_create_bad_input_is_400_naming_field(agent, payload, field):
    response = client_for(agent).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Problem.objects.exists()


@pytest.mark.parametrize(
    ("name", "body", "fields"),
    [
        ("resolve", {}, {"resolution_code"}),
        ("resolve", {"resolution_code": "fix_applied"}, {"cause_notes", "fix_notes"}),
        ("resolve", {"resolution_code": "risk_accepted", "cause_notes": "c"}, {"close_notes"}),
        ("resolve", {"resolution_code": "duplicate"}, {"duplicate_of"}),
        ("resolve", {"resolution_code": "duplicate", "duplicate_of": "PRB9999999"}, {"duplicate_of"}),
        ("resolve", {"resolution_code": "canceled"}, {"close_notes"}),
        ("fix", {}, {"cause_notes"}),
    ],
)
def test_problem_transition_missing_fields_is_400(agent, name, body, fields):
    problem = problem_in_state("root_cause_analysis", by=agent)
    response = client_for(agent).post(_url(problem, f"{name}/"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    problem.refresh_from_db()
    assert problem.state == "root_cause_analysis"


def test_problem_resolve_duplicate_of_itself_is_400(agent):
    problem = problem_in_state("assess", by=agent)
    response = client_for(agent).post(
        _url(problem, "resolve/"), {"resolution_code": "duplicate", "duplicate_of": problem.number}, format="json"
    )
    assert response.status_code == 400 and "duplicate_of" in response.json()


def test_problem_resolve_over_api_resolves_incidents_awaiting_it(agent):
    problem = problem_in_state("fix_in_progress", by=agent)
    incidents = []
    for _ in range(3):
        incident = incident_in_state("in_progress", by=agent)
        problem_link_incident(problem=problem, incident=incident, by=agent)
        incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_problem"))
        incidents.append(incident)
    response = client_for(agent).post(
        _url(problem, "resolve/"),
        {"resolution_code": "fix_applied", "fix_notes": "Patched.", "resolve_incidents": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["incidents"]) == sorted(i.number for i in incidents)
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.state == "resolved" and incident.close_code.slug == "resolved_by_problem"


def test_problem_patch_journals_and_refuses_owned_fields(agent):
    problem = problem_factory(by=agent)
    client = client_for(agent)
    response = client.patch(_url(problem), {"workaround": "Use webmail.", "urgency": 1}, format="json")
    assert response.status_code == 200 and response.json()["workaround"] == "Use webmail."
    assert problem.journal.filter(kind="field_change", field="workaround").exists()
    assert client.patch(_url(problem), {"state": "closed"}, format="json").status_code == 400
    assert client.put(_url(problem), {"short_description": "y"}, format="json").status_code == 405
    assert client.delete(_url(problem)).status_code == 405


def test_problem_everything_is_404_for_end_users(agent, end_user):
    problem = problem_in_state("resolved", by=agent)
    task = problem_task_in_state("new", by=agent)
    incident = incident_factory(by=agent, caller=end_user)
    client = client_for(end_user)
    for url in (URL, _url(problem), _url(problem, "journal/"), _url(problem, "transitions/"), TASKS, _url(task)):
        assert client.get(url).status_code == 404, url
    for url, body in (
        (URL, {"short_description": "x"}),
        (_url(problem, "close/"), {}),
        (_url(problem, "mark-known-error/"), {"workaround": "w", "cause_notes": "c"}),
        (f"{URL}from-incident/", {"incident": incident.number}),
        (_url(problem, "journal/"), {"body": "hi"}),
        (TASKS, {"problem": problem.number, "short_description": "x"}),
        (_url(task, "close/"), {"close_notes": "x"}),
    ):
        assert client.post(url, body, format="json").status_code == 404, url
    assert client.patch(_url(problem), {"description": "x"}, format="json").status_code == 404
    problem.refresh_from_db()
    assert problem.state == "resolved" and Problem.objects.count() == 2
    # The end user's own incident does not reveal its problem.
    problem_link_incident(problem=problem_factory(by=agent), incident=incident, by=agent)
    assert "problem" not in client.get(f"/api/v1/incidents/{incident.number}/").json()


def test_problem_anonymous_is_401(api):
    assert api.get(URL).status_code == 401
    assert api.get(KB).status_code == 401


def test_problem_transitions_list_and_journal(agent):
    problem = problem_in_state("root_cause_analysis", by=agent)
    client = client_for(agent)
    available = {t["name"]: t for t in client.get(_url(problem, "transitions/")).json()}
    assert set(available) == {"fix", "resolve", "cancel"}
    assert available["fix"] == {"name": "fix", "target": "fix_in_progress", "fields": ["cause_notes"]}
    response = client.post(_url(problem, "journal/"), {"kind": "work_note", "body": "Checked the logs."}, format="json")
    assert response.status_code == 201
    journal = client.get(_url(problem, "journal/")).json()["results"]
    assert [e["transition"] for e in journal if e["kind"] == "transition"] == ["create", "assess", "analyze"]
    assert journal[-1]["body"] == "Checked the logs."
    assert client.post(_url(problem, "journal/"), {"body": ""}, format="json").status_code == 400


def test_problem_from_incident_and_links_over_api(agent):
    incident, other = incident_factory(by=agent, short_description="VPN drops"), incident_factory(by=agent)
    client = client_for(agent)
    response = client.post(f"{URL}from-incident/", {"incident": incident.number}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["short_description"] == "VPN drops" and body["incidents"] == [incident.number]
    assert client.get(f"/api/v1/incidents/{incident.number}/").json()["problem"] == body["number"]
    url = f"{URL}{body['number']}/"
    assert client.post(f"{url}link-incident/", {"incident": other.number}, format="json").status_code == 200
    assert sorted(client.get(url).json()["incidents"]) == sorted([incident.number, other.number])
    assert client.post(f"{url}unlink-incident/", {"incident": other.number}, format="json").status_code == 200
    response = client.post(f"{url}link-incident/", {"incident": "INC9999999"}, format="json")
    assert response.status_code == 400 and "incident" in response.json()
    response = client.post(f"{URL}from-incident/", {"incident": incident.number}, format="json")
    assert response.status_code == 400 and "problem" in response.json()


def test_incident_patch_links_a_problem_by_number(agent):
    problem, incident = problem_factory(by=agent), incident_factory(by=agent)
    response = client_for(agent).patch(
        f"/api/v1/incidents/{incident.number}/", {"problem": problem.number}, format="json"
    )
    assert response.status_code == 200 and response.json()["problem"] == problem.number
    response = client_for(agent).patch(f"/api/v1/incidents/{incident.number}/", {"problem": "PRB0"}, format="json")
    assert response.status_code == 400 and "problem" in response.json()


def test_problem_mark_known_error_and_find_article_by_ci_and_service(agent, end_user):
    ci = ConfigurationItemFactory(name="vpn-gw-01", service=ServiceFactory(name="Remote access"))
    problem = problem_in_state("root_cause_analysis", by=agent, configuration_item=ci)
    problem_in_state("assess", by=agent)
    client = client_for(agent)
    response = client.post(_url(problem, "mark-known-error/"), {"workaround": "Reconnect."}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"cause_notes"}
    response = client.post(
        _url(problem, "mark-known-error/"), {"workaround": "Reconnect.", "cause_notes": "MTU mismatch."}, format="json"
    )
    assert response.status_code == 200 and response.json()["known_error"] is True
    assert client.get(URL, {"known_error": "true"}).json()["results"][0]["number"] == problem.number
    for params in ({"configuration_item": "vpn-gw-01"}, {"service": "Remote access"}, {"search": "MTU"}):
        rows = client.get(KB, params).json()["results"]
        assert [r["problem"] for r in rows] == [problem.number], params
    assert client.get(KB, {"configuration_item": ConfigurationItemFactory().name}).json()["results"] == []
    assert client.get(KB, {"configuration_item": "no-such-ci"}).status_code == 400
    # End users read published articles (without the problem behind them), never unpublished ones.
    rows = client_for(end_user).get(KB, {"service": "Remote access"}).json()["results"]
    assert len(rows) == 1 and "problem" not in rows[0]
    KnowledgeArticle.objects.update(published=False)
    assert client_for(end_user).get(KB).json()["results"] == []
    closed = problem_in_state("closed", by=agent)
    response = client.post(_url(closed, "mark-known-error/"), {"workaround": "w", "cause_notes": "c"}, format="json")
    assert response.status_code == 400 and "state" in response.json()


def test_problem_list_filters_and_search(agent, team):
    a = problem_factory(by=agent, short_description="Printer driver leaks", assignment_group=team)
    b = problem_in_state("assess", by=agent, short_description="Disk latency on db01", impact=1, urgency=1)
    client = client_for(agent)

    def numbers(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["number"] for row in response.json()["results"]}

    assert numbers(state="assess") == {b.number}
    assert numbers(state=["new", "assess"]) == {a.number, b.number}
    assert numbers(priority=1) == {b.number}
    assert numbers(assignment_group="Service Desk") == {a.number}
    assert numbers(search="latency") == {b.number}
    assert numbers(q=a.number) == {a.number}
    assert numbers(known_error="false") == {a.number, b.number}
    assert client.get(URL, {"state": "bogus"}).status_code == 400


def test_problem_task_create_and_filter_by_problem(agent, team):
    problem = problem_factory(by=agent)
    client = client_for(agent)
    response = client.post(
        TASKS,
        {"problem": problem.number, "short_description": "Reproduce in test", "assignment_group": team.name},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"].startswith("PTASK") and response.json()["state_code"] == 151
    assert [r["problem"] for r in client.get(TASKS, {"problem": problem.number}).json()["results"]] == [problem.number]
    response = client.post(TASKS, {"short_description": "x"}, format="json")
    assert response.status_code == 400 and "problem" in response.json()
    closed = problem_in_state("closed", by=agent)
    response = client.post(TASKS, {"problem": closed.number, "short_description": "x"}, format="json")
    assert response.status_code == 400 and "problem" in response.json()
    task = ProblemTask.objects.get()
    response = client.post(_url(task, "close/"), {}, format="json")
    assert response.status_code == 400 and "close_notes" in response.json()


@pytest.mark.parametrize(("url", "make"), [(URL, "problem"), (TASKS, "task")])
def test_problem_list_query_count_constant_in_page_size(agent, team, url, make):
    other = AgentFactory()
    team.members.add(other)
    problem = problem_factory(by=agent)
    for i in range(12):
        if make == "problem":
            created = problem_factory(by=agent, assignment_group=team, assigned_to=other, short_description=f"p{i}")
            problem_link_incident(problem=created, incident=incident_factory(by=agent), by=agent)
            problem_mark_known_error(problem=created, by=agent, workaround="w", cause_notes="c")
        else:
            problem_task_in_state("new", by=agent, problem=problem, assignment_group=team, assigned_to=other)
    client = client_for(agent)
    counts = []
    for size in (3, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 6


def test_knowledge_article_list_query_count_constant(agent):
    for i in range(8):
        problem = problem_factory(by=agent, configuration_item=ConfigurationItemFactory(), short_description=f"k{i}")
        problem_mark_known_error(problem=problem, by=agent, workaround="w", cause_notes="c")
    client = client_for(agent)
    counts = []
    for size in (2, 8):
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(KB, {"page_size": size}).json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_schema_covers_problem_endpoints_and_their_409s(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = set(schema["paths"])
    for name in ("assess", "analyze", "fix", "resolve", "close", "cancel", "reopen", "transitions", "journal"):
        assert f"/api/v1/problems/{{number}}/{name}/" in paths
    for name in ("mark-known-error", "link-incident", "unlink-incident"):
        assert f"/api/v1/problems/{{number}}/{name}/" in paths
    for name in ("assess", "start", "close", "transitions", "journal"):
        assert f"/api/v1/problem-tasks/{{number}}/{name}/" in paths
    assert {"/api/v1/problems/from-incident/", "/api/v1/knowledge-articles/"} <= paths
    assert "409" in schema["paths"]["/api/v1/problems/{number}/fix/"]["post"]["responses"]
