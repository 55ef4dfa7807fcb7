"""Email to ticket: new mail, threaded replies, automatic mail and loops, senders, charsets and attachments, and
the real corpus in shared/data/emails (read in place when present)."""

import csv
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.models import Incident
from itsm.enums import JournalKind
from itsm.models import Attachment, JournalEntry, OutboxMessage
from itsm.services import outbox_send
from mail.inbound import email_ingest, html_to_text, reply_text
from mail.models import InboundMessage, InboundStatus, Mailbox
from mail.outbound import our_message_id

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "emails"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/data/emails")


@pytest.fixture
def mailbox(db):
    return Mailbox.objects.create(name="Desk", address="desk@example.com")


def _mail(*, sender="Alice Doe <alice@example.org>", subject="VPN is down", body="It fails since 9am.", **headers):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "desk@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", f"<{abs(hash((sender, subject, body)))}@example.org>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_new_mail_creates_an_incident_for_a_new_end_user(mailbox):
    outcome = email_ingest(raw=_mail().as_bytes(), mailbox=mailbox)
    assert outcome.status == InboundStatus.CREATED
    incident = Incident.objects.get(pk=outcome.record.ticket_id)
    assert incident.short_description == "VPN is down" and "9am" in incident.description
    assert incident.caller.email == "alice@example.org" and incident.caller.first_name == "Alice"
    assert Attachment.objects.filter(ticket=incident, filename="original.eml", public=False).exists()
    again = email_ingest(raw=_mail().as_bytes(), mailbox=mailbox)
    assert again.created is False and Incident.objects.count() == 1


def test_unknown_sender_rejected_when_the_mailbox_says_so(mailbox):
    mailbox.unknown_senders = "reject"
    mailbox.save()
    outcome = email_ingest(raw=_mail().as_bytes(), mailbox=mailbox)
    assert outcome.status == InboundStatus.REJECTED and Incident.objects.count() == 0


def test_reply_threads_by_our_message_id_and_only_new_text_becomes_the_comment(mailbox, agent, end_user):
    created = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=mailbox)
    incident = Incident.objects.get(pk=created.record.ticket_id)
    row = OutboxMessage.objects.get(ticket=incident, event="incident.created")
    outbox_send(message_id=row.pk)
    body = "Still broken.\n\n-- \nAlice, ACME\n\nOn Mon, 1 Jan 2026 at 10:00, Desk <desk@example.com> wrote:\n> Logged."
    reply = _mail(
        sender=end_user.email,
        subject="Re: something else entirely",
        body=body,
        In_Reply_To=our_message_id("m", row.pk),
        message_id="<reply-1@example.org>",
    )
    outcome = email_ingest(raw=reply.as_bytes(), mailbox=mailbox)
    assert outcome.status == InboundStatus.COMMENTED and outcome.record.ticket_id == incident.pk
    comment = JournalEntry.objects.filter(ticket=incident, kind=JournalKind.COMMENT, actor=end_user).first()
    assert comment.body == "Still broken."
    assert Attachment.objects.filter(ticket=incident, filename="original.eml").count() == 2


def test_reply_threads_by_number_in_subject_else_new_ticket(mailbox, agent, end_user):
    first = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=mailbox)
    number = first.record.ticket.number
    by_subject = email_ingest(
        raw=_mail(sender=end_user.email, subject=f"RE: [{number}] VPN", body="more", message_id="<b@x>").as_bytes(),
        mailbox=mailbox,
    )
    assert by_subject.status == InboundStatus.COMMENTED and by_subject.record.ticket.number == number
    stranger = email_ingest(
        raw=_mail(sender="mallory@evil.example", subject=f"[{number}] hi", message_id="<c@x>").as_bytes(),
        mailbox=mailbox,
    )
    # A stranger may not comment on someone else's incident: they get their own.
    assert stranger.status == InboundStatus.CREATED and stranger.record.ticket.number != number


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Auto_Submitted": "auto-replied"}, InboundStatus.AUTO_REPLY),
        ({"Precedence": "bulk"}, InboundStatus.AUTO_REPLY),
        ({"X_Autoreply": "yes"}, InboundStatus.AUTO_REPLY),
        ({"List_Id": "<users.lists.example.org>"}, InboundStatus.AUTO_REPLY),
        ({"subject": "Out of Office: VPN"}, InboundStatus.AUTO_REPLY),
        ({"sender": "MAILER-DAEMON@example.org"}, InboundStatus.BOUNCE),
        ({"sender": "servicedesk@localhost"}, InboundStatus.LOOP),
        ({"message_id": "OURS"}, InboundStatus.LOOP),
    ],
)
def test_automatic_mail_and_our_own_never_make_tickets_or_replies(mailbox, headers, status):
    if headers.get("message_id") == "OURS":
        headers["message_id"] = our_message_id("m", 12345)
    outcome = email_ingest(raw=_mail(**headers).as_bytes(), mailbox=mailbox)
    assert outcome.status == status
    assert Incident.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_per_sender_rate_limit(mailbox):
    mailbox.rate_limit_per_hour = 2
    mailbox.save()
    outcomes = [email_ingest(raw=_mail(subject=f"s{i}").as_bytes(), mailbox=mailbox).status for i in range(3)]
    assert outcomes == [InboundStatus.CREATED, InboundStatus.CREATED, InboundStatus.RATE_LIMITED]


