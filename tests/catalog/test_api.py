"""The read-only catalog API: services and configuration items, who may read them, and their query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ConfigurationItem, Service
from tests.conftest import client_for
from tests.factories import ConfigurationItemFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services/"
CIS = "/api/v1/configuration-items/"


@pytest.fixture
def erp(team):
    return ServiceFactory(name="ERP", owner_team=team, criticality=1, description="Orders and invoices")


def test_service_list_shows_active_services_by_name(agent, team, erp):
    ServiceFactory(name="Accounting", owner_team=team)
    ServiceFactory(name="Retired fax", active=False)

    response = client_for(agent).get(SERVICES)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["name"] for row in results] == ["Accounting", "ERP"]
    assert results[1] == {
        "id": erp.pk,
        "name": "ERP",
        "description": "Orders and invoices",
        "owner_team": "Service Desk",
        "criticality": 1,
        "active": True,
    }


def test_service_detail(agent, erp):
    response = client_for(agent).get(f"{SERVICES}{erp.pk}/")

    assert response.status_code == 200
    assert response.json()["name"] == "ERP"


def test_service_detail_inactive_is_404(agent):
    retired = ServiceFactory(name="Retired fax", active=False)

    assert client_for(agent).get(f"{SERVICES}{retired.pk}/").status_code == 404


def test_service_list_filters_and_searches(agent, team, erp):
    ServiceFactory(name="Email", owner_team=TeamFactory(name="Messaging"), criticality=3)
    client = client_for(agent)

    by_criticality = client.get(SERVICES, {"criticality": 1}).json()["results"]
    by_team = client.get(SERVICES, {"owner_team": team.pk}).json()["results"]
    by_text = client.get(SERVICES, {"search": "invoices"}).json()["results"]

    assert [row["name"] for row in by_criticality] == ["ERP"]
    assert [row["name"] for row in by_team] == ["ERP"]
    assert [row["name"] for row in by_text] == ["ERP"]


def test_service_list_end_user_may_read(end_user, erp):
    assert client_for(end_user).get(SERVICES).status_code == 200


def test_service_list_anonymous_is_401(api):
    assert api.get(SERVICES).status_code == 401


def test_service_list_is_read_only(agent):
    response = client_for(agent).post(SERVICES, {"name": "New"}, format="json")

    assert response.status_code == 405
    assert not Service.objects.filter(name="New").exists()


def test_configuration_item_list_shows_dependencies_by_name(agent, team, erp):
    database = ConfigurationItemFactory(name="db-01", ci_type="database", service=None, owner_team=team)
    storage = ConfigurationItemFactory(name="san-01", ci_type="storage", service=None, owner_team=team)
    app = ConfigurationItemFactory(name="erp-app-01", ci_type="application", service=erp, owner_team=team)
    app.depends_on.add(database, storage)
    ConfigurationItemFactory(name="old-box", active=False)

    response = client_for(agent).get(CIS)

    assert response.status_code == 200
    results = {row["name"]: row for row in response.json()["results"]}
    assert list(results) == ["db-01", "erp-app-01", "san-01"]
    assert results["erp-app-01"] == {
        "id": app.pk,
        "name": "erp-app-01",
        "ci_type": "application",
        "description": "",
        "owner_team": "Service Desk",
        "service": "ERP",
        "depends_on": ["db-01", "san-01"],
        "active": True,
    }
    assert results["db-01"]["depends_on"] == []
    assert results["db-01"]["service"] is None


def test_configuration_item_list_filters(agent, team, erp):
    ConfigurationItemFactory(name="db-01", ci_type="database", service=erp)
    ConfigurationItemFactory(name="sw-01", ci_type="network", service=ServiceFactory(name="LAN"))
    client = client_for(agent)

    by_type = client.get(CIS, {"ci_type": "network"}).json()["results"]
    by_service = client.get(CIS, {"service": erp.pk}).json()["results"]

    assert [row["name"] for row in by_type] == ["sw-01"]
    assert [row["name"] for row in by_service] == ["db-01"]


def test_configuration_item_list_end_user_may_read_anonymous_may_not(end_user, api):
    ConfigurationItemFactory(name="db-01")

    assert client_for(end_user).get(CIS).status_code == 200
    assert api.get(CIS).status_code == 401


def test_configuration_item_list_is_read_only(agent):
    ci = ConfigurationItemFactory(name="db-01")

    response = client_for(agent).delete(f"{CIS}{ci.pk}/")

    assert response.status_code == 405
    assert ConfigurationItem.objects.filter(pk=ci.pk).exists()


def _queries(client, url, size) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == size
    return len(ctx.captured_queries)


def test_service_list_query_count_constant_in_page_size(agent):
    teams = [TeamFactory(name=f"Owners {i}") for i in range(3)]
    for i in range(30):
        ServiceFactory(name=f"Service {i:02d}", owner_team=teams[i % 3])
    client = client_for(agent)

    small, large = _queries(client, SERVICES, 3), _queries(client, SERVICES, 30)

    assert small == large
    assert large <= 4


def test_configuration_item_list_query_count_constant_in_page_size(agent):
    teams = [TeamFactory(name=f"Owners {i}") for i in range(3)]
    services = [ServiceFactory(name=f"Service {i}") for i in range(3)]
    previous = None
    for i in range(30):
        ci = ConfigurationItemFactory(name=f"ci-{i:02d}", service=services[i % 3], owner_team=teams[i % 3])
        if previous is not None:
            ci.depends_on.add(previous)
        previous = ci
    client = client_for(agent)

    small, large = _queries(client, CIS, 3), _queries(client, CIS, 30)

    assert small == large
    assert large <= 5
