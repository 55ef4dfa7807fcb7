"""Suite 5, uploads: a corpus of hostile files is refused, or stored inertly: under a random name outside any served
directory, with a clean display name, and always downloaded with `Content-Disposition: attachment`,
`X-Content-Type-Options: nosniff` and a sandboxing CSP, never as HTML, SVG or XML.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.models import Attachment
from tests.conftest import client_for
from tests.factories import incident_factory
from tests.security.conftest import report

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * (20 * 1024 * 1024))  # 20 MiB of zeros in a few KiB
    return buffer.getvalue()


def _zip_slip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../../../tmp/evil.sh", b"#!/bin/sh\nrm -rf /\n")
    return buffer.getvalue()


# (name, content): every one must be refused, or accepted and served inertly.
CORPUS = [
    ("page.html", HTML),
    ("page.htm", HTML),
    ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'),
    ("image.svg", SVG),
    ("image.svgz", SVG),
    ("data.xml", b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>'),
    ("script.js", b"alert(1)"),
    ("run.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
    ("shell.php", b"<?php system($_GET['c']); ?>"),
    ("image.png.html", HTML),
    ("page.html.png", HTML),
    ("fake.png", HTML),
    ("fake.pdf", HTML),
    ("fake.jpg", PNG),
    ("fake.gif", b"<svg onload=alert(1)>"),
    ("polyglot.gif", GIF + b"<script>alert(1)</script>"),
    ("polyglot.png", PNG + HTML),
    ("polyglot.pdf", PDF + HTML),
    ("polyglot.jpg", JPEG + SVG),
    ("notes.txt", b"meeting notes <script>alert(1)</script>"),
    ("notes.txt", b"<HTML><BODY onload=alert(1)>"),
    ("late-markup.txt", b"a" * 600 + b"<script>alert(1)</script>"),
    ("binary.txt", b"text\x00binary"),
    ("export.csv", b"=cmd|' /C calc'!A0,@SUM(1+1)\n"),
    ("bomb.zip", _zip_bomb()),
    ("slip.zip", _zip_slip()),
    ("../../../../etc/passwd.txt", b"root:x:0:0"),
    ("..\\..\\windows\\win.ini.txt", b"[fonts]"),
    ("/absolute/path/report.pdf", PDF),
    ("line\r\nbreak.txt", b"header injection"),
    ('quote".txt', b"content-disposition injection"),
    ("nul\x00byte.txt", b"nul in the name"),
    ("bell\x07\x1bname.txt", b"control characters"),
    ("evil\u202egpj.txt", b"right-to-left override"),
    ("long" + "x" * 400 + ".txt", b"very long name"),
    (".htaccess", b"AddType application/x-httpd-php .txt"),
    ("rapport \u00e9t\u00e9 \u2603.pdf", PDF),
    ("empty.pdf", b""),
]
INERT_TYPES = re.compile(
    r"^(application/(pdf|zip|octet-stream|vnd\.[\w.-]+)|image/(png|jpeg|gif)|text/(plain|csv)"
    r"|message/rfc822)(;.*)?$"
)


@pytest.fixture
def ticket(agent, end_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return incident_factory(by=agent, caller=end_user)


def _upload(user, ticket, name: str, content: bytes):
    return client_for(user).post(
        f"/api/v1/incidents/{ticket.number}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.mark.parametrize(("name", "content"), CORPUS, ids=[f"{i:02d}" for i in range(len(CORPUS))])
def test_hostile_upload_is_refused_or_inert(ticket, end_user, tmp_path, name, content):
    response = _upload(end_user, ticket, name, content)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert "file" in response.json()
        assert not Attachment.objects.exists()
        return
    body = response.json()
    stored = Attachment.objects.get(pk=body["id"])
    # Stored under a random name inside MEDIA_ROOT, never the user's.
    path = Path(stored.file.path).resolve()
    assert path.is_relative_to(Path(tmp_path).resolve())
    assert stored.filename not in str(path)
    # A clean display name: no path, no control characters, no quotes, no bidi overrides, nothing active.
    shown = body["filename"]
    assert "/" not in shown and "\\" not in shown and '"' not in shown and not shown.startswith(".")
    assert not any(ord(ch) < 32 or ord(ch) == 127 or ch in "\u202a\u202b\u202c\u202d\u202e" for ch in shown)
    assert not re.search(r"\.(html?|xhtml|svgz?|xml|js|php|exe)$", shown, re.I)
    assert INERT_TYPES.match(body["content_type"]), body["content_type"]
    _assert_download_inert(client_for(end_user).get(body["download_url"]), content)


def _assert_download_inert(response, content: bytes):
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]
    )
    assert INERT_TYPES.match(response["Content-Type"]), response["Content-Type"]
    assert b"".join(response.streaming_content) == content  # stored as sent: a zip is never unpacked


def test_oversized_upload_refused(ticket, end_user, settings):
    settings.ITSM_ATTACHMENT_MAX_BYTES = 1024
    response = _upload(end_user, ticket, "big.pdf", PDF + b"0" * 2048)
    assert response.status_code == 400 and "file" in response.json()
    assert not Attachment.objects.exists()


def test_unicode_name_is_sent_as_rfc_6266_filename_star(ticket, end_user):
    body = _upload(end_user, ticket, "rapport \u00e9t\u00e9.pdf", PDF).json()
    response = client_for(end_user).get(body["download_url"])
    b"".join(response.streaming_content)  # read to the end, which closes the stored file
    assert "filename*=utf-8''rapport%20%C3%A9t%C3%A9.pdf" in response["Content-Disposition"]
    report("uploads", f"{len(CORPUS) + 2} hostile files tried: each refused or stored and served inertly")
