import pytest
from django.core.exceptions import ValidationError

from incidents.services import incident_create, incident_update
from itsm.models import Category
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db


def test_category_subcategory_must_match_practice_and_parent(agent, access):
    top, sub = access
    other = Category.objects.create(practice="change", name="Standard")
    with pytest.raises(ValidationError) as error:
        incident_create(by=agent, short_description="x", category=other)
    assert "category" in error.value.message_dict
    hardware = Category.objects.create(practice="incident", name="Hardware")
    with pytest.raises(ValidationError) as error:
        incident_create(by=agent, short_description="x", category=hardware, subcategory=sub)
    assert "subcategory" in error.value.message_dict
    incident = incident_create(by=agent, short_description="x", category=top, subcategory=sub)
    assert (incident.category, incident.subcategory) == (top, sub)


def test_category_clean_refuses_grandchildren_and_other_practice(access):
    top, sub = access
    with pytest.raises(ValidationError):
        Category(practice="incident", name="Deeper", parent=sub).full_clean()
    with pytest.raises(ValidationError):
        Category(practice="change", name="Other", parent=top).full_clean()


def test_category_update_is_journaled(agent, access):
    top, _sub = access
    incident = incident_factory(by=agent)
    incident_update(incident=incident, by=agent, category=top)
    assert incident.journal.filter(field="category", new_value="Access").exists()


def test_incident_api_category_by_name_filter_and_errors(agent, access):
    top, sub = access
    api = client_for(agent)
    response = api.post(
        "/api/v1/incidents/", {"short_description": "Locked out", "category": "Access", "subcategory": "Password"}
    )
    assert response.status_code == 201, response.content
    assert (response.json()["category"], response.json()["subcategory"]) == ("Access", "Password")
    incident_factory(by=agent)
    listed = api.get(f"/api/v1/incidents/?category={top.pk}").json()["results"]
    assert [row["category"] for row in listed] == ["Access"]
    bad = api.post("/api/v1/incidents/", {"short_description": "x", "category": "Nope"})
    assert bad.status_code == 400 and "category" in bad.json()
    wrong = Category.objects.create(practice="incident", name="Hardware")
    mismatch = api.post("/api/v1/incidents/", {"short_description": "x", "category": wrong.pk, "subcategory": sub.pk})
    assert mismatch.status_code == 400 and "subcategory" in mismatch.json()


def test_incident_api_list_query_count_constant_with_categories(agent, access, django_assert_max_num_queries):
    top, sub = access
    for _ in range(3):
        incident_factory(by=agent, category=top, subcategory=sub)
    api = client_for(agent)
    with django_assert_max_num_queries(12) as few:
        api.get("/api/v1/incidents/?page_size=3")
    for _ in range(10):
        incident_factory(by=agent, category=top, subcategory=sub)
    with django_assert_max_num_queries(len(few.captured_queries)):
        api.get("/api/v1/incidents/?page_size=13")