def test_html_only_mail_is_converted_safely(mailbox):
    msg = _mail()
    msg.set_content("<p>Hello <b>desk</b></p><script>alert(1)</script><style>p{}</style>", subtype="html")
    outcome = email_ingest(raw=msg.as_bytes(), mailbox=mailbox)
    description = outcome.record.ticket.description
    assert "Hello desk" in description and "alert" not in description and "<" not in description


def test_encoded_names_charsets_and_attachments(mailbox):
    msg = _mail(subject="=?utf-8?q?Caf=C3=A9_cass=C3=A9?=")
    msg.set_content("Grüße aus Köln", charset="iso-8859-1", cte="quoted-printable")
    msg.add_attachment(b"col1,col2\n1,2\n", maintype="text", subtype="csv", filename="Übersicht März.csv")
    msg.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="=?utf-8?b?0L7RgtGH0LXRgi5wZGY=?="
    )
    outcome = email_ingest(raw=msg.as_bytes(), mailbox=mailbox)
    ticket = outcome.record.ticket
    assert ticket.short_description == "Café cassé" and ticket.description == "Grüße aus Köln"
    names = set(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True))
    assert {"Übersicht März.csv", "отчет.pdf", "original.eml"} <= names


def test_malformed_bytes_never_crash(mailbox):
    outcome = email_ingest(raw=b"\xff\xfe\x00garbage\r\n\r\n\x00", mailbox=mailbox)
    assert outcome.record.pk is not None and outcome.status in set(InboundStatus.values)


def test_talon_reply_extraction_matches_upstream_expectations():
    expected_file = CORPUS / "EXPECTED.json"
    if not expected_file.exists():
        pytest.skip("shared/data/emails is not here")
    expected = json.loads(expected_file.read_text())
    root = CORPUS.parents[2]
    for path, text in expected["talon_html_replies"].items():
        got = reply_text(html_to_text((root / path).read_text()))
        assert got.split() == text.split(), path
    from email import message_from_bytes, policy

    from mail.inbound import message_body

    for path, text in expected["talon_standard_replies"].items():
        msg = message_from_bytes((root / path).read_bytes(), policy=policy.default)
        assert reply_text(message_body(msg)) == text.strip(), path


def _corpus_files() -> list[Path]:
    manifest = CORPUS / "MANIFEST.csv"
    if not manifest.exists():
        return []
    with manifest.open() as handle:
        return [CORPUS.parents[2] / row["file"] for row in csv.DictReader(handle)]


def test_every_corpus_message_ingests_and_machine_mail_makes_nothing(mailbox, capsys):
    files = _corpus_files()
    if not files:
        pytest.skip("shared/data/emails is not here")
    expected = json.loads((CORPUS / "EXPECTED.json").read_text())["machine_generated"]
    outcomes = {}
    for path in files:
        outcome = email_ingest(raw=path.read_bytes(), mailbox=mailbox)
        assert outcome.status != InboundStatus.FAILED, (path, outcome.record.reason)
        outcomes[str(path.relative_to(CORPUS.parents[2]))] = outcome
    for path in expected:
        outcome = outcomes[path]
        assert outcome.status in (InboundStatus.BOUNCE, InboundStatus.AUTO_REPLY), path
        assert outcome.record.ticket_id is None
    counts = {}
    for outcome in outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    with capsys.disabled():
        print(f"\ncorpus: {len(files)} messages ingested: {dict(sorted(counts.items()))}")
    sent_before = OutboxMessage.objects.exclude(event="incident.created").count()
    assert sent_before == 0  # nothing but the new tickets' own acknowledgements


def test_ingest_email_command_reads_files(mailbox, tmp_path):
    path = tmp_path / "one.eml"
    path.write_bytes(_mail().as_bytes())
    call_command("ingest_email", str(path))
    assert InboundMessage.objects.get().status == InboundStatus.CREATED
