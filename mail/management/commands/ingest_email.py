"""manage.py ingest_email FILE...: feed RFC 5322 message files to ingestion, as the IMAP poller would."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mail.inbound import email_ingest
from mail.models import Mailbox


class Command(BaseCommand):
    help = "Ingest RFC 5322 message files (new tickets, replies as comments; automatic mail set aside)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--mailbox", help="name or address of the mailbox the messages arrived at")

    def handle(self, *args, files, mailbox=None, **options) -> None:
        box = None
        if mailbox:
            box = Mailbox.objects.filter(name=mailbox).first() or Mailbox.objects.filter(address=mailbox).first()
            if box is None:
                raise CommandError(f"No mailbox named {mailbox!r}.")
        elif Mailbox.objects.filter(active=True).count() == 1:
            box = Mailbox.objects.get(active=True)
        counts: dict[str, int] = {}
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: {exc}") from exc
            outcome = email_ingest(raw=raw, mailbox=box)
            status = outcome.status if outcome.created else "duplicate"
            counts[status] = counts.get(status, 0) + 1
            ticket = outcome.record.ticket.number if outcome.record.ticket_id else "-"
            self.stdout.write(
                f"{path}: {status} {ticket} {outcome.record.reason.splitlines()[0] if outcome.record.reason else ''}"
            )
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
