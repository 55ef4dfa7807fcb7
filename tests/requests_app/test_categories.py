"""Requested item categories: set by an agent through the update service (checked like every practice's: a category
of the requested-item practice, a subcategory under it, each refusal naming the field and changing nothing), read
back over the API, filtered by category, the list's query count not growing with categorised rows."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import Category
from requests_app.models import RequestedItem
from requests_app.services import requested_item_update
from tests.conftest import client_for
from tests.factories.requests import laptop_item, order, ritm_of

pytestmark = pytest.mark.django_db
RITMS = "/api/v1/requested-items/"


@pytest.fixture
def categories(db):
    hardware = Category.objects.create(practice="requested_item", name="Hardware")
    access = Category.objects.create(practice="requested_item", name="Access")
    laptop = Category.objects.create(practice="requested_item", name="Laptop", parent=hardware)
    foreign = Category.objects.create(practice="incident", name="Network")
    return hardware, access, laptop, foreign


@pytest.fixture
def ritms(end_user):
    item = laptop_item(approval=False)
    return [ritm_of(order(end_user, item)) for _ in range(3)]


def test_agent_sets_category_journaled_and_read_over_the_api(agent, categories, ritms):
    hardware, _access, laptop, _foreign = categories
    requested_item_update(item=ritms[0], by=agent, category=hardware, subcategory=laptop)
    ritm = RequestedItem.objects.get(pk=ritms[0].pk)
    assert (ritm.category, ritm.subcategory) == (hardware, laptop)
    assert ritm.journal.filter(field="subcategory", new_value="Hardware / Laptop").exists()
    data = client_for(agent).get(f"{RITMS}{ritm.number}/").json()
    assert data["category"] == "Hardware" and data["subcategory"] == "Laptop"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "foreign"}, "category"),
        ({"category": "laptop"}, "category"),
        ({"category": "access", "subcategory": "laptop"}, "subcategory"),
        ({"subcategory": "laptop"}, "subcategory"),
    ],
)
def test_wrong_categories_are_refused_naming_the_field(agent, categories, ritms, changes, field):
    named = dict(zip(("hardware", "access", "laptop", "foreign"), categories, strict=True))
    with pytest.raises(ValidationError) as refused:
        requested_item_update(item=ritms[0], by=agent, **{k: named[v] for k, v in changes.items()})
    assert field in refused.value.message_dict
    ritm = RequestedItem.objects.get(pk=ritms[0].pk)
    assert ritm.category is None and ritm.subcategory is None and not ritm.journal.filter(field=field).exists()


def test_filter_by_category_and_constant_list_queries(agent, categories, ritms):
    hardware, access, laptop, _foreign = categories
    client = client_for(agent)
    requested_item_update(item=ritms[0], by=agent, category=hardware, subcategory=laptop)
    with CaptureQueriesContext(connection) as before:
        assert len(client.get(RITMS).json()["results"]) == 3
    requested_item_update(item=ritms[1], by=agent, category=access)
    with CaptureQueriesContext(connection) as after:
        assert len(client.get(RITMS).json()["results"]) == 3
    assert len(after) == len(before)
    assert [r["number"] for r in client.get(RITMS, {"category": hardware.pk}).json()["results"]] == [ritms[0].number]
    assert [r["number"] for r in client.get(RITMS, {"subcategory": laptop.pk}).json()["results"]] == [ritms[0].number]
    assert len(client.get(RITMS, {"category": [hardware.pk, access.pk]}).json()["results"]) == 2
    assert client.get(RITMS, {"category": laptop.pk}).status_code == 400  # a subcategory is not a category


def test_patch_category_over_the_api(agent, categories, ritms):
    hardware, _access, laptop, _foreign = categories
    client = client_for(agent)
    url = f"{RITMS}{ritms[0].number}/"
    response = client.patch(url, {"category": "Hardware", "subcategory": laptop.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["category"] == "Hardware" and response.json()["subcategory"] == "Laptop"
    for payload, field in (
        ({"category": "Network"}, "category"),  # an incident category
        ({"category": "Access"}, "subcategory"),  # Laptop is not under Access
        ({"subcategory": "Nope"}, "subcategory"),
    ):
        response = client.patch(url, payload, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()
    ritm = RequestedItem.objects.get(pk=ritms[0].pk)
    assert (ritm.category, ritm.subcategory) == (hardware, laptop)


def test_fulfilment_task_categories_over_patch_and_filter(agent, end_user):
    delivery = Category.objects.create(practice="task", name="Delivery")
    courier = Category.objects.create(practice="task", name="Courier", parent=delivery)
    Category.objects.create(practice="requested_item", name="Hardware")
    item = laptop_item(approval=False)
    ritm = ritm_of(order(end_user, item))
    task = ritm.tasks.order_by("position").first()
    client = client_for(agent)
    url = f"/api/v1/fulfilment-tasks/{task.number}/"
    response = client.patch(url, {"category": "Delivery", "subcategory": "Courier"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["category"], response.json()["subcategory"]) == ("Delivery", "Courier")
    response = client.patch(url, {"category": "Hardware"}, format="json")  # a requested-item category
    assert response.status_code == 400 and "category" in response.json()
    listed = client.get("/api/v1/fulfilment-tasks/", {"subcategory": courier.pk}).json()["results"]
    assert [t["number"] for t in listed] == [task.number]
