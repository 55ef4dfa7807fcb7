"""Suite 2, mass assignment: an end user cannot set state, priority, assignment, caller or any other staff-only
field through the API, the portal forms or e-mail, and nobody below a superuser can grant themselves more rights.

Each case sends the forbidden field with a value that would matter and checks the database afterwards: either the
request is refused naming the field (and nothing was created or changed) or the field was ignored.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.contrib.auth.models import Group, User

from incidents.models import Incident
from itsm.enums import Role
from tests.conftest import client_for
from tests.factories import AgentFactory, TeamFactory, UserFactory, incident_factory, problem_factory
from tests.security.conftest import report

pytestmark = pytest.mark.django_db

TRIED = {"fields": 0}


@pytest.fixture
def desk(db, end_user, other_end_user):
    team = TeamFactory(name="Desk team")
    agent = AgentFactory(username="desk_agent")
    team.members.add(agent)
    parent = incident_factory(by=agent, caller=other_end_user)
    return {"team": team, "agent": agent, "parent": parent, "problem": problem_factory(by=agent)}


def _forbidden_values(desk, other_end_user) -> dict[str, object]:
    return {
        "state": "resolved",
        "state_code": 6,
        "priority": 1,
        "caller": other_end_user.username,
        "assignment_group": desk["team"].name,
        "assigned_to": desk["agent"].username,
        "parent": desk["parent"].number,
        "major_incident": True,
        "problem": desk["problem"].number,
        "hold_reason": "awaiting_vendor",
        "close_code": "solution_provided",
        "close_notes": "done",
        "opened_by": desk["agent"].username,
        "number": "INC9999999",
        "active": False,
        "reopen_count": 7,
        "opened_at": "2020-01-01T00:00:00Z",
    }


FIELDS = [
    "state",
    "state_code",
    "priority",
    "caller",
    "assignment_group",
    "assigned_to",
    "parent",
    "major_incident",
    "problem",
    "hold_reason",
    "close_code",
    "close_notes",
    "opened_by",
    "number",
    "active",
    "reopen_count",
    "opened_at",
]


@pytest.mark.parametrize("field", FIELDS)
def test_end_user_create_cannot_set_staff_fields(desk, end_user, other_end_user, field):
    value = _forbidden_values(desk, other_end_user)[field]
    before = Incident.objects.count()
    response = client_for(end_user).post(
        "/api/v1/incidents/", {"short_description": "Printer jam", field: value}, format="json"
    )
    TRIED["fields"] += 1
    if response.status_code == 400:
        assert field in response.json(), response.json()
        assert Incident.objects.count() == before
        return
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(number=response.json()["number"])
    # Accepted only by ignoring the field: the record is what any end user's new incident is.
    assert incident.caller == end_user and incident.opened_by == end_user
    assert incident.state == "new" and incident.active and incident.reopen_count == 0
    assert incident.assignment_group is None and incident.assigned_to is None
    assert incident.parent is None and not incident.major_incident and incident.problem is None
    assert incident.number != "INC9999999" and incident.opened_at.year > 2020


@pytest.mark.parametrize("field", [*FIELDS, "short_description", "impact"])
def test_end_user_cannot_patch_their_own_incident(desk, end_user, other_end_user, field):
    incident = incident_factory(by=desk["agent"], caller=end_user, short_description="Mine")
    values = {**_forbidden_values(desk, other_end_user), "short_description": "Changed", "impact": 1}
    before = Incident.objects.filter(pk=incident.pk).values().get()
    response = client_for(end_user).patch(
        f"/api/v1/incidents/{incident.number}/", {field: values[field]}, format="json"
    )
    TRIED["fields"] += 1
    assert response.status_code in (400, 403), response.content
    assert Incident.objects.filter(pk=incident.pk).values().get() == before


def test_agent_cannot_set_a_transition_owned_field(desk):
    incident = incident_factory(by=desk["agent"], caller=UserFactory())
    for field, value in [("state", "resolved"), ("priority", 1), ("close_code", "solution_provided")]:
        response = client_for(desk["agent"]).patch(
            f"/api/v1/incidents/{incident.number}/", {field: value}, format="json"
        )
        assert response.status_code == 400 and field in response.json()
    incident.refresh_from_db()
    assert incident.state == "new"


REQUEST_FIELDS = {
    "state": "closed",
    "active": False,
    "close_code": "fulfilled",
    "close_notes": "done",
    "rejection_reason": "no",
    "quantity": 3,
    "variables": {"model": "Developer"},
    "caller": "enduser_b",
    "assignment_group": "Desk team",
    "assigned_to": "desk_agent",
    "short_description": "Changed",
    "due_date": "2020-01-01T00:00:00Z",
    "number": "RITM9999999",
}


@pytest.mark.parametrize("field", sorted(REQUEST_FIELDS))
def test_end_user_cannot_patch_their_own_requested_item(desk, end_user, field):
    from requests_app.models import RequestedItem
    from tests.factories.requests import laptop_item, order, ritm_of

    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    before = RequestedItem.objects.filter(pk=ritm.pk).values().get()
    response = client_for(end_user).patch(
        f"/api/v1/requested-items/{ritm.number}/", {field: REQUEST_FIELDS[field]}, format="json"
    )
    TRIED["fields"] += 1
    assert response.status_code == 403, response.content
    assert RequestedItem.objects.filter(pk=ritm.pk).values().get() == before


@pytest.mark.parametrize("field", ["state", "active", "close_code", "close_notes", "rejection_reason", "quantity"])
def test_agent_cannot_set_a_transition_owned_field_of_a_request(desk, end_user, field):
    from requests_app.models import FulfilmentTask, RequestedItem
    from tests.factories.requests import laptop_item, order, ritm_of

    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    task = ritm.tasks.get()
    before = RequestedItem.objects.filter(pk=ritm.pk).values().get()
    response = client_for(desk["agent"]).patch(
        f"/api/v1/requested-items/{ritm.number}/", {field: REQUEST_FIELDS[field]}, format="json"
    )
    TRIED["fields"] += 1
    assert response.status_code == 400 and field in response.json(), response.content
    assert RequestedItem.objects.filter(pk=ritm.pk).values().get() == before
    if field in ("state", "active", "close_notes"):
        task_before = FulfilmentTask.objects.filter(pk=task.pk).values().get()
        response = client_for(desk["agent"]).patch(
            f"/api/v1/fulfilment-tasks/{task.number}/", {field: REQUEST_FIELDS[field]}, format="json"
        )
        assert response.status_code == 400 and field in response.json(), response.content
        assert FulfilmentTask.objects.filter(pk=task.pk).values().get() == task_before


def test_work_note_kind_refused_to_end_users(desk, end_user):
    incident = incident_factory(by=desk["agent"], caller=end_user)
    response = client_for(end_user).post(
        f"/api/v1/incidents/{incident.number}/journal/", {"kind": "work_note", "body": "x"}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()
    private = client_for(end_user).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": _text_file(), "public": "false"},
        format="multipart",
    )
    assert private.status_code == 400 and "public" in private.json()


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notes.txt", b"plain words")


def test_portal_report_ignores_staff_fields(desk, end_user, other_end_user, client):
    client.force_login(end_user)
    extra = _forbidden_values(desk, other_end_user)
    response = client.post(
        "/portal/report/", {"short_description": "Screen flickers", "description": "Since today", "urgency": 3, **extra}
    )
    assert response.status_code == 302, response.content[:500]
    incident = Incident.objects.get(short_description="Screen flickers")
    assert incident.caller == end_user and incident.state == "new"
    assert incident.assignment_group is None and incident.assigned_to is None and not incident.major_incident
    assert incident.priority != 1 and incident.parent is None


def test_portal_comment_cannot_become_a_work_note(desk, end_user, client):
    incident = incident_factory(by=desk["agent"], caller=end_user)
    client.force_login(end_user)
    client.post(f"/portal/incidents/{incident.number}/comment/", {"body": "hello", "kind": "work_note"})
    kinds = set(incident.journal.filter(body__contains="hello").values_list("kind", flat=True))
    assert kinds <= {"comment"}


def test_email_cannot_set_fields_or_reach_foreign_tickets(desk, end_user, other_end_user):
    from mail.inbound import email_ingest
    from mail.models import Mailbox

    mailbox = Mailbox.objects.create(name="Desk", address="desk@example.com")
    msg = EmailMessage()
    msg["From"] = end_user.email
    msg["To"] = mailbox.address
    msg["Subject"] = f"Re: [{desk['parent'].number}] urgent"
    msg["Message-ID"] = "<mass-assignment@example.org>"
    msg["X-Priority"] = "1 (Highest)"
    msg["Importance"] = "high"
    msg.set_content(
        f"priority: 1\nassigned_to: {desk['agent'].username}\nstate: resolved\ncaller: {other_end_user.username}\n"
    )
    outcome = email_ingest(raw=msg.as_bytes(), mailbox=mailbox)
    ticket = outcome.record.ticket
    assert ticket is not None and ticket.pk != desk["parent"].pk  # not appended to someone else's incident
    incident = Incident.objects.get(pk=ticket.pk)
    assert incident.caller == end_user and incident.state == "new" and incident.assigned_to is None
    assert incident.priority != 1 and incident.assignment_group is None
    assert not desk["parent"].journal.filter(body__contains="priority: 1").exists()


# --- roles ----------------------------------------------------------------------------------------------------------


def _user_change_form(target: User, **overrides) -> dict:
    data = {
        "username": target.username,
        "first_name": target.first_name,
        "last_name": target.last_name,
        "email": target.email,
        "is_active": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "groups": [g.pk for g in target.groups.all()],
    }
    data.update(overrides)
    return data


def test_team_manager_cannot_grant_themselves_a_role(client, db):
    """Staff with team rights only: the user admin is closed to them."""
    manager = UserFactory(username="manager", role=Role.TEAM_MANAGER, is_staff=True)
    admins = Group.objects.get_or_create(name=Role.ADMIN)[0]
    client.force_login(manager)
    response = client.post(
        f"/admin/auth/user/{manager.pk}/change/", _user_change_form(manager, groups=[admins.pk], is_superuser="on")
    )
    assert response.status_code == 403
    manager.refresh_from_db()
    assert not manager.is_superuser and not manager.groups.filter(name=Role.ADMIN).exists()


def test_agent_cannot_reach_the_user_admin(client, desk):
    client.force_login(desk["agent"])
    response = client.post(
        f"/admin/auth/user/{desk['agent'].pk}/change/", _user_change_form(desk["agent"], is_superuser="on")
    )
    assert response.status_code == 302 and "login" in response["Location"]
    desk["agent"].refresh_from_db()
    assert not desk["agent"].is_superuser and not desk["agent"].is_staff


def test_admin_role_cannot_make_itself_superuser_or_edit_a_superuser(client, db):
    """The Admins role manages role membership, but superuser status, single permissions and superusers' accounts
    belong to superusers."""
    admin = UserFactory(username="desk_admin", role=Role.ADMIN, is_staff=True)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/auth/user/{admin.pk}/change/")
    assert page.status_code == 200
    response = client.post(f"/admin/auth/user/{admin.pk}/change/", _user_change_form(admin, is_superuser="on"))
    assert response.status_code in (200, 302)
    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.user_permissions.exists()
    # A superuser's account is shown read-only to the Admins role; changing it is refused.
    demote = client.post(
        f"/admin/auth/user/{superuser.pk}/change/", _user_change_form(superuser, email="mallory@example.com")
    )
    assert demote.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_superuser and superuser.email != "mallory@example.com"
    password = client.post(
        f"/admin/auth/user/{superuser.pk}/password/",
        {"password1": "Taken-0ver!x", "password2": "Taken-0ver!x", "usable_password": "true"},
    )
    assert password.status_code == 403
    superuser.refresh_from_db()
    assert not superuser.check_password("Taken-0ver!x")
    report("mass assignment", f"{TRIED['fields']} forbidden field writes tried through the API, plus portal and mail")
