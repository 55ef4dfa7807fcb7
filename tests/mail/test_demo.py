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
