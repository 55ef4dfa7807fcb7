"""Attachment questions through the JSON API: upload first (POST /api/v1/uploads/, the attachment rules apply), then
send the upload's id as the answer. The upload becomes an attachment of the requested item and is used up; someone
else's, an unknown, a used or an expired id is a 400 naming the variable; unused uploads expire and are purged."""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import CatalogVariable
from catalog.services import catalog_item_publish
from itsm.models import Attachment
from requests_app.models import RequestedItem, Upload
from requests_app.tasks import uploads_purge_task
from tests.conftest import client_for
from tests.factories.requests import laptop_item

pytestmark = pytest.mark.django_db

UPLOADS = "/api/v1/uploads/"
REQUESTS = "/api/v1/requests/"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def item():
    """The laptop with two attachment questions: a quote (any model) and a justification (developer model only)."""
    item = laptop_item(approval=False)
    CatalogVariable.objects.create(item=item, name="quote", label="Supplier quote", type="attachment", order=20)
    CatalogVariable.objects.create(
        item=item,
        name="justification",
        label="Why a developer laptop",
        type="attachment",
        order=21,
        show_when_variable="model",
        show_when_value="Developer",
    )
    catalog_item_publish(item=item)
    return item


def upload(user, name="Quote.pdf", content=PDF):
    return client_for(user).post(UPLOADS, {"file": SimpleUploadedFile(name, content)}, format="multipart")


def order(user, item, **variables):
    line = {"catalog_item": item.pk, "quantity": 1, "variables": {"model": "Standard", **variables}}
    return client_for(user).post(REQUESTS, {"items": [line]}, format="json")


def stored(upload_id) -> Path:
    return Path(default_storage.path(Upload.objects.get(pk=upload_id).file.name))


def test_upload_then_order_attaches_the_file_to_the_item(item, end_user, django_capture_on_commit_callbacks):
    sent = upload(end_user, name="../../etc/Quote 2026.pdf")
    assert sent.status_code == 201, sent.json()
    body = sent.json()
    assert body["filename"] == "Quote 2026.pdf" and body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf" and body["expires_at"] > body["created_at"]
    path = stored(body["id"])
    assert path.read_bytes() == PDF and "Quote" not in path.name  # stored under a random name
    with django_capture_on_commit_callbacks(execute=True):
        response = order(end_user, item, quote=body["id"])
    assert response.status_code == 201, response.json()
    ritm = RequestedItem.objects.get(request__number=response.json()["number"])
    assert ritm.variables["quote"] == "Quote 2026.pdf"
    [attachment] = Attachment.objects.filter(ticket=ritm)
    assert (attachment.filename, attachment.public, attachment.uploaded_by) == ("Quote 2026.pdf", True, end_user)
    with attachment.file.open("rb") as handle:
        assert handle.read() == PDF
    # Used up: the row at once, its file after commit.
    assert not Upload.objects.filter(pk=body["id"]).exists() and not path.exists()
    answers = client_for(end_user).get(f"/api/v1/requested-items/{ritm.number}/").json()["answers"]
    quote = {"name": "quote", "label": "Supplier quote", "value": "Quote 2026.pdf", "display": "Quote 2026.pdf"}
    assert quote in answers


def test_an_upload_answers_once(item, end_user):
    upload_id = upload(end_user).json()["id"]
    assert order(end_user, item, quote=upload_id).status_code == 201
    again = order(end_user, item, quote=upload_id)
    assert again.status_code == 400 and "items[0].variables.quote" in again.json()
    assert RequestedItem.objects.count() == 1


@pytest.mark.parametrize("whose", ["someone else's", "unknown", "not an id", "a number"])
def test_unusable_upload_id_is_400_naming_the_variable(item, end_user, other_end_user, whose):
    theirs = upload(other_end_user).json()["id"]
    value = {"someone else's": theirs, "unknown": str(uuid.uuid4()), "not an id": "../etc/passwd", "a number": 7}[whose]
    response = order(end_user, item, quote=value)
    assert response.status_code == 400
    [message] = response.json()["items[0].variables.quote"]
    assert "No upload with this id is waiting for you" in message
    assert not RequestedItem.objects.exists() and not Attachment.objects.exists()
    # The owner's upload is untouched and still theirs to use.
    assert Upload.objects.filter(pk=theirs).exists()
    assert order(other_end_user, item, quote=theirs).status_code == 201


