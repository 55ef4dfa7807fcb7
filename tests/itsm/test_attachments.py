"""Attachments: validation on upload, visibility, and downloads that browsers never render."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.models import Attachment
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(client, incident, name, content, **extra):
    return client.post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile(name, content), **extra},
        format="multipart",
    )


def test_attachment_upload_and_download(agent, end_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = incident_factory(by=agent, caller=end_user)
    response = _upload(client_for(end_user), incident, "screen shot.png", PNG)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["filename"] == "screen shot.png" and body["content_type"] == "image/png" and body["size"] == len(PNG)
    stored = Attachment.objects.get(pk=body["id"])
    assert "screen" not in stored.file.name  # stored under a random name
    download = client_for(end_user).get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == PNG
    assert incident.journal.filter(body__contains="screen shot.png").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b"<svg onload=alert(1)>"),
        ("fake.png", b"<script>alert(1)</script>"),
        ("notes.txt", b"hello <script>alert(1)</script>"),
        ("run.exe", b"MZ\x90\x00"),
        ("empty.txt", b""),
    ],
)
def test_attachment_refused(agent, name, content, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = incident_factory(by=agent)
    response = _upload(client_for(agent), incident, name, content)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not Attachment.objects.exists()


def test_attachment_too_large(agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ITSM_ATTACHMENT_MAX_BYTES = 100
    incident = incident_factory(by=agent)
    response = _upload(client_for(agent), incident, "big.txt", b"a" * 101)
    assert response.status_code == 400 and "file" in response.json()


def test_attachment_path_traversal_name_is_cleaned(agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = incident_factory(by=agent)
    response = _upload(client_for(agent), incident, "../../etc/pass\x07wd.txt", b"plain text")
    assert response.status_code == 201
    assert response.json()["filename"] == "passwd.txt"


def test_attachment_visibility(agent, end_user, other_end_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = incident_factory(by=agent, caller=end_user)
    public = _upload(client_for(agent), incident, "public.txt", b"for you").json()
    private = _upload(client_for(agent), incident, "private.txt", b"internal", public="false").json()
    caller = client_for(end_user)
    listed = [a["filename"] for a in caller.get(f"/api/v1/incidents/{incident.number}/attachments/").json()]
    assert listed == ["public.txt"]
    assert caller.get(private["download_url"]).status_code == 404
    allowed = caller.get(public["download_url"])
    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == b"for you"
    stranger = client_for(other_end_user)
    assert stranger.get(public["download_url"]).status_code == 404
    assert stranger.get("/api/v1/attachments/").json()["results"] == []
    assert _upload(caller, incident, "x.txt", b"x", public="false").status_code == 400
