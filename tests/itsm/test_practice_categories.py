"""Problem and change categories over the API (incidents: tests/incidents; requested items and tasks: their own
modules): written by name or id on create and PATCH, read back by name, refused with a 400 naming the field when
unknown, of another practice or not under the category; filtered by category; the list's query count does not grow
with categorised rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes.models import Change
from itsm.models import Category
from problems.models import Problem
from tests.conftest import client_for
from tests.factories import change_factory, problem_factory

pytestmark = pytest.mark.django_db

PRACTICES = {
    "problem": ("/api/v1/problems/", Problem, problem_factory, "Mail drops"),
    "change": ("/api/v1/changes/", Change, change_factory, "Upgrade mail"),
}


@pytest.fixture(params=sorted(PRACTICES))
def practice(request):
    return request.param


@pytest.fixture
def setup(practice):
    url, model, factory, summary = PRACTICES[practice]
    software = Category.objects.create(practice=practice, name="Software")
    capacity = Category.objects.create(practice=practice, name="Capacity")
    bug = Category.objects.create(practice=practice, name="Bug", parent=software)
    disk = Category.objects.create(practice=practice, name="Disk", parent=capacity)
    Category.objects.create(practice="incident", name="Network")
    return url, model, factory, summary, (software, capacity, bug, disk)


def test_create_and_patch_with_category(agent, setup):
    url, model, _factory, summary, (_software, capacity, bug, disk) = setup
    client = client_for(agent)
    response = client.post(
        url, {"short_description": summary, "category": "Software", "subcategory": bug.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["category"] == "Software" and response.json()["subcategory"] == "Bug"
    number = response.json()["number"]
    response = client.patch(f"{url}{number}/", {"category": "Capacity", "subcategory": "Disk"}, format="json")
    assert response.status_code == 200, response.json()
    ticket = model.objects.get(number=number)
    assert (ticket.category, ticket.subcategory) == (capacity, disk)
    assert ticket.journal.filter(field="category", new_value="Capacity").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "Nope"}, "category"),
        ({"category": "Network"}, "category"),  # an incident category
        ({"category": "Software", "subcategory": "Disk"}, "subcategory"),  # Disk is under Capacity
        ({"subcategory": "Bug"}, "subcategory"),  # no category
        ({"category": "Bug"}, "category"),  # a subcategory given as the category
    ],
)
def test_bad_categories_are_400_naming_the_field(agent, setup, payload, field):
    url, model, factory, summary, (_software, capacity, _bug, _disk) = setup
    client = client_for(agent)
    response = client.post(url, {"short_description": summary, **payload}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not model.objects.exists()
    ticket = factory(by=agent, category=capacity)
    response = client.patch(f"{url}{ticket.number}/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    ticket.refresh_from_db()
    assert ticket.category == capacity and ticket.subcategory is None


def test_filter_by_category_and_constant_list_queries(agent, setup):
    url, _model, factory, _summary, (software, capacity, bug, _disk) = setup
    client = client_for(agent)
    factory(by=agent, category=software, subcategory=bug)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    factory(by=agent, category=capacity)
    factory(by=agent)
    with CaptureQueriesContext(connection) as three:
        listed = client.get(url).json()["results"]
    assert len(listed) == 3 and len(three) == len(one)
    assert [t["category"] for t in client.get(url, {"category": software.pk}).json()["results"]] == ["Software"]
    assert [t["subcategory"] for t in client.get(url, {"subcategory": bug.pk}).json()["results"]] == ["Bug"]
    assert len(client.get(url, {"category": [software.pk, capacity.pk]}).json()["results"]) == 2
    assert client.get(url, {"category": 999999}).status_code == 400
    assert client.get(url, {"category": bug.pk}).status_code == 400  # a subcategory is not a category
