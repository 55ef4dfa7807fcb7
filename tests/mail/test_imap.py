"""The IMAP poller against a real IMAP server (pymap, run locally on 127.0.0.1): unseen mail is ingested once."""

import imaplib
import shutil
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from incidents.models import Incident
from mail.imap import mailbox_poll
from mail.models import InboundMessage, InboundStatus, Mailbox
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def imap_server():
    pymap = shutil.which("pymap", path=str(Path(sys.executable).parent))
    require_service(pymap is not None, "pymap (the IMAP server of the dev dependencies) is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            pymap,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-user",
            "desk",
            "--demo-password",
            "s3cret",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _append(port: int, **headers) -> None:
    msg = EmailMessage()
    msg["From"] = headers.pop("sender", "Bob <bob@example.org>")
    msg["To"] = "desk@example.com"
    msg["Subject"] = headers.pop("subject", "Printer jammed")
    msg["Message-ID"] = headers.pop("message_id")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Paper everywhere.")
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("desk", "s3cret")
    client.append("INBOX", None, None, msg.as_bytes())
    client.logout()


def _mailbox(port: int, password: str = "s3cret") -> Mailbox:
    return Mailbox.objects.create(
        name="Desk",
        address="desk@example.com",
        imap_host="127.0.0.1",
        imap_port=port,
        imap_ssl=False,
        imap_username="desk",
        imap_password=password,
    )


def test_poll_ingests_unseen_mail_once(imap_server):
    _append(imap_server, message_id="<one@example.org>")
    _append(imap_server, message_id="<two@example.org>", subject="Out of office", Auto_Submitted="auto-replied")
    mailbox = _mailbox(imap_server)
    assert mailbox_poll(mailbox_id=mailbox.pk) == 2
    assert Incident.objects.get().short_description == "Printer jammed"
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {
        InboundStatus.CREATED,
        InboundStatus.AUTO_REPLY,
    }
    assert mailbox_poll(mailbox_id=mailbox.pk) == 0  # flagged seen on the server
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_polled_at is not None and mailbox.polling_since is None


def test_a_wrong_password_is_recorded_not_raised(imap_server):
    mailbox = _mailbox(imap_server, password="wrong")
    assert mailbox_poll(mailbox_id=mailbox.pk) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error and mailbox.polling_since is None
