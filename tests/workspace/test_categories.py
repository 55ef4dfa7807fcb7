"""Category columns and the category filter in the workspace lists of the practices that have categories: the bar
offers the practice's top-level categories by id, the filter narrows the list, the column shows the name, and the
query count does not grow with categorised rows or with the number of categories offered."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.models import Category
from tests.factories import change_factory, incident_factory, problem_factory

pytestmark = pytest.mark.django_db
FACTORIES = {"incidents": incident_factory, "problems": problem_factory, "changes": change_factory}
PRACTICES = {"incidents": "incident", "problems": "problem", "changes": "change"}


@pytest.mark.parametrize("slug", list(FACTORIES))
def test_category_column_and_filter(client, agent, slug):
    client.force_login(agent)
    practice = PRACTICES[slug]
    network = Category.objects.create(practice=practice, name="Networking")
    Category.objects.create(practice=practice, name="Routers", parent=network)
    storage = Category.objects.create(practice=practice, name="Storage")
    Category.objects.create(practice="requested_item" if practice != "requested_item" else "incident", name="Foreign")
    make = FACTORIES[slug]
    first = make(by=agent, category=network)
    url = reverse("workspace:list", args=[slug])
    cache.clear()
    with CaptureQueriesContext(connection) as one:
        page = client.get(url, {"cols": "number,category,subcategory"}).content.decode()
    assert "Networking" in page and f'value="{network.pk}"' in page and f'value="{storage.pk}"' in page
    assert "Foreign" not in page and "Routers" not in page  # the bar offers this practice's categories only
    second = make(by=agent, category=storage)
    make(by=agent)
    for index in range(5):
        Category.objects.create(practice=practice, name=f"More {index}")
    cache.clear()
    with CaptureQueriesContext(connection) as three:
        client.get(url, {"cols": "number,category,subcategory"})
    assert len(three) == len(one)
    filtered = client.get(url, {"category": storage.pk, "cols": "number,category"}).content.decode()
    assert second.number in filtered and first.number not in filtered


def test_ticket_page_edits_the_category_among_the_practices_own(client, agent):
    """The ticket page's fields offer this practice's categories (subcategories with their parent's name) and save
    a choice through the practice's update service, journaled."""
    client.force_login(agent)
    network = Category.objects.create(practice="problem", name="Networking")
    routers = Category.objects.create(practice="problem", name="Routers", parent=network)
    Category.objects.create(practice="incident", name="Foreign")
    problem = problem_factory(by=agent)
    url = reverse("workspace:detail", args=["problems", problem.number])
    page = client.get(url).content.decode()
    assert "Networking / Routers" in page and "Foreign" not in page
    data = {
        "short_description": problem.short_description,
        "description": problem.description,
        "category": network.pk,
        "subcategory": routers.pk,
        "impact": problem.impact,
        "urgency": problem.urgency,
        "assignment_group": problem.assignment_group_id or "",
        "assigned_to": problem.assigned_to_id or "",
        "service": "",
        "configuration_item": "",
        "version": problem.version,
    }
    assert client.post(url, data).status_code == 302
    problem.refresh_from_db()
    assert (problem.category, problem.subcategory) == (network, routers)
    assert problem.journal.filter(field="category").exists()
