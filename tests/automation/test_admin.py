import pytest

from automation.models import AssignmentRule, TrainingRun
from itsm.enums import Role
from itsm.models import Category
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="desk_admin", is_staff=True, is_superuser=True, role=Role.ADMIN))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/automation/assignmentrule/",
        "/admin/automation/assignmentrule/add/",
        "/admin/automation/trigger/",
        "/admin/automation/trigger/add/",
        "/admin/automation/trainingrun/",
        "/admin/automation/categorysuggestion/",
        "/admin/automation/teamrouting/add/",
        "/admin/automation/userprofile/add/",
        "/admin/itsm/category/",
        "/admin/itsm/category/add/",
        "/admin/automation/assignmentrule/dry-run/",
    ],
)
def test_admin_pages_render(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_admin_dry_run_shows_the_rule_and_saves_nothing(admin_client, identity):
    AssignmentRule.objects.create(
        name="Password resets",
        conditions=[{"field": "text", "op": "keywords", "value": ["password reset"]}],
        set_assignment_group=identity,
    )
    response = admin_client.post(
        "/admin/automation/assignmentrule/dry-run/",
        {"kind": "incident", "short_description": "password reset", "impact": 3, "urgency": 3},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Assignment rule &#x27;Password resets&#x27;" in body and "Identity" in body
    missing = admin_client.post(
        "/admin/automation/assignmentrule/dry-run/", {"ticket": "INC404", "kind": "incident", "impact": 3, "urgency": 3}
    )
    assert "No ticket INC404" in missing.content.decode()


def test_admin_rule_form_refuses_bad_conditions(admin_client):
    response = admin_client.post(
        "/admin/automation/assignmentrule/add/",
        {"name": "bad", "order": 1, "conditions": '[{"field": "colour", "op": "equals", "value": 1}]'},
    )
    assert response.status_code == 200 and "unknown field" in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_admin_category_with_subcategory_inline(admin_client):
    response = admin_client.post(
        "/admin/itsm/category/add/",
        {
            "practice": "incident",
            "name": "Access",
            "order": 1,
            "active": "on",
            "children-TOTAL_FORMS": 1,
            "children-INITIAL_FORMS": 0,
            "children-0-name": "Password",
            "children-0-order": 1,
            "children-0-active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sub = Category.objects.get(name="Password")
    assert sub.parent.name == "Access" and sub.practice == "incident"


def test_admin_retrain_queues_a_run_per_practice(admin_client, django_capture_on_commit_callbacks):
    Category.objects.create(practice="incident", name="Access")
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/admin/automation/trainingrun/retrain/")
    assert response.status_code == 302 and len(callbacks) == 1
    assert TrainingRun.objects.get().practice == "incident"
