"""SLA definitions in the admin (friendly condition editing, contradictions refused), over the API, the preview
and the recompute command."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command

from slas.admin import format_duration, parse_duration
from slas.models import SLAClock, SLADefinition
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db
OPEN = ["new", "active", "pending_customer", "pending_third_party"]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


def _form(**overrides):
    data = {
        "name": "Resolution P1",
        "sla_type": "sla",
        "target": "resolution",
        "practice": "incident",
        "order": "10",
        "active": "on",
        "match_priorities": ["1"],
        "duration": "4h",
        "schedule_source": "definition",
        "thresholds": "[50, 75, 90]",
        "start_categories": OPEN,
        "stop_categories": ["resolved", "closed", "cancelled"],
        "pause_categories": ["pending_customer"],
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_admin_creates_definition_with_checkbox_conditions(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/slas/sladefinition/add/", _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    definition = SLADefinition.objects.get()
    assert definition.start_condition == {"state_category": OPEN}
    assert definition.pause_condition == {"state_category": ["pending_customer"]}
    assert definition.duration_seconds == 4 * 3600 and definition.match_priorities == [1]
    assert client.get(f"/admin/slas/sladefinition/{definition.pk}/change/").status_code == 200


def test_admin_refuses_contradictions_with_explanation(client, superuser):
    client.force_login(superuser)
    response = client.post(
        "/admin/slas/sladefinition/add/",
        _form(start_categories=["resolved"], stop_categories=["resolved", "closed"], pause_categories=["new"]),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "would never run" in page and "cancelled instead of paused" in page
    assert not SLADefinition.objects.exists()


def test_duration_parsing():
    assert parse_duration("2d 4h") == 2 * 86400 + 4 * 3600
    assert parse_duration("90") == 90
    assert format_duration(4 * 3600 + 30 * 60) == "4h 30m"
    with pytest.raises(ValueError):
        parse_duration("soon")


def _definition(**kwargs):
    return SLADefinition.objects.create(
        **{
            "name": "Res",
            "target": "resolution",
            "practice": "incident",
            "active": True,
            "duration_seconds": 3600,
            "start_condition": {"state_category": OPEN},
            "stop_condition": {"state_category": ["resolved", "closed", "cancelled"]},
        }
        | kwargs
    )


def test_api_lists_definitions_and_previews(agent, superuser):
    current = _definition(name="Res 1h")
    draft = _definition(name="Res 8h", active=False, duration_seconds=8 * 3600, replaces=current)
    with time_machine.travel(datetime(2026, 11, 20, 9, tzinfo=ZoneInfo("UTC")), tick=False):
        incident_factory(by=agent)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        listed = client_for(agent).get("/api/v1/sla-definitions/").json()
        assert {d["name"] for d in listed} == {"Res 1h", "Res 8h"}
        assert (
            client_for(agent).post(f"/api/v1/sla-definitions/{draft.pk}/preview/", {}, format="json").status_code == 403
        )
        result = client_for(superuser).post(f"/api/v1/sla-definitions/{draft.pk}/preview/", {"days": 30}, format="json")
    assert result.status_code == 200
    assert result.json() == {
        "tickets": 1,
        "attached": 1,
        "breached": 0,
        "due_changed": 1,
        "baseline_attached": 1,
        "baseline_breached": 1,
    }


def test_recompute_command(agent):
    with time_machine.travel(datetime(2026, 11, 20, 9, tzinfo=ZoneInfo("UTC")), tick=False):
        incident = incident_factory(by=agent)
    definition = _definition(name="Late arrival")  # created after the incident: no clock yet
    assert not SLAClock.objects.filter(ticket=incident).exists()
    out, err = StringIO(), StringIO()
    call_command("sla_recompute", stdout=out, stderr=err)
    clock = SLAClock.objects.get(ticket=incident, definition=definition)
    assert clock.started_at == datetime(2026, 11, 20, 9, tzinfo=ZoneInfo("UTC"))
    assert "Recomputed the SLA clocks of 1 tickets" in out.getvalue()
    assert "100% 1/1" in err.getvalue()
