"""Mailboxes that create service requests: the mailbox's catalog item is ordered through the request services
(approval policy and fulfilment tasks as for any order), the message and its attachments stay on the requested
item, and replies by ticket number or Message-ID become public comments on the item or the request."""

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from catalog.models import CatalogCategory, CatalogItem, CatalogVariable, FulfilmentTaskTemplate
from catalog.services import catalog_item_publish
from itsm.enums import JournalKind
from itsm.models import Approval, Attachment, JournalEntry, OutboxMessage, Team
from itsm.services import outbox_send
from mail.inbound import email_ingest
from mail.models import InboundStatus, Mailbox
from mail.outbound import our_message_id
from requests_app.enums import FulfilmentTaskState, RequestedItemState
from requests_app.mail import CUT_NOTE
from requests_app.models import Request, RequestedItem
from tests.factories.requests import manager_policy, set_manager

pytestmark = pytest.mark.django_db


def general_item(*, approval: bool = False, extra_required: bool = False) -> CatalogItem:
    team = Team.objects.get_or_create(name="Service Desk")[0]
    category, _ = CatalogCategory.objects.get_or_create(slug="general", defaults={"name": "General"})
    item = CatalogItem.objects.create(
        name="General request",
        category=category,
        short_description="Ask for anything not in the catalog",
        approval_policy=manager_policy() if approval else None,
        fulfilment_group=team,
    )
    CatalogVariable.objects.create(item=item, name="summary", label="Summary", type="text", required=True, order=1)
    CatalogVariable.objects.create(
        item=item, name="details", label="Details", type="long_text", required=True, max_length=300, order=2
    )
    if extra_required:
        CatalogVariable.objects.create(item=item, name="cost_centre", label="Cost centre", required=True, order=3)
    FulfilmentTaskTemplate.objects.create(item=item, order=1, short_description="Look at the request", team=team)
    catalog_item_publish(item=item)
    return item


@pytest.fixture
def request_box():
    return Mailbox.objects.create(
        name="Requests",
        address="requests@example.com",
        creates="request",
        catalog_item=general_item(),
        subject_variable="summary",
        body_variable="details",
    )


def _mail(*, sender, subject="Need a second keyboard", body="Mine lost two keys.", message_id="<m1@example.org>", **h):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "requests@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in h.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _ingest_file(tmp_path: Path, msg: EmailMessage, box: Mailbox, name: str = "m.eml") -> str:
    path = tmp_path / name
    path.write_bytes(msg.as_bytes())
    call_command("ingest_email", str(path), mailbox=box.name)
    return path.name


def test_mailbox_validation_names_what_a_message_cannot_answer():
    item = general_item(extra_required=True)
    box = Mailbox(name="R", address="r@example.com", creates="request")
    with pytest.raises(ValidationError) as error:
        box.full_clean()
    assert "catalog_item" in error.value.message_dict
    box.catalog_item = item
    with pytest.raises(ValidationError) as error:
        box.full_clean()
    assert set(error.value.message_dict) == {"body_variable", "catalog_item"}
    assert error.value.message_dict["catalog_item"] == [
        "A message cannot answer the required questions: cost_centre, details, summary."
    ]
    box.body_variable, box.subject_variable = "details", "summary"
    with pytest.raises(ValidationError) as error:
        box.full_clean()
    assert error.value.message_dict == {
        "catalog_item": ["A message cannot answer the required questions: cost_centre."]
    }
    CatalogVariable.objects.filter(item=item, name="cost_centre").update(required=False, pattern=r"CC-\d{4}")
    catalog_item_publish(item=item)
    box.body_variable = "cost_centre"
    with pytest.raises(ValidationError) as error:
        box.full_clean()
    assert "subject_variable" not in error.value.message_dict
    assert "not a free-text question" in error.value.message_dict["body_variable"][0]
    box.body_variable = "nope"
    with pytest.raises(ValidationError) as error:
        box.full_clean()
    assert "no question 'nope'" in error.value.message_dict["body_variable"][0]
    box.body_variable = "details"
    box.full_clean()  # valid now


def test_new_mail_orders_the_item_with_tasks_and_keeps_files_on_the_item(request_box, end_user, tmp_path):
    msg = _mail(sender=f"{end_user.get_full_name()} <{end_user.email}>")
    msg.add_attachment(b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="quote.pdf")
    _ingest_file(tmp_path, msg, request_box)
    ritm = RequestedItem.objects.get()
    request = Request.objects.get()
    assert ritm.request_id == request.pk and ritm.caller == end_user and request.caller == end_user
    assert ritm.number.startswith("RITM") and request.number.startswith("REQ")
    assert ritm.variables == {"summary": "Need a second keyboard", "details": "Mine lost two keys."}
    # No approval policy: straight to fulfilment with the item's task.
    assert ritm.state == RequestedItemState.IN_FULFILMENT
    assert list(ritm.tasks.values_list("short_description", "state")) == [
        ("Look at the request", FulfilmentTaskState.OPEN)
    ]
    files = dict(Attachment.objects.filter(ticket=ritm).values_list("filename", "public"))
    assert files == {"original.eml": False, "quote.pdf": True}
    assert not Attachment.objects.filter(ticket=request).exists()
    record = request_box.messages.get()
    assert record.status == InboundStatus.CREATED and record.ticket_id == ritm.pk
    assert OutboxMessage.objects.filter(ticket=request, event="request.submitted", recipient=end_user).exists()


