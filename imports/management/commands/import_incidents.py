"""manage.py import_incidents FILE: import a ServiceNow incident export or event log (CSV, optionally .gz)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports.servicenow import Importer


class Command(BaseCommand):
    help = (
        "Import ServiceNow incidents with their history (one row per incident, or an event log with one row per "
        "change). Resumable and idempotent: incidents imported before are skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--limit", type=int, help="import at most this many incidents")
        parser.add_argument("--timezone", default="UTC", help="time zone of the file's naive timestamps")
        parser.add_argument("--batch", type=int, default=100, help="incidents per transaction")
        parser.add_argument("--no-sla", action="store_true", help="do not replay SLA clocks from the history")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file: Path, limit, timezone, batch, no_sla, no_progress, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        importer = Importer(zone=timezone, replay_slas=not no_sla)
        bar = tqdm(unit=" events", disable=no_progress or not sys.stderr.isatty(), file=sys.stderr)
        try:
            report = importer.run(file, limit=limit, batch=batch, progress=bar.update)
        finally:
            bar.close()
        for error in report.errors:
            self.stderr.write(f"{file}:{error.line}: not imported: {error.reason}")
        for warning in report.warnings[:50]:
            self.stderr.write(f"{file}: {warning}")
        self.stdout.write(
            f"{report.incidents} incidents imported ({report.events} events), {report.skipped} already imported, "
            f"{len(report.errors)} refused, in {report.seconds:.1f} s: {report.rate:.0f} events/s"
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} incident(s) could not be imported; see above.")
