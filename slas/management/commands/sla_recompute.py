"""Recompute SLA clocks from the tickets' journals after a schedule or definition change."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from itsm.models import Ticket
from slas.replay import sla_recompute, text_progress_bar


class Command(BaseCommand):
    help = "Replay tickets' journals through the current SLA definitions and schedules and store the clocks."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Only tickets opened in the last N days.")
        parser.add_argument("--all", action="store_true", help="Closed and cancelled tickets too (default: active).")
        parser.add_argument("--ticket", action="append", default=[], help="A ticket number (repeatable).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        tickets = Ticket.objects.all()
        if options["ticket"]:
            tickets = tickets.filter(number__in=options["ticket"])
        elif not options["all"]:
            tickets = tickets.filter(Q(active=True) | Q(sla_clocks__stage__in=["in_progress", "paused"])).distinct()
        if options["days"] is not None:
            tickets = tickets.filter(opened_at__gte=timezone.now() - timedelta(days=options["days"]))
        tickets = tickets.order_by("pk")
        progress = None if options["no_progress"] else text_progress_bar(self.stderr._out)
        started = timezone.now()
        done = sla_recompute(tickets=tickets, progress=progress)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(f"Recomputed the SLA clocks of {done} tickets in {seconds:.1f} s.")
