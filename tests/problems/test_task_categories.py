"""Problem task and change task categories (their own practices' categories) over the API: created and patched by
name, refused with a 400 naming the field when of another practice or not under the category, filtered by category,
the list's query count unchanged by categorised rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes.models import ChangeTask
from itsm.models import Category
from problems.models import ProblemTask
from tests.conftest import client_for
from tests.factories import change_factory, problem_factory

pytestmark = pytest.mark.django_db

KINDS = {
    "problem_task": ("/api/v1/problem-tasks/", "problem", ProblemTask, problem_factory),
    "change_task": ("/api/v1/change-tasks/", "change", ChangeTask, change_factory),
}


@pytest.mark.parametrize("practice", list(KINDS))
def test_task_categories_over_the_api(agent, practice):
    url, parent_field, model, parent_factory = KINDS[practice]
    analysis = Category.objects.create(practice=practice, name="Analysis")
    logs = Category.objects.create(practice=practice, name="Logs", parent=analysis)
    rollout = Category.objects.create(practice=practice, name="Rollout")
    Category.objects.create(practice="problem" if practice == "change_task" else "change", name="Elsewhere")
    parent = parent_factory(by=agent)
    client = client_for(agent)

    def create(**fields):
        payload = {parent_field: parent.number, "short_description": "Collect the logs", **fields}
        return client.post(url, payload, format="json")

    response = create(category="Analysis", subcategory="Logs")
    assert response.status_code == 201, response.json()
    assert (response.json()["category"], response.json()["subcategory"]) == ("Analysis", "Logs")
    number = response.json()["number"]
    for fields, field in (
        ({"category": "Elsewhere"}, "category"),
        ({"category": "Rollout", "subcategory": "Logs"}, "subcategory"),
    ):
        assert create(**fields).status_code == 400 and field in create(**fields).json()
        response = client.patch(f"{url}{number}/", fields, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()
    assert model.objects.count() == 1
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    response = client.patch(f"{url}{number}/", {"category": "Rollout", "subcategory": None}, format="json")
    assert response.status_code == 200, response.json()
    create(category="Analysis", subcategory=logs.pk)
    create()
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(url).json()["results"]) == 3
    assert len(three) == len(one)
    assert [t["number"] for t in client.get(url, {"category": rollout.pk}).json()["results"]] == [number]
    assert len(client.get(url, {"subcategory": logs.pk}).json()["results"]) == 1