def test_a_refused_order_does_not_use_the_upload(item, end_user):
    upload_id = upload(end_user).json()["id"]
    bad = order(end_user, item, quote=upload_id, monitors=9)
    assert bad.status_code == 400 and list(bad.json()) == ["items[0].variables.monitors"]
    assert Upload.objects.filter(pk=upload_id).exists() and stored(upload_id).exists()
    assert order(end_user, item, quote=upload_id).status_code == 201


def test_the_file_of_a_hidden_question_is_not_attached(item, end_user):
    upload_id = upload(end_user).json()["id"]
    response = order(end_user, item, justification=upload_id)  # model Standard: the question is hidden
    assert response.status_code == 201, response.json()
    ritm = RequestedItem.objects.get()
    assert "justification" not in ritm.variables and not Attachment.objects.filter(ticket=ritm).exists()
    assert Upload.objects.filter(pk=upload_id).exists()


def test_one_upload_may_answer_two_lines_of_one_order(item, end_user):
    upload_id = upload(end_user).json()["id"]
    line = {"catalog_item": item.pk, "quantity": 1, "variables": {"model": "Standard", "quote": upload_id}}
    response = client_for(end_user).post(REQUESTS, {"items": [line, line]}, format="json")
    assert response.status_code == 201, response.json()
    assert Attachment.objects.filter(filename="Quote.pdf").count() == 2
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("big.txt", b"x" * 2049, "larger than 2048 bytes"),
        ("tool.exe", b"MZ\x90\x00", "'.exe' are not accepted"),
        ("fake.pdf", b"<html>not a pdf</html>", "not a valid .pdf"),
        ("page.txt", b"<script>alert(1)</script>", "must not contain binary data or markup"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_upload_follows_the_attachment_rules(end_user, settings, name, content, reason):
    settings.ITSM_ATTACHMENT_MAX_BYTES = 2048
    response = upload(end_user, name=name, content=content)
    assert response.status_code == 400 and reason in response.json()["file"][0], response.json()
    assert not Upload.objects.exists()


def test_unused_uploads_are_capped_per_user(end_user, other_end_user, settings):
    settings.ITSM_UPLOAD_MAX_PENDING = 2
    assert upload(end_user).status_code == upload(end_user).status_code == 201
    third = upload(end_user)
    assert third.status_code == 400 and "2 unused uploads" in third.json()["file"][0]
    assert upload(other_end_user).status_code == 201  # per user


def test_expired_uploads_answer_nothing_and_are_purged(item, end_user, settings, django_capture_on_commit_callbacks):
    settings.ITSM_UPLOAD_EXPIRY_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        old_id = upload(end_user, name="old.pdf").json()["id"]
        old_path = stored(old_id)
        clock.shift(timedelta(hours=20))
        fresh_id = upload(end_user, name="fresh.pdf").json()["id"]
        clock.shift(timedelta(hours=4, seconds=1))
        late = order(end_user, item, quote=old_id)  # expired on read, before any purge ran
        assert late.status_code == 400 and "items[0].variables.quote" in late.json()
        with django_capture_on_commit_callbacks(execute=True):
            assert uploads_purge_task() == 1
        assert uploads_purge_task() == 0  # safe to run twice
    assert not Upload.objects.filter(pk=old_id).exists() and not old_path.exists()
    assert Upload.objects.filter(pk=fresh_id).exists() and stored(fresh_id).exists()


def test_upload_needs_a_signed_in_user_and_is_post_only(api, end_user):
    assert api.post(UPLOADS, {"file": SimpleUploadedFile("a.txt", b"words")}, format="multipart").status_code == 401
    assert client_for(end_user).get(UPLOADS).status_code == 405
    missing = client_for(end_user).post(UPLOADS, {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()


def test_portal_style_files_still_work(item, end_user):
    from requests_app.services import request_create

    request = request_create(
        by=end_user,
        items=[
            {
                "catalog_item": item.pk,
                "variables": {"model": "Standard"},
                "files": {"quote": SimpleUploadedFile("scan.pdf", PDF)},
            }
        ],
    )
    assert Attachment.objects.get(ticket__in=request.items.all()).filename == "scan.pdf"
