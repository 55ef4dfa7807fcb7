"""The demo shows the channels: a mailbox, a conversation by e-mail and a webhook endpoint that is switched off."""

import pytest
from django.core.management import call_command

from itsm.enums import JournalKind
from itsm.models import JournalEntry
from mail.models import InboundMessage, InboundStatus, Mailbox
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_seed_demo_has_a_mailbox_an_email_conversation_and_a_disabled_webhook():
    call_command("seed_demo", incidents=5, stdout=None)
    assert Mailbox.objects.filter(address="servicedesk@example.com").exists()
    assert WebhookEndpoint.objects.get(name="Example integration").active is False
    assert not WebhookDelivery.objects.exists()
    statuses = dict(InboundMessage.objects.values_list("message_id", "status"))
    assert {
        "<demo-printer-1@example.com>": InboundStatus.CREATED,
        "<demo-printer-2@example.com>": InboundStatus.COMMENTED,
        "<demo-ooo@example.com>": InboundStatus.AUTO_REPLY,
    }.items() <= statuses.items()
    ticket = InboundMessage.objects.get(message_id="<demo-printer-1@example.com>").ticket
    reply = JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.COMMENT, actor=ticket.caller).last()
    assert reply.body == "Yes: 'PC LOAD LETTER'."
    # The second mailbox orders a general request: REQ, RITM in fulfilment with its task, message kept on the RITM.
    box = Mailbox.objects.get(address="requests@example.com")
    assert box.creates == "request" and box.catalog_item.name == "General request"
    ordered = InboundMessage.objects.get(message_id="<demo-request-1@example.com>")
    assert ordered.status == InboundStatus.CREATED and ordered.ticket.number.startswith("RITM")
    item = ordered.ticket.as_requested_item
    assert item.state == "in_fulfilment" and item.tasks.count() == 1 and item.request.number.startswith("REQ")
    assert item.variables["summary"] == "A second power adapter for my desk"
    assert item.attachments.filter(filename="original.eml").exists()
