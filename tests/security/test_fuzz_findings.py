"""Regression tests for what the API fuzzer (test_api_fuzz.py) found, each pinned in a fast in-process test."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from itsm.services import attachment_add
from tests.conftest import client_for
from tests.factories import incident_in_state

pytestmark = pytest.mark.django_db


def test_bad_cursor_and_page_size_are_400_naming_the_parameter(agent):
    client = client_for(agent)
    response = client.get("/api/v1/incidents/?cursor=garbage")
    assert response.status_code == 400 and "cursor" in response.json()
    for size in ("abc", "0", "-3", "9" * 5000):
        response = client.get(f"/api/v1/incidents/?page_size={size}")
        assert response.status_code == 400 and "page_size" in response.json(), size
    assert client.get("/api/v1/incidents/?page_size=1000").status_code == 200  # capped, not refused


@override_settings(DEBUG=False)
def test_unmatched_api_url_is_a_json_404(agent):
    response = client_for(agent).get("/api/v1/incidents/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json()["code"] == "not_found"


def test_nul_in_a_related_name_is_400_not_500(agent):
    response = client_for(agent).post(
        "/api/v1/incidents/", {"short_description": "x", "caller": "a\x00b"}, format="json"
    )
    assert response.status_code == 400 and "caller" in response.json()


def test_problem_created_with_its_notes(agent):
    body = {"short_description": "Disk fills", "workaround": "Purge /tmp", "cause_notes": "Logs", "fix_notes": ""}
    response = client_for(agent).post("/api/v1/problems/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["workaround"] == "Purge /tmp" and response.json()["cause_notes"] == "Logs"


def test_attachment_whose_file_is_gone_is_404(agent):
    incident = incident_in_state("in_progress", by=agent)
    attachment = attachment_add(
        ticket=incident, by=agent, uploaded=SimpleUploadedFile("a.txt", b"hello\n", "text/plain")
    )
    attachment.file.storage.delete(attachment.file.name)
    response = client_for(agent).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 404


def test_schema_documents_null_and_blank_read_only_values(agent):
    schema = client_for(agent).get("/api/schema/?format=json").json()
    incident = schema["components"]["schemas"]["Incident"]["properties"]
    assert incident["hold_reason"].get("nullable") is True
    assert incident["close_code"].get("nullable") is True
    operations = schema["paths"]["/api/v1/incidents/"]["get"]["responses"]
    assert {"400", "404", "429"} <= set(operations)
