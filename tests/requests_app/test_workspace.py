"""Requested items and fulfilment tasks in the generic agent workspace (declared in requests_app/workspace.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app.enums import FulfilmentTaskState as T
from requests_app.enums import RequestedItemState as R
from requests_app.models import FulfilmentTask, RequestedItem
from tests.factories.requests import laptop_item, order, ritm_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_agent_lists_and_opens_requested_items_and_tasks(agent_client, end_user):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    task = ritm.tasks.get()
    body = agent_client.get("/workspace/requested-items/").content.decode()
    assert ritm.number in body
    detail = agent_client.get(f"/workspace/requested-items/{ritm.number}/").content.decode()
    assert "Which model?: Standard" in detail and task.number in detail
    assert task.number in agent_client.get("/workspace/fulfilment-tasks/").content.decode()
    assert agent_client.get(f"/workspace/t/{task.number}/").url == f"/workspace/fulfilment-tasks/{task.number}/"


def test_agent_closes_tasks_in_the_workspace_and_the_item_is_fulfilled(agent_client, end_user):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    for _ in range(2):
        task = ritm.tasks.get(active=True)
        response = agent_client.post(f"/workspace/fulfilment-tasks/{task.number}/transition/close_complete/", {})
        assert response.status_code == 302
        assert FulfilmentTask.objects.get(pk=task.pk).state == T.CLOSED_COMPLETE
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.FULFILLED
    # A refused transition is a 409 and changes nothing.
    response = agent_client.post(f"/workspace/fulfilment-tasks/{task.number}/transition/start/", {})
    assert response.status_code == 409
    assert FulfilmentTask.objects.get(pk=task.pk).state == T.CLOSED_COMPLETE


def test_workspace_reassigns_a_task(agent_client, agent, team, end_user):
    from requests_app.services import fulfilment_task_update

    task = ritm_of(order(end_user, laptop_item(approval=False))).tasks.get()
    fulfilment_task_update(task=task, by=agent, assignment_group=team, assigned_to=agent)
    task.refresh_from_db()
    assert (task.assignment_group, task.assigned_to) == (team, agent)
    assert task.journal.filter(kind="field_change", field="assigned_to").exists()


def test_end_users_do_not_enter_the_workspace(client, end_user):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    client.force_login(end_user)
    assert client.get(f"/workspace/requested-items/{ritm.number}/").status_code in (302, 403, 404)


def test_requested_items_list_query_count_constant(agent_client, end_user):
    item = laptop_item(approval=False)
    order(end_user, item)
    agent_client.get("/workspace/requested-items/")
    with CaptureQueriesContext(connection) as few:
        agent_client.get("/workspace/requested-items/")
    for _ in range(5):
        order(end_user, item)
    with CaptureQueriesContext(connection) as many:
        agent_client.get("/workspace/requested-items/")
    assert len(many) == len(few)
