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


def _mail(*, sender, subject: str, body: str, message_id: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{sender.get_full_name()} <{sender.email}>"
    msg["To"] = "servicedesk@example.com"
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
