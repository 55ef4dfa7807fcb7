"""PATCH of requested items and fulfilment tasks: agents change the assignment, wording, due date (and a task's
instructions) through the services, one journal entry per changed field; transition-owned fields are 400 naming the
transition; end users 403 on their own item and 404 on anyone else's; stale If-Match 412; nothing changes on refusal."""

import pytest

from itsm.enums import JournalKind
from itsm.models import JournalEntry, Ticket
from requests_app.enums import RequestedItemState as R
from requests_app.models import FulfilmentTask, RequestedItem
from tests.conftest import client_for
from tests.factories.requests import laptop_item, order, ritm_in_state, ritm_of

pytestmark = pytest.mark.django_db

RITMS = "/api/v1/requested-items/"
TASKS = "/api/v1/fulfilment-tasks/"


@pytest.fixture
def ritm(end_user):
    return ritm_of(order(end_user, laptop_item(approval=False)))


@pytest.fixture
def task(ritm):
    return ritm.tasks.get()


def snapshot(record):
    return type(record).objects.filter(pk=record.pk).values().get()


def test_agent_patches_an_item_and_each_change_is_journaled(ritm, agent, team):
    client = client_for(agent)
    etag = client.get(f"{RITMS}{ritm.number}/")["ETag"]
    body = {
        "assignment_group": team.name,
        "assigned_to": agent.username,
        "short_description": "Laptop for the new starter",
        "description": "Needed on Monday.",
        "due_date": "2026-12-01T09:00:00Z",
    }
    response = client.patch(f"{RITMS}{ritm.number}/", body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["assignment_group"] == team.name and data["assigned_to"] == agent.username
    assert data["short_description"] == "Laptop for the new starter" and data["due_date"] == "2026-12-01T09:00:00Z"
    assert response["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'  # one version for the whole PATCH
    ritm.refresh_from_db()
    assert ritm.assigned_to == agent and ritm.description == "Needed on Monday." and ritm.due_date.day == 1
    changes = JournalEntry.objects.filter(ticket=ritm, kind=JournalKind.FIELD_CHANGE)
    assert sorted(changes.values_list("field", flat=True)) == sorted(body)
    assert set(changes.values_list("actor", flat=True)) == {agent.pk}
    assert changes.get(field="assignment_group").old_value == "Hardware"


def test_agent_patches_a_task_instructions_and_due_date(task, agent):
    response = client_for(agent).patch(
        f"{TASKS}{task.number}/",
        {"instructions": "Image with the developer profile.", "due_date": "2026-12-02T12:00:00Z"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["instructions"] == "Image with the developer profile."
    task.refresh_from_db()
    assert task.instructions == "Image with the developer profile." and task.due_date.day == 2
    assert set(task.journal.filter(kind=JournalKind.FIELD_CHANGE).values_list("field", flat=True)) == {
        "instructions",
        "due_date",
    }


def test_sending_back_what_a_get_returned_changes_only_what_differs(ritm, agent):
    client = client_for(agent)
    body = client.get(f"{RITMS}{ritm.number}/").json()
    body["short_description"] = "Reworded"
    # Computed values move between the GET and the PATCH (a running clock's time left): they are not compared.
    assert "sla_clocks" in body
    body["sla_clocks"] = [{"definition": "as read a second earlier", "remaining_seconds": 3599}]
    response = client.patch(f"{RITMS}{ritm.number}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert list(ritm.journal.filter(kind=JournalKind.FIELD_CHANGE).values_list("field", flat=True)) == [
        "short_description"
    ]


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("state", "closed", "cancel/ or close/"),
        ("active", False, "cancel/ or close/"),
        ("close_code", "fulfilled", "close_complete/"),
        ("close_notes", "done", "close_complete/"),
        ("rejection_reason", "no", "reject/"),
        ("approval", "approved", "approve/ or reject/"),
        ("quantity", 3, "order again"),
        ("variables", {"model": "Developer"}, "order again"),
        ("caller", "enduser_b", "cannot be changed"),
        ("service", "Email", "cannot be changed"),
    ],
)
def test_item_fields_owned_elsewhere_are_400_naming_them(ritm, agent, field, value, names):
    before = snapshot(ritm)
    response = client_for(agent).patch(
        f"{RITMS}{ritm.number}/", {field: value, "short_description": "Changed"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field] and names in response.json()[field][0]
    assert snapshot(ritm) == before
    assert not ritm.journal.filter(kind=JournalKind.FIELD_CHANGE).exists()


@pytest.mark.parametrize(("field", "value"), [("state", "closed_complete"), ("close_notes", "x"), ("position", 9)])
def test_task_fields_owned_elsewhere_are_400_naming_them(task, agent, field, value):
    before = snapshot(task)
    response = client_for(agent).patch(f"{TASKS}{task.number}/", {field: value}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert snapshot(task) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assigned_to": "agent_b"}, "assigned_to"),  # an agent, but not of the item's group
        ({"assigned_to": "enduser_a"}, "assigned_to"),
        ({"assignment_group": "No such team"}, "assignment_group"),
        ({"short_description": ""}, "short_description"),
        ({"short_description": "x" * 161}, "short_description"),
        ({"description": "x" * 20001}, "description"),
        ({"due_date": "next week"}, "due_date"),
    ],
)
def test_bad_values_are_400_naming_the_field(ritm, agent, other_agent, body, field):
    before = snapshot(ritm)
    response = client_for(agent).patch(f"{RITMS}{ritm.number}/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert snapshot(ritm) == before


def test_end_user_patch_is_403_on_their_own_item_and_404_elsewhere(ritm, task, end_user, other_end_user):
    before = snapshot(ritm)
    own = client_for(end_user).patch(f"{RITMS}{ritm.number}/", {"short_description": "Mine"}, format="json")
    assert own.status_code == 403
    # Even a transition-owned field: the refusal is the permission, not a hint about the field.
    assert client_for(end_user).patch(f"{RITMS}{ritm.number}/", {"state": "closed"}, format="json").status_code == 403
    other = client_for(other_end_user).patch(f"{RITMS}{ritm.number}/", {"short_description": "x"}, format="json")
    assert other.status_code == 404
    assert client_for(end_user).patch(f"{TASKS}{task.number}/", {"instructions": "x"}, format="json").status_code == 404
    assert snapshot(ritm) == before


def test_stale_if_match_is_412_and_changes_nothing(ritm, agent):
    client = client_for(agent)
    etag = client.get(f"{RITMS}{ritm.number}/")["ETag"]
    assert client.patch(f"{RITMS}{ritm.number}/", {"short_description": "First"}, format="json").status_code == 200
    stale = client.patch(f"{RITMS}{ritm.number}/", {"short_description": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["current_etag"] != etag
    assert RequestedItem.objects.get(pk=ritm.pk).short_description == "First"
    task = ritm.tasks.get()
    task_etag = client.get(f"{TASKS}{task.number}/")["ETag"]
    client.post(f"{TASKS}{task.number}/start/", {}, format="json")
    stale_task = client.patch(f"{TASKS}{task.number}/", {"instructions": "x"}, format="json", HTTP_IF_MATCH=task_etag)
    assert stale_task.status_code == 412
    assert FulfilmentTask.objects.get(pk=task.pk).instructions == ""


def test_closed_item_refuses_changes(end_user, agent, django_user_model):
    manager = django_user_model.objects.create(username="boss")
    closed = ritm_in_state(R.CLOSED, requester=end_user, manager=manager, agent=agent)
    version = Ticket.objects.get(pk=closed.pk).version
    response = client_for(agent).patch(f"{RITMS}{closed.number}/", {"short_description": "late"}, format="json")
    assert response.status_code == 400 and "state" in response.json()
    assert Ticket.objects.get(pk=closed.pk).version == version


def test_put_is_not_offered(ritm, agent):
    assert client_for(agent).put(f"{RITMS}{ritm.number}/", {}, format="json").status_code == 405
    assert client_for(agent).put(f"{TASKS}{ritm.tasks.get().number}/", {}, format="json").status_code == 405
