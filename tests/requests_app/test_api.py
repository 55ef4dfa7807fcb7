"""Service request API: the catalog with its forms, ordering (400 naming the variable), the 409 tables of the item
and task machines with nothing changed, end users' 404 on others' records, hidden internals, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import JournalEntry
from requests_app.enums import FulfilmentTaskState as T
from requests_app.enums import RequestedItemState as R
from requests_app.models import FulfilmentTask, Request, RequestedItem
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.factories.requests import laptop_item, order, ritm_in_state, ritm_of, set_manager

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/catalog-items/"
REQUESTS = "/api/v1/requests/"
RITMS = "/api/v1/requested-items/"
TASKS = "/api/v1/fulfilment-tasks/"


@pytest.fixture
def manager():
    return UserFactory(username="boss")


def test_catalog_items_list_the_form_definition(end_user):
    item = laptop_item()
    body = client_for(end_user).get(ITEMS).json()
    [row] = body["results"]
    assert row["id"] == item.pk and row["version"] == 1 and row["needs_approval"] is True
    ram = next(q for q in row["form"] if q["name"] == "ram")
    assert ram == {
        "name": "ram",
        "label": "Memory",
        "type": "choice",
        "required": True,
        "help_text": "",
        "choices": ["16 GB", "32 GB"],
        "default": "",
        "min": None,
        "max": None,
        "max_length": None,
        "pattern": "",
        "show_when": {"variable": "model", "equals": "Developer"},
    }


def test_catalog_items_query_count_constant(end_user):
    for n in range(3):
        laptop_item(name=f"Laptop {n}")
    client = client_for(end_user)
    client.get(ITEMS)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(ITEMS).json()["results"]) == 3
    for n in range(3, 9):
        laptop_item(name=f"Laptop {n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(ITEMS).json()["results"]) == 9
    assert len(many) == len(few)


def test_catalog_items_hide_items_for_other_groups(end_user):
    laptop_item(availability="groups")
    assert client_for(end_user).get(ITEMS).json()["results"] == []


def test_post_request_creates_items_awaiting_approval(end_user, manager):
    set_manager(end_user, manager)
    item = laptop_item()
    response = client_for(end_user).post(
        REQUESTS,
        {"items": [{"catalog_item": item.pk, "quantity": 2, "variables": {"model": "Developer", "ram": "16 GB"}}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("REQ") and body["state"] == "open"
    [line] = body["items"]
    assert line["state"] == R.AWAITING_APPROVAL and line["quantity"] == 2
    detail = client_for(end_user).get(f"{RITMS}{line['number']}/").json()
    assert detail["variables"] == {"model": "Developer", "ram": "16 GB"}
    assert {"name": "ram", "label": "Memory", "value": "16 GB", "display": "16 GB"} in detail["answers"]
    # End users do not read internal fields.
    assert "assignment_group" not in detail and "sla_clocks" not in detail


@pytest.mark.parametrize(
    ("items", "key"),
    [
        ([{"quantity": 1, "variables": {"model": "Developer", "ram": "64 GB"}}], "items[0].variables.ram"),
        ([{"variables": {"model": "Developer"}}], "items[0].variables.ram"),
        ([{"variables": {"model": "Standard", "colour": "red"}}], "items[0].variables.colour"),
        ([{"variables": {"model": "Standard"}, "quantity": 0}], "items[0].quantity"),
        ([{"variables": "model=Standard"}], "items[0].variables"),
        ([{"catalog_item": 999999, "variables": {}}], "items[0].catalog_item"),
        ([], "items"),
    ],
)
def test_post_request_bad_input_names_the_field_and_creates_nothing(end_user, items, key):
    item = laptop_item(approval=False)
    for line in items:
        line.setdefault("catalog_item", item.pk)
    response = client_for(end_user).post(REQUESTS, {"items": items}, format="json")
    assert response.status_code == 400
    assert key in response.json()
    assert not Request.objects.exists()
    assert not RequestedItem.objects.exists()


ITEM_TRANSITIONS = {"cancel": R.CANCELED, "close": R.CLOSED}
ITEM_ALLOWED = {
    "cancel": {R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED, R.IN_FULFILMENT},
    "close": {R.FULFILLED},
}


@pytest.mark.parametrize("state", list(R))
@pytest.mark.parametrize("name", list(ITEM_TRANSITIONS))
def test_requested_item_transition_table(agent, end_user, manager, state, name):
    ritm = ritm_in_state(state, requester=end_user, manager=manager, agent=agent)
    journal = JournalEntry.objects.filter(ticket=ritm).count()
    response = client_for(agent).post(f"{RITMS}{ritm.number}/{name}/", {"reason": "x"}, format="json")
    after = RequestedItem.objects.get(pk=ritm.pk)
    if state in ITEM_ALLOWED[name]:
        assert response.status_code == 200, response.json()
        assert after.state == ITEM_TRANSITIONS[name]
    else:
        assert response.status_code == 409, response.json()
        assert after.state == state
        assert after.updated_at == ritm.updated_at
        assert JournalEntry.objects.filter(ticket=ritm).count() == journal


TASK_TRANSITIONS = {
    "start": T.WORK_IN_PROGRESS,
    "close_complete": T.CLOSED_COMPLETE,
    "close_incomplete": T.CLOSED_INCOMPLETE,
    "skip": T.CLOSED_SKIPPED,
}


def task_in_state(state, *, requester, agent):
    from requests_app import services

    item = laptop_item(approval=False, parallel=True, name=f"Laptop {state}")
    task = ritm_of(order(requester, item)).tasks.order_by("position").first()
    steps = {
        T.WORK_IN_PROGRESS: [services.fulfilment_task_start],
        T.CLOSED_COMPLETE: [services.fulfilment_task_close_complete],
        T.CLOSED_INCOMPLETE: [lambda **kw: services.fulfilment_task_close_incomplete(close_notes="no", **kw)],
        T.CLOSED_SKIPPED: [services.fulfilment_task_skip],
    }.get(state, [])
    for step in steps:
        step(task=task, by=agent)
    task = FulfilmentTask.objects.get(pk=task.pk)
    assert task.state == state
    return task


@pytest.mark.parametrize("state", list(T))
@pytest.mark.parametrize("name", list(TASK_TRANSITIONS))
def test_fulfilment_task_transition_table(agent, end_user, state, name):
    task = task_in_state(state, requester=end_user, agent=agent)
    journal = JournalEntry.objects.filter(ticket=task).count()
    response = client_for(agent).post(f"{TASKS}{task.number}/{name}/", {"close_notes": "notes"}, format="json")
    after = FulfilmentTask.objects.get(pk=task.pk)
    allowed = state in (T.OPEN,) if name == "start" else state in (T.OPEN, T.WORK_IN_PROGRESS)
    if allowed:
        assert response.status_code == 200, response.json()
        assert after.state == TASK_TRANSITIONS[name]
    else:
        assert response.status_code == 409, response.json()
        assert after.state == state and after.updated_at == task.updated_at
        assert JournalEntry.objects.filter(ticket=task).count() == journal


def test_close_incomplete_needs_notes(agent, end_user):
    task = task_in_state(T.OPEN, requester=end_user, agent=agent)
    response = client_for(agent).post(f"{TASKS}{task.number}/close_incomplete/", {}, format="json")
    assert response.status_code == 400 and "close_notes" in response.json()
    assert FulfilmentTask.objects.get(pk=task.pk).state == T.OPEN


def test_agent_closes_tasks_and_the_item_is_fulfilled(agent, end_user):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    client = client_for(agent)
    for _ in range(2):
        [task] = client.get(TASKS, {"requested_item": ritm.pk, "state": "open"}).json()["results"]
        assert client.post(f"{TASKS}{task['number']}/close_complete/", {}, format="json").status_code == 200
    assert client.get(f"{RITMS}{ritm.number}/").json()["state"] == R.FULFILLED
    transitions = client_for(end_user).get(f"{RITMS}{ritm.number}/transitions/").json()
    assert [t["name"] for t in transitions] == ["close"]


def test_requester_withdraws_through_the_api(end_user, manager):
    set_manager(end_user, manager)
    ritm = ritm_of(order(end_user, laptop_item()))
    client = client_for(end_user)
    assert [t["name"] for t in client.get(f"{RITMS}{ritm.number}/transitions/").json()] == ["cancel"]
    response = client.post(f"{RITMS}{ritm.number}/cancel/", {"reason": "Not needed"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == R.CANCELED


def test_end_user_journal_hides_work_notes(agent, end_user):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    client_for(agent).post(f"{RITMS}{ritm.number}/journal/", {"kind": "work_note", "body": "secret"}, format="json")
    client_for(agent).post(f"{RITMS}{ritm.number}/journal/", {"kind": "comment", "body": "On its way"}, format="json")
    bodies = [e["body"] for e in client_for(end_user).get(f"{RITMS}{ritm.number}/journal/").json()["results"]]
    assert "On its way" in bodies and "secret" not in bodies
    response = client_for(end_user).post(
        f"{RITMS}{ritm.number}/journal/", {"kind": "work_note", "body": "x"}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()
    assert (
        client_for(end_user).post(f"{RITMS}{ritm.number}/journal/", {"body": "Thanks!"}, format="json").status_code
        == 201
    )


def test_other_end_users_records_are_404_on_every_route(end_user, other_end_user, agent):
    request = order(end_user, laptop_item(approval=False))
    ritm = ritm_of(request)
    task = ritm.tasks.get()
    client = client_for(other_end_user)
    gets = [
        f"{REQUESTS}{request.number}/",
        f"{REQUESTS}{request.number}/journal/",
        f"{REQUESTS}{request.number}/transitions/",
        f"{REQUESTS}{request.number}/attachments/",
        f"{RITMS}{ritm.number}/",
        f"{RITMS}{ritm.number}/journal/",
        f"{RITMS}{ritm.number}/transitions/",
        f"{RITMS}{ritm.number}/attachments/",
        f"{TASKS}{task.number}/",
        f"{TASKS}{task.number}/journal/",
        f"{TASKS}{task.number}/transitions/",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        f"{REQUESTS}{request.number}/journal/",
        f"{RITMS}{ritm.number}/journal/",
        f"{RITMS}{ritm.number}/cancel/",
        f"{RITMS}{ritm.number}/close/",
        f"{RITMS}{ritm.number}/attachments/",
        f"{TASKS}{task.number}/close_complete/",
        f"{TASKS}{task.number}/journal/",
    ]
    for url in posts:
        assert client.post(url, {"body": "x"}, format="json").status_code == 404, url
    assert client.get(REQUESTS).json()["results"] == []
    assert client.get(RITMS).json()["results"] == []
    # Tasks are agents' work: the requester gets 404 too.
    assert client_for(end_user).get(f"{TASKS}{task.number}/").status_code == 404
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.IN_FULFILMENT


def test_requested_items_list_query_count_constant(agent, end_user):
    item = laptop_item(approval=False)
    client = client_for(agent)
    order(end_user, item)
    client.get(RITMS)  # warm-up: the first request of a client also loads its user's roles
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(RITMS).json()["results"]) == 1
    for _ in range(5):
        order(end_user, item)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(RITMS).json()["results"]) == 6
    assert len(many) == len(few)