def test_approval_policy_applies_to_mailed_requests(end_user, agent):
    set_manager(end_user, agent)
    box = Mailbox.objects.create(
        name="Requests",
        address="requests@example.com",
        creates="request",
        catalog_item=general_item(approval=True),
        body_variable="details",
        subject_variable="summary",
    )
    outcome = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=box)
    ritm = RequestedItem.objects.get(pk=outcome.record.ticket_id)
    assert ritm.state == RequestedItemState.AWAITING_APPROVAL and not ritm.tasks.exists()
    assert Approval.objects.get(ticket=ritm).approver == agent


def test_long_text_is_cut_to_the_question_and_the_whole_message_kept(request_box, end_user):
    body = "word " * 200
    outcome = email_ingest(raw=_mail(sender=end_user.email, body=body).as_bytes(), mailbox=request_box)
    ritm = RequestedItem.objects.get(pk=outcome.record.ticket_id)
    assert len(ritm.variables["details"]) <= 300 and ritm.variables["details"].endswith(CUT_NOTE)
    original = Attachment.objects.get(ticket=ritm, filename="original.eml")
    assert original.size > 1000


def test_item_no_longer_orderable_fails_the_message_and_creates_nothing(request_box, end_user):
    CatalogItem.objects.filter(pk=request_box.catalog_item_id).update(active=False)
    outcome = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=request_box)
    assert outcome.status == InboundStatus.FAILED and "catalog_item" in outcome.record.reason
    assert not Request.objects.exists() and not RequestedItem.objects.exists()


def _comments(ticket, by):
    return list(
        JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.COMMENT, actor=by).values_list("body", flat=True)
    )


def test_replies_thread_by_number_and_message_id_onto_the_item_and_request(request_box, end_user, agent):
    created = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=request_box)
    ritm = RequestedItem.objects.get(pk=created.record.ticket_id)
    request = ritm.request

    def reply(n, **headers):
        subject = headers.pop("subject", "Re: hello")
        sender = headers.pop("sender", end_user.email)
        raw = _mail(sender=sender, subject=subject, body=f"Reply {n}.", message_id=f"<r{n}@example.org>", **headers)
        outcome = email_ingest(raw=raw.as_bytes(), mailbox=request_box)
        assert outcome.status == InboundStatus.COMMENTED, outcome.record.reason
        return outcome

    # The RITM number in the subject.
    assert reply(1, subject=f"Re: [{ritm.number}] keyboard").record.ticket_id == ritm.pk
    # The REQ number: the requester writes on their (only open) item.
    assert reply(2, subject=f"Re: [{request.number}] We have received your request").record.ticket_id == request.pk
    # Our notification's Message-ID (the confirmation is sent about the REQ).
    row = OutboxMessage.objects.get(ticket=request, event="request.submitted")
    outbox_send(message_id=row.pk)
    assert reply(3, In_Reply_To=our_message_id("m", row.pk)).record.ticket_id == request.pk
    # The first message's own Message-ID in the references.
    assert reply(4, References="<m1@example.org>").record.ticket_id == ritm.pk
    assert _comments(ritm, end_user) == ["Reply 1.", "Reply 2.", "Reply 3.", "Reply 4."]
    # An agent answering on the REQ writes a public comment on the request itself.
    reply(5, sender=agent.email, subject=f"RE: [{request.number}] question")
    assert _comments(request, agent) == ["Reply 5."]
    assert RequestedItem.objects.count() == 1 and Request.objects.count() == 1
    # Each message is kept on the ticket it threaded onto (the first and replies 1 and 4 on the item).
    assert Attachment.objects.filter(ticket=ritm, filename="original.eml").count() == 3
    assert Attachment.objects.filter(ticket=request, filename="original.eml").count() == 3


def test_incident_mailbox_unchanged_and_mail_app_never_imports_the_request_practice(end_user):
    box = Mailbox.objects.create(name="Desk", address="desk@example.com")
    outcome = email_ingest(raw=_mail(sender=end_user.email).as_bytes(), mailbox=box)
    assert outcome.record.ticket.kind == "incident"
    mail_dir = Path(__file__).resolve().parents[2] / "mail"
    offenders = [p.name for p in mail_dir.rglob("*.py") if "requests_app" in p.read_text()]
    assert offenders == []
