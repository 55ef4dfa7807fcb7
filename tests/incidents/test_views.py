"""The agent workspace and the self-service portal, through the Django test client."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.enums import IncidentState
from incidents.models import Incident
from incidents.services import incident_close, incident_hold, incident_resolve, incident_start
from itsm.enums import JournalKind, Priority, Urgency
from itsm.models import JournalEntry
from itsm.services import journal_add
from tests.factories import AgentFactory, UserFactory, close_code, hold_reason, incident_factory, incident_in_state

pytestmark = pytest.mark.django_db

LIST = reverse("workspace:list", args=["incidents"])


def detail_url(incident):
    return reverse("workspace:detail", args=["incidents", incident.number])


def transition_url(incident, name):
    return reverse("workspace:transition", args=["incidents", incident.number, name])


PORTAL_VIEWS = {
    "portal_incident_detail": "incident_detail",
    "portal_comment": "incident_comment",
    "portal_accept": "incident_accept",
    "portal_reopen": "incident_reopen",
}


def portal_url(incident, view="portal_incident_detail"):
    return reverse(f"portal:{PORTAL_VIEWS[view]}", args=[incident.number])


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def user_client(client, end_user):
    client.force_login(end_user)
    return client


def refreshed(incident):
    return Incident.objects.get(pk=incident.pk)


# --- home, login, health ----------------------------------------------------------------------------------------


def test_home_redirects_agent_to_workspace(agent_client):
    assert agent_client.get("/").url == "/workspace/"


def test_home_redirects_end_user_to_portal(user_client):
    assert user_client.get("/").url == "/portal/"


def test_home_anonymous_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_then_logout_by_post(client, agent):
    response = client.post(reverse("login"), {"username": "agent_a", "password": "pw"})
    assert response.status_code == 302
    assert client.get(LIST).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(LIST).status_code == 302


def test_healthz_says_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


# --- workspace list ---------------------------------------------------------------------------------------------


def test_incident_list_renders_for_agent(agent_client, agent):
    incident = incident_factory(by=agent, short_description="Mail is down")
    response = agent_client.get(LIST)
    assert response.status_code == 200
    assert incident.number in response.content.decode()
    assert "Mail is down" in response.content.decode()


def test_incident_list_end_user_gets_404(user_client):
    assert user_client.get(LIST).status_code == 404


def test_incident_list_anonymous_redirects_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_workspace_root_redirects_to_my_work(agent_client):
    assert agent_client.get("/workspace/").url == "/workspace/tickets/?queue=mine"


def test_incident_list_filters_by_state(agent_client, agent):
    new = incident_factory(by=agent, short_description="Still new")
    started = incident_start(incident=incident_factory(by=agent, short_description="Being worked"), by=agent)
    body = agent_client.get(LIST, {"state": IncidentState.IN_PROGRESS}).content.decode()
    assert started.number in body
    assert new.number not in body


def test_incident_list_filters_by_priority(agent_client, agent):
    high = incident_factory(by=agent, impact=1, urgency=1)
    low = incident_factory(by=agent)
    body = agent_client.get(LIST, {"priority": Priority.CRITICAL}).content.decode()
    assert high.number in body
    assert low.number not in body


def test_incident_list_text_search(agent_client, agent):
    vpn = incident_factory(by=agent, short_description="VPN drops every hour")
    other = incident_factory(by=agent, short_description="Printer jam")
    body = agent_client.get(LIST, {"q": "vpn"}).content.decode()
    assert vpn.number in body
    assert other.number not in body
    body = agent_client.get(LIST, {"q": other.number}).content.decode()
    assert other.number in body
    assert vpn.number not in body


def test_incident_list_filters_by_group_and_assignee(agent_client, agent, team, other_agent):
    mine = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    unassigned = incident_factory(by=agent)
    body = agent_client.get(LIST, {"assigned_to": "agent_a"}).content.decode()
    assert mine.number in body
    assert unassigned.number not in body
    body = agent_client.get(LIST, {"assignment_group": team.pk}).content.decode()
    assert mine.number in body
    assert unassigned.number not in body
    body = agent_client.get(LIST, {"unassigned": "true"}).content.decode()
    assert unassigned.number in body
    assert mine.number not in body


def test_incident_list_quick_queues(agent_client, agent, team):
    mine = incident_factory(by=agent, assignment_group=team, assigned_to=agent)
    team_unassigned = incident_factory(by=agent, assignment_group=team)
    elsewhere = incident_factory(by=agent)
    body = agent_client.get(LIST, {"queue": "mine"}).content.decode()
    assert mine.number in body
    assert team_unassigned.number not in body
    body = agent_client.get(LIST, {"queue": "my_teams"}).content.decode()
    assert mine.number in body and team_unassigned.number in body
    assert elsewhere.number not in body
    body = agent_client.get(LIST, {"queue": "unassigned"}).content.decode()  # unassigned in my teams
    assert team_unassigned.number in body
    assert elsewhere.number not in body and mine.number not in body


def test_incident_list_bad_filter_shows_error_not_500(agent_client, agent):
    incident_factory(by=agent)
    response = agent_client.get(LIST, {"assigned_to": "nobody-here", "priority": "9", "sort": "evil", "page": "x"})
    assert response.status_code == 200
    assert "No such record" in response.content.decode()


def test_incident_list_sorts(agent_client, agent):
    first = incident_factory(by=agent, short_description="aaa first")
    second = incident_factory(by=agent, short_description="zzz second")
    body = agent_client.get(LIST, {"sort": "number"}).content.decode()
    assert body.index(first.number) < body.index(second.number)
    body = agent_client.get(LIST, {"sort": "-short_description"}).content.decode()
    assert body.index(second.number) < body.index(first.number)


def test_incident_list_htmx_returns_table_partial(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.get(LIST, {"q": incident.number}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="ticket-table"' in body
    assert "<html" not in body
    assert incident.number in body
    assert "HX-Request" in response["Vary"]


def test_incident_list_pages(agent_client, agent):
    for _ in range(27):
        incident_factory(by=agent)
    response = agent_client.get(LIST)
    page = response.context["page"]
    assert len(page.rows) == 25 and page.next_cursor and not page.prev_cursor
    second = agent_client.get(LIST, {"cursor": page.next_cursor}).context["page"]
    assert len(second.rows) == 2 and not second.next_cursor and second.prev_cursor
    assert not {r.pk for r in page.rows} & {r.pk for r in second.rows}
    back = agent_client.get(LIST, {"cursor": second.prev_cursor}).context["page"]
    assert [r.pk for r in back.rows] == [r.pk for r in page.rows]


def test_incident_list_escapes_user_text(agent_client, agent):
    incident_factory(by=agent, short_description="<script>alert(1)</script>")
    body = agent_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def _list_queries(client, path, params=None) -> int:
    cache.clear()  # the sidebar's counts are cached for a few seconds: count them every time here
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _many_incidents(count, agent, team, caller):
    for index in range(count):
        incident_factory(
            by=agent,
            caller=caller if index % 2 else UserFactory(),
            assignment_group=team,
            assigned_to=agent if index % 3 else None,
            short_description=f"Incident {index}",
        )


def test_incident_list_query_count_does_not_grow(agent_client, agent, team, end_user):
    _many_incidents(5, agent, team, end_user)
    small = _list_queries(agent_client, LIST, {"per_page": 100})
    _many_incidents(45, agent, team, end_user)
    large = _list_queries(agent_client, LIST, {"per_page": 100})
    assert large == small
    # session, user, roles, rows, their clocks, the capped count, the sidebar (team ids, three queue counts, one
    # count per registered practice), saved filters and the filter bar's options: none of it grows with the rows.
    assert large <= 24


# --- workspace detail -------------------------------------------------------------------------------------------


def test_incident_detail_renders(agent_client, agent):
    incident = incident_factory(by=agent, short_description="Laptop will not boot", description="Black screen")
    response = agent_client.get(detail_url(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert incident.number in body
    assert "Laptop will not boot" in body
    assert "Black screen" in body
    for name in ("start", "hold", "resolve", "cancel"):
        assert f'data-transition="{name}"' in body
    assert 'data-transition="close"' not in body


def test_incident_detail_auto_closed_shows_system(agent_client, agent):
    incident = incident_in_state("resolved", by=agent)
    incident_close(incident=incident, by=None)
    response = agent_client.get(detail_url(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert "System" in body
    assert "Closed" in body


def test_incident_detail_sla_entry_renders_as_system_item(agent_client, agent):
    incident = incident_factory(by=agent)
    journal_add(ticket=incident, actor=None, kind=JournalKind.SLA, body="SLA 'Resolve P3' reached 50%")
    response = agent_client.get(detail_url(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="entry entry-compact entry-sla"' in body
    assert "SLA &#x27;Resolve P3&#x27; reached 50%" in body
    assert "opened the incident" in body  # the creation transition is still its own item
    assert body.count("opened the incident") == 1


def test_incident_detail_end_user_gets_404(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    assert user_client.get(detail_url(incident)).status_code == 404


def test_incident_detail_unknown_number_404(agent_client):
    assert agent_client.get("/workspace/incidents/INC9999999/").status_code == 404


def test_transition_start(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(transition_url(incident, "start"))
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.IN_PROGRESS


def test_transition_hold_awaiting_caller_requires_comment(agent_client, agent):
    incident = incident_factory(by=agent)
    reason = hold_reason("awaiting_caller")
    response = agent_client.post(transition_url(incident, "hold"), {"hold_reason": reason.slug, "comment": ""})
    assert response.status_code == 400
    assert "Tell the caller what you are waiting for." in response.content.decode()
    assert refreshed(incident).state == IncidentState.NEW

    response = agent_client.post(transition_url(incident, "hold"), {"hold_reason": reason.slug, "comment": "Which PC?"})
    assert response.status_code == 302
    incident = refreshed(incident)
    assert incident.state == IncidentState.ON_HOLD
    assert incident.hold_reason == reason
    assert JournalEntry.objects.filter(ticket=incident, kind=JournalKind.COMMENT, body="Which PC?").exists()


def test_transition_hold_without_reason_is_a_form_error(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(transition_url(incident, "hold"), {"hold_reason": "", "comment": "x"})
    assert response.status_code == 400
    assert refreshed(incident).state == IncidentState.NEW


def test_transition_resume(agent_client, agent):
    incident = incident_hold(incident=incident_factory(by=agent), by=agent, reason=hold_reason("awaiting_vendor"))
    assert agent_client.post(transition_url(incident, "resume")).status_code == 302
    assert refreshed(incident).state == IncidentState.IN_PROGRESS


def test_transition_resolve(agent_client, agent):
    incident = incident_start(incident=incident_factory(by=agent), by=agent)
    response = agent_client.post(
        transition_url(incident, "resolve"), {"close_code": close_code().slug, "close_notes": "Replaced the toner."}
    )
    assert response.status_code == 302
    incident = refreshed(incident)
    assert incident.state == IncidentState.RESOLVED
    assert incident.close_notes == "Replaced the toner."


def test_transition_resolve_without_notes_shows_form_error(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(transition_url(incident, "resolve"), {"close_code": close_code().slug})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert refreshed(incident).state == IncidentState.NEW


def test_transition_reopen_and_close(agent_client, agent):
    incident = incident_factory(by=agent)
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="done")
    response = agent_client.post(transition_url(incident, "reopen"), {"comment": "It broke again"})
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.IN_PROGRESS

    incident = refreshed(incident)
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="done again")
    assert agent_client.post(transition_url(incident, "close")).status_code == 302
    assert refreshed(incident).state == IncidentState.CLOSED


def test_transition_cancel(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(transition_url(incident, "cancel"), {"reason": "Duplicate of another"})
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.CANCELED
    assert JournalEntry.objects.filter(ticket=incident, transition="cancel", body="Duplicate of another").exists()


def test_transition_not_allowed_shows_error_and_changes_nothing(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(transition_url(incident, "close"))
    assert response.status_code == 409
    assert "is not possible now" in response.content.decode()
    assert refreshed(incident).state == IncidentState.NEW
    response = agent_client.post(transition_url(incident, "reopen"), {"comment": "x"})
    assert response.status_code == 409
    assert refreshed(incident).state == IncidentState.NEW


def test_transition_unknown_name_404(agent_client, agent):
    incident = incident_factory(by=agent)
    assert agent_client.post(transition_url(incident, "delete")).status_code == 404


def test_transition_needs_post(agent_client, agent):
    incident = incident_factory(by=agent)
    assert agent_client.get(transition_url(incident, "start")).status_code == 405
    assert refreshed(incident).state == IncidentState.NEW


def test_transition_by_end_user_404(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    assert user_client.post(transition_url(incident, "start")).status_code == 404
    assert refreshed(incident).state == IncidentState.NEW


def test_comment_and_work_note(agent_client, agent):
    incident = incident_factory(by=agent)
    url = reverse("workspace:comment", args=["incidents", incident.number])
    assert agent_client.post(url, {"kind": "comment", "body": "We are on it"}).status_code == 302
    assert agent_client.post(url, {"kind": "work_note", "body": "Checked the logs"}).status_code == 302
    kinds = dict(JournalEntry.objects.filter(ticket=incident).values_list("body", "kind"))
    assert kinds["We are on it"] == JournalKind.COMMENT
    assert kinds["Checked the logs"] == JournalKind.WORK_NOTE
    body = agent_client.get(detail_url(incident)).content.decode()
    assert "We are on it" in body and "Checked the logs" in body
    assert "entry-work_note" in body


def test_comment_blank_is_a_form_error(agent_client, agent):
    incident = incident_factory(by=agent)
    url = reverse("workspace:comment", args=["incidents", incident.number])
    response = agent_client.post(url, {"kind": "comment", "body": "   "})
    assert response.status_code == 400
    assert not JournalEntry.objects.filter(ticket=incident, kind=JournalKind.COMMENT).exists()


def _fields(incident, **changes):
    data = {
        "short_description": incident.short_description,
        "description": incident.description,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "assignment_group": incident.assignment_group_id or "",
        "assigned_to": incident.assigned_to_id or "",
        "service": incident.service_id or "",
        "configuration_item": "",
    }
    data.update(changes)
    return data


def test_field_edit_saves_and_journals(agent_client, agent, team):
    incident = incident_factory(by=agent)
    response = agent_client.post(
        detail_url(incident), _fields(incident, urgency=1, assignment_group=team.pk, assigned_to=agent.pk)
    )
    assert response.status_code == 302
    incident = refreshed(incident)
    assert incident.urgency == Urgency.HIGH
    assert incident.assigned_to == agent
    assert JournalEntry.objects.filter(ticket=incident, kind=JournalKind.FIELD_CHANGE, field="urgency").exists()
    body = agent_client.get(detail_url(incident)).content.decode()
    assert "3 - Low" in body and "1 - High" in body  # urgency: old -> new in the timeline


def test_field_edit_bad_data_shows_form_error(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(detail_url(incident), _fields(incident, impact=9, short_description=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert "This field is required." in body
    assert refreshed(incident).short_description == incident.short_description


def test_field_edit_service_rule_shows_on_field(agent_client, agent, other_agent, team):
    incident = incident_factory(by=agent)
    response = agent_client.post(
        detail_url(incident), _fields(incident, assignment_group=team.pk, assigned_to=other_agent.pk)
    )
    assert response.status_code == 400
    assert "is not a member of" in response.content.decode()
    assert refreshed(incident).assigned_to is None


def test_field_edit_unknown_ci_is_a_form_error(agent_client, agent):
    incident = incident_factory(by=agent)
    response = agent_client.post(detail_url(incident), _fields(incident, configuration_item="no-such-ci"))
    assert response.status_code == 400
    assert "No such record" in response.content.decode()


def test_create_incident(agent_client, agent, end_user, team):
    response = agent_client.post(
        reverse("incidents:incident_create"),
        {
            "short_description": "Cannot log in",
            "caller": "enduser_a",
            "description": "",
            "impact": 2,
            "urgency": 2,
            "assignment_group": team.pk,
            "assigned_to": agent.pk,
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(short_description="Cannot log in")
    assert response.url == detail_url(incident)
    assert incident.caller == end_user
    assert incident.opened_by == agent


def test_create_incident_bad_caller_is_a_form_error(agent_client):
    response = agent_client.post(
        reverse("incidents:incident_create"),
        {"short_description": "x", "caller": "ghost", "impact": 3, "urgency": 3},
    )
    assert response.status_code == 400
    assert "No such record" in response.content.decode()
    assert not Incident.objects.exists()


# --- portal -----------------------------------------------------------------------------------------------------


def test_portal_home_anonymous_redirects(client):
    response = client.get(reverse("portal:tickets"))
    assert response.status_code == 302


def test_portal_report_and_see_it(user_client, end_user):
    response = user_client.post(
        reverse("portal:report"),
        {"short_description": "My screen flickers", "description": "Since Monday", "urgency": 2, "service": ""},
    )
    assert response.status_code == 302
    incident = Incident.objects.get(short_description="My screen flickers")
    assert incident.caller == end_user
    assert incident.urgency == Urgency.MEDIUM
    assert response.url == portal_url(incident)
    assert "My screen flickers" in user_client.get(reverse("portal:tickets")).content.decode()
    detail = user_client.get(portal_url(incident))
    assert detail.status_code == 200
    assert incident.number in detail.content.decode()


def test_portal_report_blank_is_a_form_error(user_client):
    response = user_client.post(reverse("portal:report"), {"short_description": "", "urgency": 3})
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_portal_other_users_incident_404(user_client, other_end_user, agent):
    incident = incident_factory(by=agent, caller=other_end_user)
    assert user_client.get(portal_url(incident)).status_code == 404
    assert user_client.post(portal_url(incident, "portal_comment"), {"body": "hi"}).status_code == 404
    assert user_client.post(portal_url(incident, "portal_accept")).status_code == 404
    assert incident.number not in user_client.get(reverse("portal:tickets") + "?show=all").content.decode()


def test_portal_for_agent_shows_only_own_incidents(agent_client, agent, end_user):
    someone_elses = incident_factory(by=agent, caller=end_user)
    own = incident_factory(by=agent, caller=agent)
    body = agent_client.get(reverse("portal:tickets")).content.decode()
    assert own.number in body
    assert someone_elses.number not in body
    assert agent_client.get(portal_url(someone_elses)).status_code == 404


def test_portal_shows_public_comments_only(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    from incidents.services import incident_comment

    incident_comment(incident=incident, by=agent, body="Public answer", kind=JournalKind.COMMENT)
    incident_comment(incident=incident, by=agent, body="Secret note", kind=JournalKind.WORK_NOTE)
    body = user_client.get(portal_url(incident)).content.decode()
    assert "Public answer" in body
    assert "Secret note" not in body


def test_portal_auto_closed_hides_system_entries(user_client, end_user, agent):
    incident = incident_in_state("resolved", by=agent, caller=end_user)
    incident_close(incident=incident, by=None)
    journal_add(ticket=incident, actor=None, kind=JournalKind.SLA, body="SLA 'Resolve P3' reached 50%")
    response = user_client.get(portal_url(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert "reached 50%" not in body


def test_portal_comment_resumes_incident_awaiting_caller(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_caller"), comment="Which floor?")
    body = user_client.get(portal_url(incident)).content.decode()
    assert "Waiting for your reply" in body
    response = user_client.post(portal_url(incident, "portal_comment"), {"body": "Floor 3"})
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.IN_PROGRESS
    assert "Floor 3" in user_client.get(portal_url(incident)).content.decode()


def test_portal_blank_comment_is_a_form_error(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    response = user_client.post(portal_url(incident, "portal_comment"), {"body": ""})
    assert response.status_code == 400


def test_portal_accept_solution_closes(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Rebooted the router")
    body = user_client.get(portal_url(incident)).content.decode()
    assert "Rebooted the router" in body and "Accept solution" in body
    response = user_client.post(portal_url(incident, "portal_accept"))
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.CLOSED


def test_portal_accept_when_not_resolved_changes_nothing(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    response = user_client.post(portal_url(incident, "portal_accept"))
    assert response.status_code == 409
    assert refreshed(incident).state == IncidentState.NEW


def test_portal_still_not_working_reopens(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Rebooted")
    response = user_client.post(portal_url(incident, "portal_reopen"), {"comment": ""})
    assert response.status_code == 400
    assert refreshed(incident).state == IncidentState.RESOLVED
    response = user_client.post(portal_url(incident, "portal_reopen"), {"comment": "Still flickers"})
    assert response.status_code == 302
    assert refreshed(incident).state == IncidentState.IN_PROGRESS
    assert JournalEntry.objects.filter(ticket=incident, kind=JournalKind.COMMENT, body="Still flickers").exists()


def test_portal_closed_incident_refuses_comment(user_client, end_user, agent):
    incident = incident_factory(by=agent, caller=end_user)
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="x")
    user_client.post(portal_url(incident, "portal_accept"))
    response = user_client.post(portal_url(incident, "portal_comment"), {"body": "one more thing"})
    assert response.status_code == 409
    assert not JournalEntry.objects.filter(ticket=incident, body="one more thing").exists()


def test_portal_home_query_count_does_not_grow(user_client, end_user, agent, team):
    agents = [agent, AgentFactory()]
    for index in range(5):
        incident_factory(by=agents[index % 2], caller=end_user)
    small = _list_queries(user_client, reverse("portal:tickets"), {"show": "all"})
    for index in range(15):
        incident_factory(by=agents[index % 2], caller=end_user)
    hold = incident_factory(by=agent, caller=end_user)
    incident_hold(incident=hold, by=agent, reason=hold_reason("awaiting_caller"), comment="?")
    large = _list_queries(user_client, reverse("portal:tickets"), {"show": "all"})
    assert large == small


def test_detail_and_portal_escape_user_text(agent_client, client, agent, end_user):
    evil = '<img src=x onerror="alert(1)">'
    incident = incident_factory(by=agent, caller=end_user, short_description=evil, description=evil)
    from incidents.services import incident_comment

    incident_comment(incident=incident, by=end_user, body=evil, kind=JournalKind.COMMENT)
    body = agent_client.get(detail_url(incident)).content.decode()
    assert evil not in body
    assert "&lt;img src=x" in body
    client.force_login(end_user)
    body = client.get(portal_url(incident)).content.decode()
    assert evil not in body
    assert "&lt;img src=x" in body
