"""The SLA compliance report broken down by ticket category (API and workspace page): one row per category, the
uncategorised tickets last, every clock counted once."""

import pytest
from django.urls import reverse

from itsm.models import Category
from slas.models import SLADefinition
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db
API = "/api/v1/sla-reports/compliance/"
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


def test_compliance_by_category(agent, client):
    SLADefinition.objects.create(
        name="Res",
        target="resolution",
        practice="incident",
        active=True,
        duration_seconds=3600,
        start_condition={"state_category": OPEN},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
    )
    network = Category.objects.create(practice="incident", name="Network")
    vpn = Category.objects.create(practice="incident", name="VPN", parent=network)
    hardware = Category.objects.create(practice="incident", name="Hardware")
    incident_factory(by=agent, category=network)
    incident_factory(by=agent, category=network, subcategory=vpn)
    incident_factory(by=agent, category=hardware)
    incident_factory(by=agent)
    report = client_for(agent).get(API, {"group_by": "category"}).json()
    assert report["group_by"] == "category"
    assert [(r["key"], r["label"], r["total"], r["in_progress"]) for r in report["rows"]] == [
        (hardware.pk, "Hardware", 1, 1),
        (network.pk, "Network", 2, 2),
        (None, "No category", 1, 1),
    ]
    assert report["total"]["total"] == 4
    client.force_login(agent)
    page = client.get(reverse("slas:sla_report"), {"group_by": "category"}).content.decode()
    assert "By category" in page and "Hardware" in page and "No category" in page
    assert client_for(agent).get(API, {"group_by": "subcategory"}).status_code == 400
