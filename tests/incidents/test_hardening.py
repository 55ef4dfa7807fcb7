"""Findings of the first review: inputs that used to reach a 500, and holes in the incident rules."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.models import Incident
from itsm.models import JournalEntry
from tests.conftest import client_for
from tests.factories import (
    ConfigurationItemFactory,
    close_code,
    hold_reason,
    incident_factory,
    incident_in_state,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.mark.parametrize(
    "field", ["assignment_group", "caller", "assigned_to", "service", "configuration_item", "parent"]
)
@pytest.mark.parametrize("value", ["²", "٣", 99999999999999999999999, "99999999999999999999999", ["x"], {"a": 1}, True])
def test_odd_related_values_are_400_not_500(agent, field, value):
    response = client_for(agent).post(URL, {"short_description": "x", field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("param", ["caller", "assigned_to", "assignment_group", "service", "configuration_item"])
def test_odd_filter_values_are_400_not_500(agent, param):
    for value in ("²", "99999999999999999999999"):
        response = client_for(agent).get(URL, {param: value})
        assert response.status_code == 400


def test_deeply_nested_json_is_400(agent):
    body = '{"a":' + "[" * 5000 + "]" * 5000 + "}"
    for url in (URL, "/api/v1/auth/token/"):
        response = client_for(agent).post(url, body, content_type="application/json")
        assert response.status_code == 400


def test_end_user_resumes_only_when_awaited(agent, end_user):
    vendor = incident_in_state("on_hold", by=agent, caller=end_user)  # awaiting a vendor
    caller = client_for(end_user)
    assert caller.post(f"{URL}{vendor.number}/resume/", {}, format="json").status_code == 403
    assert "resume" not in {t["name"] for t in caller.get(f"{URL}{vendor.number}/transitions/").json()}
    waiting = incident_in_state("in_progress", by=agent, caller=end_user)
    services.incident_hold(incident=waiting, by=agent, reason=hold_reason("awaiting_caller"), comment="Which PC?")
    assert caller.post(f"{URL}{waiting.number}/resume/", {}, format="json").status_code == 200


def test_journal_records_hold_reason_and_resolution(agent):
    incident = incident_in_state("in_progress", by=agent)
    services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_vendor"))
    services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_change"))
    services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Patched the switch")
    services.incident_reopen(incident=incident, by=agent)
    bodies = list(incident.journal.filter(kind="transition").values_list("transition", "body"))
    assert ("hold", "Awaiting Vendor") in bodies and ("hold", "Awaiting Change") in bodies
    assert ("resolve", "Solution provided: Patched the switch") in bodies


def test_service_filled_from_ci_is_journaled(agent):
    ci = ConfigurationItemFactory(name="mail-01")
    incident = incident_factory(by=agent)
    services.incident_update(incident=incident, by=agent, configuration_item=ci)
    incident.refresh_from_db()
    assert incident.service == ci.service
    assert incident.journal.filter(kind="field_change", field="service", new_value=ci.service.name).exists()


def test_end_user_cannot_set_impact(end_user):
    response = client_for(end_user).post(URL, {"short_description": "x", "impact": 1}, format="json")
    assert response.status_code == 400 and "impact" in response.json()
    response = client_for(end_user).post(URL, {"short_description": "x", "urgency": 1}, format="json")
    assert response.status_code == 201 and response.json()["priority"] == 3


def test_end_user_cannot_probe_usernames(end_user, agent):
    for value in ("nobody", agent.username):
        response = client_for(end_user).post(URL, {"short_description": "x", "caller": value}, format="json")
        assert response.json() == {"caller": ["Only agents can set this field."]}


def test_stale_instance_does_not_overwrite_concurrent_field_change(agent, team, other_agent):
    incident = incident_in_state("in_progress", by=agent)
    stale = Incident.objects.get(pk=incident.pk)
    services.incident_update(incident=incident, by=agent, assignment_group=team, short_description="Changed")
    services.incident_hold(incident=stale, by=agent, reason=hold_reason("awaiting_vendor"))
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.assignment_group == team and fresh.short_description == "Changed" and fresh.state == "on_hold"


def test_transition_state_checked_before_input(agent):
    incident = incident_in_state("closed", by=agent)
    response = client_for(agent).post(f"{URL}{incident.number}/resolve/", {}, format="json")
    assert response.status_code == 409


def test_text_limits(agent):
    incident = incident_in_state("in_progress", by=agent)
    response = client_for(agent).post(
        f"{URL}{incident.number}/hold/", {"hold_reason": "awaiting_vendor", "comment": "x" * 20001}, format="json"
    )
    assert response.status_code == 400 and "comment" in response.json()


def test_no_attachments_on_closed_incident(agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = incident_in_state("closed", by=agent)
    response = client_for(agent).post(
        f"{URL}{incident.number}/attachments/",
        {"file": SimpleUploadedFile("a.txt", b"hello")},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()


def test_parent_resolves_grandchildren(agent):
    parent = incident_in_state("in_progress", by=agent, major_incident=True)
    child = incident_factory(by=agent, parent=parent)
    grandchild = incident_factory(by=agent, parent=child)
    services.incident_resolve(incident=parent, by=agent, close_code=close_code(), close_notes="Fixed upstream")
    grandchild.refresh_from_db()
    assert grandchild.state == "resolved"


def test_ordering_is_stable_with_ties(agent):
    for _ in range(6):
        incident_factory(by=agent)
    client = client_for(agent)
    seen = []
    page = client.get(URL, {"ordering": "priority", "page_size": 2}).json()
    while True:
        seen += [row["number"] for row in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert len(seen) == len(set(seen)) == 6
    assert JournalEntry.objects.exists()
