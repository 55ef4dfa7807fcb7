"""The incident API contract: CRUD, transitions, journal, visibility, errors and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from incidents.models import Incident
from itsm.models import JournalEntry
from tests.conftest import client_for
from tests.factories import AgentFactory, ServiceFactory, incident_factory, incident_in_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def _url(incident, suffix=""):
    return f"{URL}{incident.number}/{suffix}"


def test_token_obtain_and_use(api, agent):
    response = api.post("/api/v1/auth/token/", {"username": agent.username, "password": "pw"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=agent).key == token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(URL).status_code == 200


def test_token_wrong_password_is_400(api, agent):
    response = api.post("/api/v1/auth/token/", {"username": agent.username, "password": "nope"}, format="json")
    assert response.status_code == 400


def test_incident_list_anonymous_is_401(api):
    assert api.get(URL).status_code == 401


def test_incident_create_by_agent(agent, end_user, team):
    response = client_for(agent).post(
        URL,
        {
            "short_description": "Email down for sales",
            "description": "Nobody in sales can send mail.",
            "caller": end_user.username,
            "impact": 1,
            "urgency": 2,
            "assignment_group": "Service Desk",
            "assigned_to": agent.username,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("INC") and len(body["number"]) == 10
    assert body["caller"] == end_user.username
    assert body["priority"] == 2
    assert body["state"] == "new" and body["state_code"] == 1
    assert body["assignment_group"] == "Service Desk"
    assert body["assigned_to"] == agent.username


def test_incident_create_group_by_id(agent, team):
    response = client_for(agent).post(URL, {"short_description": "x", "assignment_group": team.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["assignment_group"] == team.name


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "short_description"),
        ({"short_description": "x", "impact": 7}, "impact"),
        ({"short_description": "x", "urgency": "high"}, "urgency"),
        ({"short_description": "x", "caller": "nobody"}, "caller"),
        ({"short_description": "x", "assignment_group": "No Such Team"}, "assignment_group"),
        ({"short_description": "x", "service": 999999}, "service"),
        ({"short_description": "x", "parent": "INC9999999"}, "parent"),
        ({"short_description": "x", "state": "closed"}, "state"),
        ({"short_description": "x", "priority": 1}, "priority"),
        ({"short_description": "   "}, "short_description"),
    ],
)
def test_incident_create_bad_input_is_400_naming_field(agent, payload, field):
    before = Incident.objects.count()
    response = client_for(agent).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Incident.objects.count() == before


def test_incident_create_assignee_outside_group_is_400(agent, other_agent, team):
    response = client_for(agent).post(
        URL,
        {"short_description": "x", "assignment_group": team.name, "assigned_to": other_agent.username},
        format="json",
    )
    assert response.status_code == 400
    assert "assigned_to" in response.json()


def test_incident_create_by_end_user_makes_them_caller(end_user):
    response = client_for(end_user).post(URL, {"short_description": "My laptop is slow"}, format="json")
    assert response.status_code == 201
    assert response.json()["caller"] == end_user.username


@pytest.mark.parametrize(
    "field_value",
    [
        ("caller", "agent_a"),
        ("assignment_group", "Service Desk"),
        ("assigned_to", "agent_a"),
        ("major_incident", True),
        ("state", "resolved"),
    ],
)
def test_incident_create_end_user_cannot_set_staff_fields(end_user, agent, field_value):
    field, value = field_value
    response = client_for(end_user).post(URL, {"short_description": "x", field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_incident_visibility_end_user_sees_own_only(end_user, other_end_user):
    mine = incident_factory(caller=end_user)
    theirs = incident_factory(caller=other_end_user)
    client = client_for(end_user)
    numbers = [row["number"] for row in client.get(URL).json()["results"]]
    assert numbers == [mine.number]
    assert client.get(_url(theirs)).status_code == 404
    assert client.get(_url(theirs, "journal/")).status_code == 404
    assert client.post(_url(theirs, "journal/"), {"body": "hi"}, format="json").status_code == 404
    assert client.post(_url(theirs, "cancel/"), {}, format="json").status_code == 404
    assert client.get(URL, {"search": theirs.number}).json()["results"] == []


def test_incident_unknown_number_is_404(agent):
    assert client_for(agent).get(f"{URL}INC0999999/").status_code == 404


def test_incident_patch_changes_fields_and_journals(agent, team):
    incident = incident_factory(by=agent)
    service = ServiceFactory(name="Email")
    response = client_for(agent).patch(
        _url(incident), {"impact": 1, "urgency": 1, "service": "Email", "assignment_group": team.name}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["priority"] == 1
    incident.refresh_from_db()
    assert incident.service == service
    changes = {e.field: (e.old_value, e.new_value) for e in incident.journal.filter(kind="field_change")}
    assert changes["impact"] == ("3", "1")
    assert changes["priority"] == ("4", "1")
    assert changes["service"] == ("", "Email")


def test_incident_patch_state_is_400(agent):
    incident = incident_factory(by=agent)
    response = client_for(agent).patch(_url(incident), {"state": "closed"}, format="json")
    assert response.status_code == 400
    assert "state" in response.json()


def test_incident_patch_by_end_user_is_403(end_user):
    incident = incident_factory(caller=end_user)
    response = client_for(end_user).patch(_url(incident), {"description": "more"}, format="json")
    assert response.status_code in (400, 403)
    incident.refresh_from_db()
    assert incident.description == ""


def test_incident_put_and_delete_not_allowed(agent):
    incident = incident_factory(by=agent)
    client = client_for(agent)
    assert client.put(_url(incident), {"short_description": "y"}, format="json").status_code == 405
    assert client.delete(_url(incident)).status_code == 405


def test_incident_full_life_over_api(agent, end_user):
    """New -> In Progress -> On Hold (awaiting caller) -> caller comments -> In Progress -> Resolved -> reopened
    -> Resolved -> Closed, every step in the journal, every illegal step 409 with nothing changed."""
    staff, caller = client_for(agent), client_for(end_user)
    number = staff.post(URL, {"short_description": "VPN drops", "caller": end_user.username}, format="json").json()[
        "number"
    ]
    url = f"{URL}{number}/"

    def illegal(client, name, body=None):
        before = client.get(url).json()
        journal_before = JournalEntry.objects.count()
        response = client.post(f"{url}{name}/", body or {}, format="json")
        assert response.status_code == 409, (name, response.json())
        assert client.get(url).json() == before
        assert JournalEntry.objects.count() == journal_before

    illegal(staff, "resume")
    illegal(staff, "close")
    illegal(staff, "reopen")
    assert staff.post(f"{url}start/", {}, format="json").json()["state"] == "in_progress"
    illegal(staff, "start")
    response = staff.post(
        f"{url}hold/", {"hold_reason": "awaiting_caller", "comment": "Which VPN client version?"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "on_hold" and response.json()["hold_reason"] == "awaiting_caller"
    assert response.json()["state_category"] == "pending_customer"
    response = caller.post(f"{url}journal/", {"kind": "comment", "body": "Version 5.2"}, format="json")
    assert response.status_code == 201
    assert staff.get(url).json()["state"] == "in_progress"
    resolve = {"close_code": "solution_provided", "close_notes": "Upgraded the client."}
    response = staff.post(f"{url}resolve/", resolve, format="json")
    assert response.status_code == 200 and response.json()["state"] == "resolved"
    assert response.json()["resolved_at"] is not None
    illegal(staff, "resolve", resolve)
    response = caller.post(f"{url}reopen/", {"comment": "Still dropping."}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "in_progress"
    assert response.json()["reopen_count"] == 1
    assert staff.post(f"{url}resolve/", resolve, format="json").status_code == 200
    response = staff.post(f"{url}close/", {}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "closed" and response.json()["state_code"] == 7
    illegal(staff, "cancel")
    illegal(staff, "reopen")

    journal = staff.get(f"{url}journal/").json()["results"]
    transitions = [(e["transition"], e["from_state"], e["to_state"]) for e in journal if e["kind"] == "transition"]
    assert transitions == [
        ("create", "", "new"),
        ("start", "new", "in_progress"),
        ("hold", "in_progress", "on_hold"),
        ("resume", "on_hold", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("reopen", "resolved", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]
    resume = next(e for e in journal if e["transition"] == "resume")
    assert resume["actor"] == end_user.username
    comments = [e["body"] for e in journal if e["kind"] == "comment"]
    assert comments == ["Which VPN client version?", "Version 5.2", "Still dropping."]


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("hold", {}, "hold_reason"),
        ("hold", {"hold_reason": "bogus"}, "hold_reason"),
        ("hold", {"hold_reason": "awaiting_caller"}, "comment"),
        ("resolve", {"close_notes": "x"}, "close_code"),
        ("resolve", {"close_code": "solution_provided"}, "close_notes"),
        ("resolve", {"close_code": "solution_provided", "close_notes": "  "}, "close_notes"),
    ],
)
def test_incident_transition_missing_fields_is_400(agent, name, body, field):
    incident = incident_in_state("in_progress", by=agent)
    response = client_for(agent).post(_url(incident, f"{name}/"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    incident.refresh_from_db()
    assert incident.state == "in_progress"


def test_incident_transition_by_end_user_is_403(end_user):
    incident = incident_factory(caller=end_user)
    response = client_for(end_user).post(_url(incident, "start/"), {}, format="json")
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "new"


def test_incident_transitions_list_per_user(agent, end_user):
    incident = incident_in_state("resolved", by=agent, caller=end_user)
    staff = {t["name"] for t in client_for(agent).get(_url(incident, "transitions/")).json()}
    assert staff == {"reopen", "close"}
    caller = client_for(end_user).get(_url(incident, "transitions/")).json()
    assert {t["name"] for t in caller} == {"reopen", "close"}
    new = incident_factory(by=agent, caller=end_user)
    assert client_for(end_user).get(_url(new, "transitions/")).json() == []
    hold = next(t for t in client_for(agent).get(_url(new, "transitions/")).json() if t["name"] == "hold")
    assert hold == {"name": "hold", "target": "on_hold", "fields": ["hold_reason", "comment"]}


def test_journal_end_user_sees_comments_only(agent, end_user):
    incident = incident_factory(by=agent, caller=end_user)
    staff = client_for(agent)
    assert (
        staff.post(_url(incident, "journal/"), {"kind": "work_note", "body": "secret"}, format="json").status_code
        == 201
    )
    assert (
        staff.post(_url(incident, "journal/"), {"kind": "comment", "body": "hello"}, format="json").status_code == 201
    )
    caller_view = client_for(end_user).get(_url(incident, "journal/")).json()["results"]
    assert [(e["kind"], e["body"]) for e in caller_view] == [("comment", "hello")]
    staff_view = staff.get(_url(incident, "journal/")).json()["results"]
    assert {e["kind"] for e in staff_view} == {"transition", "work_note", "comment"}


def test_journal_end_user_cannot_write_work_note(end_user):
    incident = incident_factory(caller=end_user)
    response = client_for(end_user).post(_url(incident, "journal/"), {"kind": "work_note", "body": "x"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()
    assert not incident.journal.filter(kind="work_note").exists()


def test_journal_blank_body_is_400(agent):
    incident = incident_factory(by=agent)
    response = client_for(agent).post(_url(incident, "journal/"), {"kind": "comment", "body": ""}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()


def test_incident_list_filters_and_search(agent, team, end_user):
    a = incident_factory(by=agent, short_description="Printer jam", assignment_group=team, caller=end_user)
    b = incident_in_state("in_progress", by=agent, short_description="Disk full on db01", impact=1, urgency=1)
    client = client_for(agent)

    def numbers(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["number"] for row in response.json()["results"]}

    assert numbers(state="in_progress") == {b.number}
    assert numbers(state=["new", "in_progress"]) == {a.number, b.number}
    assert numbers(priority=1) == {b.number}
    assert numbers(assignment_group="Service Desk") == {a.number}
    assert numbers(assignment_group=team.pk) == {a.number}
    assert numbers(caller=end_user.username) == {a.number}
    assert numbers(search="disk full") == {b.number}
    assert numbers(search=a.number) == {a.number}
    assert numbers(opened_at_after="2000-01-01T00:00:00Z") == {a.number, b.number}
    assert numbers(opened_at_before="2000-01-01T00:00:00Z") == set()
    ordered = [row["number"] for row in client.get(URL, {"ordering": "priority"}).json()["results"]]
    assert ordered == [b.number, a.number]


@pytest.mark.parametrize(
    ("param", "value"),
    [("state", "bogus"), ("assignment_group", "No Team"), ("opened_at_after", "yesterday"), ("priority", "9")],
)
def test_incident_list_bad_filter_is_400(agent, param, value):
    response = client_for(agent).get(URL, {param: value})
    assert response.status_code == 400
    assert param.removesuffix("_after") in response.json()


def test_incident_list_cursor_pagination(agent):
    for i in range(5):
        incident_factory(by=agent, short_description=f"Ticket {i}")
    client = client_for(agent)
    first = client.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    seen = {r["number"] for r in first["results"]} | {r["number"] for r in second["results"]}
    assert len(seen) == 4


def test_incident_list_query_count_constant_in_page_size(agent, team):
    other = AgentFactory()
    team.members.add(other)
    parent = incident_factory(by=agent)
    for i in range(30):
        incident_factory(by=agent, assignment_group=team, assigned_to=other, parent=parent, short_description=f"n{i}")
    client = client_for(agent)
    counts = []
    for size in (3, 30):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 6


def test_schema_is_valid_openapi_and_covers_every_endpoint(api):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = set(schema["paths"])
    for name in ("start", "hold", "resume", "resolve", "reopen", "close", "cancel", "transitions", "journal"):
        assert f"/api/v1/incidents/{{number}}/{name}/" in paths
    assert "/api/v1/auth/token/" in paths
    assert "/api/v1/incidents/" in paths
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert set(generated["paths"]) == paths


def test_api_docs_page_serves_local_assets(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 2), (2, 2, 3), (2, 3, 4), (3, 1, 3), (3, 2, 4), (3, 3, 4)],
)
def test_incident_priority_from_matrix_over_api(agent, impact, urgency, priority):
    client = client_for(agent)
    body = client.post(URL, {"short_description": "x", "impact": impact, "urgency": urgency}, format="json").json()
    assert body["priority"] == priority
    other = 3 if impact != 3 else 1
    patched = client.patch(f"{URL}{body['number']}/", {"impact": other}, format="json").json()
    assert (
        patched["priority"]
        == client.post(URL, {"short_description": "y", "impact": other, "urgency": urgency}, format="json").json()[
            "priority"
        ]
    )


def test_priority_matrix_edit_changes_new_incidents(agent):
    from itsm.models import PriorityRule

    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=3)
    body = client_for(agent).post(URL, {"short_description": "x", "impact": 3, "urgency": 3}, format="json").json()
    assert body["priority"] == 3


def test_schema_documents_error_answers(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    resolve = schema["paths"]["/api/v1/incidents/{number}/resolve/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(resolve)
    listing = schema["paths"]["/api/v1/incidents/"]["get"]["responses"]
    assert {"200", "400", "401", "403"} <= set(listing)
    params = {
        p["name"] for p in schema["paths"]["/api/v1/incidents/{number}/transitions/"]["get"].get("parameters", [])
    }
    assert params == {"number"}


def test_multiple_choice_filters_add_no_distinct(agent):
    """State and priority filters select no DISTINCT (it would sort every column of a million-row list)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident_factory(by=agent)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(agent).get(f"{URL}?state=new&state=in_progress&priority=3&priority=4")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    listed = [q["sql"] for q in queries.captured_queries if "incidents_incident" in q["sql"]]
    assert listed and not any("DISTINCT" in sql.upper() for sql in listed)
