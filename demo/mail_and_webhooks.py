"""Demo data for the channels: a mailbox (fed by `manage.py ingest_email` until an admin gives it an IMAP server), a
conversation by e-mail (a new incident from a user's mail, an agent's question, the user's reply threaded onto it
with the quoted history stripped), an auto-reply set aside, and a webhook endpoint, switched off."""

from __future__ import annotations

from email.message import EmailMessage

from django.db import transaction

from incidents.models import Incident
from incidents.services import incident_comment
from itsm.models import OutboxMessage
from mail.inbound import email_ingest
from mail.models import Mailbox
from mail.outbound import our_message_id
from webhooks.models import WebhookEndpoint


def _mail(*, sender, subject: str, body: str, message_id: str, to: str = "servicedesk@example.com", **headers: str):
    msg = EmailMessage()
    msg["From"] = f"{sender.get_full_name()} <{sender.email}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def seed_channels(seeder) -> list[int]:
    """The demo mailbox, one e-mail conversation and a disabled webhook endpoint; returns the incidents created."""
    mailbox, _created = Mailbox.objects.get_or_create(
        name="Service desk", defaults={"address": "servicedesk@example.com", "unknown_senders": "create"}
    )
    WebhookEndpoint.objects.get_or_create(
        name="Example integration",
        defaults={
            "url": "https://integrations.example.com/itsm/events",
            "events": ["ticket.created", "ticket.state_changed", "sla.breached"],
            "active": False,
        },
    )
    caller = seeder.end_users[0]
    agent = next(iter(seeder.team_agents.values()))[0]
    created = email_ingest(
        raw=_mail(
            sender=caller,
            subject="Cannot print to the 3rd floor printer",
            body="Hello,\n\nSince this morning nothing I send reaches the printer on the 3rd floor.\n\n-- \n"
            f"{caller.get_full_name()}\nFinance",
            message_id="<demo-printer-1@example.com>",
        ),
        mailbox=mailbox,
    )
    incident = Incident.objects.get(pk=created.record.ticket_id)
    with transaction.atomic():
        incident_comment(incident=incident, by=agent, body="Does the printer show an error on its display?")
    question = OutboxMessage.objects.filter(ticket=incident, event="incident.commented").order_by("-pk").first()
    email_ingest(
        raw=_mail(
            sender=caller,
            subject=f"Re: [{incident.number}] New comment: {incident.short_description}",
            body="Yes: 'PC LOAD LETTER'.\n\nOn Monday the service desk wrote:\n> Does the printer show an error?",
            message_id="<demo-printer-2@example.com>",
            In_Reply_To=our_message_id("m", question.pk) if question else "",
        ),
        mailbox=mailbox,
    )
    email_ingest(
        raw=_mail(
            sender=caller,
            subject="Automatic reply: out of office",
            body="I am out of the office until Monday.",
            message_id="<demo-ooo@example.com>",
            Auto_Submitted="auto-replied",
        ),
        mailbox=mailbox,
    )
    return [incident.pk]


def seed_request_mailbox(seeder) -> list[int]:
    """A second mailbox, requests@example.com, whose new mail orders a "General request" (subject and text answer
    its two questions; no approval, one triage task for the service desk), and one request that came in by mail.
    Runs after the catalog is seeded; returns the ticket ids made."""
    from catalog.models import CatalogCategory, CatalogItem, CatalogVariable, FulfilmentTaskTemplate
    from catalog.services import catalog_item_publish
    from requests_app.models import RequestedItem

    desk = seeder.teams["Service Desk"]
    item = CatalogItem.objects.filter(name="General request").first()
    if item is None:
        category, _ = CatalogCategory.objects.get_or_create(
            slug="general", defaults={"name": "Something else", "icon": "box", "order": 90}
        )
        item = CatalogItem.objects.create(
            name="General request",
            category=category,
            icon="box",
            short_description="Ask for something the catalog does not list.",
            description="Also what mail to requests@example.com orders.",
            fulfilment_group=desk,
            order=900,
        )
        CatalogVariable.objects.create(item=item, name="summary", label="What do you need?", required=True, order=1)
        CatalogVariable.objects.create(
            item=item, name="details", label="Details", type="long_text", required=True, order=2
        )
        FulfilmentTaskTemplate.objects.create(
            item=item, order=1, short_description="Triage the request", team=desk, instructions="Fulfil or route it."
        )
        catalog_item_publish(item=item, by=seeder.admin)
    mailbox, _created = Mailbox.objects.get_or_create(
        name="Requests",
        defaults={
            "address": "requests@example.com",
            "creates": "request",
            "catalog_item": item,
            "subject_variable": "summary",
            "body_variable": "details",
        },
    )
    mailbox.full_clean()
    caller = seeder.end_users[2]
    created = email_ingest(
        raw=_mail(
            sender=caller,
            to=mailbox.address,
            subject="A second power adapter for my desk",
            body="Hello,\n\nCould I get a second laptop power adapter for my home desk?\n\n"
            f"Thanks,\n{caller.first_name}",
            message_id="<demo-request-1@example.com>",
        ),
        mailbox=mailbox,
    )
    ritm = RequestedItem.objects.get(pk=created.record.ticket_id)
    return [ritm.request_id, ritm.pk, *ritm.tasks.values_list("pk", flat=True)]
