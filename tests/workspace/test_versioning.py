"""Conflicting edits: the version on Ticket, the workspace refusing to overwrite, the API's ETag / If-Match."""

import pytest
from django.urls import reverse

from incidents.services import incident_update
from itsm.models import Ticket
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db


def test_version_bumped_by_field_changes_and_transitions(agent):
    incident = incident_factory(by=agent)
    created = Ticket.objects.get(pk=incident.pk).version
    incident_update(incident=incident, by=agent, short_description="Changed")
    assert Ticket.objects.get(pk=incident.pk).version == created + 1 == incident.version
    incident_update(incident=incident, by=agent, short_description="Changed")  # no change, no new version
    assert Ticket.objects.get(pk=incident.pk).version == created + 1
    entry = incident.journal.filter(field="short_description").get()
    assert entry.ticket_version == created + 1


def _fields(incident, **overrides):
    data = {
        "short_description": incident.short_description,
        "description": incident.description,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "assignment_group": incident.assignment_group_id or "",
        "assigned_to": incident.assigned_to_id or "",
        "service": "",
        "configuration_item": "",
        "version": incident.version,
    }
    return data | overrides


def test_workspace_save_refuses_stale_version_and_shows_changes(client, agent, other_agent):
    incident = incident_factory(by=agent, short_description="Printer jams")
    loaded = Ticket.objects.get(pk=incident.pk)
    incident_update(incident=incident, by=other_agent, short_description="Printer jams on floor 3")
    client.force_login(agent)
    url = reverse("workspace:detail", args=["incidents", incident.number])
    response = client.post(url, _fields(loaded, short_description="Mine", version=loaded.version))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Changed by" in body and "agent_b" in body
    assert "Printer jams on floor 3" in body  # what they changed
    assert Ticket.objects.get(pk=incident.pk).short_description == "Printer jams on floor 3"
    # With the current version the save goes through.
    current = Ticket.objects.get(pk=incident.pk)
    response = client.post(url, _fields(current, short_description="Mine", version=current.version))
    assert response.status_code == 302
    assert Ticket.objects.get(pk=incident.pk).short_description == "Mine"


def test_api_etag_and_if_match(agent):
    incident = incident_factory(by=agent)
    api = client_for(agent)
    url = f"/api/v1/incidents/{incident.number}/"
    response = api.get(url)
    etag = response["ETag"]
    assert etag == f'"{Ticket.objects.get(pk=incident.pk).version}"'
    ok = api.patch(url, {"short_description": "First"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok["ETag"] != etag
    stale = api.patch(url, {"short_description": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "has changed since you read it" in stale.json()["detail"]
    assert stale.json()["current_etag"] == ok["ETag"]
    assert Ticket.objects.get(pk=incident.pk).short_description == "First"
    # A stale If-Match on a transition is refused too; no If-Match works as before.
    assert api.post(url + "start/", {}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert api.patch(url, {"short_description": "Third"}, format="json").status_code == 200
