"""Change categories over the API: written by name or id on create and PATCH, read back by name, refused with a 400
naming the field when unknown, of another practice or not under the category; filtered by category; the list's
query count does not grow with categorised rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import Category
from changes.models import Change as Problem
from tests.conftest import client_for
from tests.factories import change_factory as problem_factory

pytestmark = pytest.mark.django_db
URL = "/api/v1/changes/"


@pytest.fixture
def categories(db):
    software = Category.objects.create(practice="change", name="Software")
    capacity = Category.objects.create(practice="change", name="Capacity")
    bug = Category.objects.create(practice="change", name="Bug", parent=software)
    disk = Category.objects.create(practice="change", name="Disk", parent=capacity)
    foreign = Category.objects.create(practice="incident", name="Network")
    return software, capacity, bug, disk, foreign


def test_create_and_patch_with_category(agent, categories):
    software, capacity, bug, disk, _foreign = categories
    client = client_for(agent)
    response = client.post(
        URL, {"short_description": "Upgrade mail", "category": "Software", "subcategory": bug.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["category"] == "Software" and response.json()["subcategory"] == "Bug"
    number = response.json()["number"]
    response = client.patch(f"{URL}{number}/", {"category": "Capacity", "subcategory": "Disk"}, format="json")
    assert response.status_code == 200, response.json()
    problem = Problem.objects.get(number=number)
    assert (problem.category, problem.subcategory) == (capacity, disk)
    assert problem.journal.filter(field="category", new_value="Capacity").exists()


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
def test_bad_categories_are_400_naming_the_field(agent, categories, payload, field):
    client = client_for(agent)
    response = client.post(URL, {"short_description": "Upgrade mail", **payload}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Problem.objects.exists()
    problem = problem_factory(by=agent, category=categories[1])
    response = client.patch(f"{URL}{problem.number}/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    problem.refresh_from_db()
    assert problem.category == categories[1] and problem.subcategory is None


def test_filter_by_category_and_constant_list_queries(agent, categories):
    software, capacity, bug, _disk, _foreign = categories
    client = client_for(agent)
    problem_factory(by=agent, category=software, subcategory=bug)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    problem_factory(by=agent, category=capacity)
    problem_factory(by=agent)
    with CaptureQueriesContext(connection) as three:
        listed = client.get(URL).json()["results"]
    assert len(listed) == 3 and len(three) == len(one)
    assert [p["category"] for p in client.get(URL, {"category": software.pk}).json()["results"]] == ["Software"]
    assert [p["subcategory"] for p in client.get(URL, {"subcategory": bug.pk}).json()["results"]] == ["Bug"]
    both = client.get(URL, {"category": [software.pk, capacity.pk]}).json()["results"]
    assert len(both) == 2
    assert client.get(URL, {"category": 999999}).status_code == 400
    assert client.get(URL, {"category": bug.pk}).status_code == 400  # a subcategory is not a category
