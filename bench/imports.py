"""The ServiceNow event-log import: the whole developer log into a fresh database, checked and timed.

Checks: every incident of the log is imported; each one's priority is the log's (last event); a second run imports
nothing and changes nothing. Figures: events and incidents per second. Writes bench/results/imports.json.
Run: BENCH_IMPORT_DATABASE_URL=postgres://... python -m bench.imports [FILE]
"""

from __future__ import annotations

import csv
import gzip
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_import"
LOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "incident_event_log" / "incident_event_log_dev.csv.gz"


def _fresh_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _expected(path: Path) -> dict[str, int]:
    """The last event's priority of every incident in the log."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        return {row["number"]: int(row["priority"][0]) for row in csv.DictReader(handle)}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LOG
    if not path.exists():
        print(f"bench.imports: {path} is not here; skipped")
        return 0
    url = os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_URL)
    _fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings.base")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import write_result
    from imports.models import ImportedRecord
    from imports.servicenow import Importer
    from itsm.models import JournalEntry, Ticket

    call_command("migrate", verbosity=0)
    first = Importer().run(path)
    expected = _expected(path)
    imported = dict(ImportedRecord.objects.values_list("external_id", "ticket__priority"))
    wrong = {
        number: (imported.get(number), priority)
        for number, priority in expected.items()
        if imported.get(number) != priority
    }
    counts = (Ticket.objects.count(), JournalEntry.objects.count(), ImportedRecord.objects.count())
    second = Importer().run(path)
    again = (Ticket.objects.count(), JournalEntry.objects.count(), ImportedRecord.objects.count())
    payload = {
        "file": str(path),
        "incidents_in_log": len(expected),
        "incidents_imported": first.incidents,
        "events": first.events,
        "refused": [str(e) for e in first.errors],
        "seconds": round(first.seconds, 1),
        "events_per_second": round(first.rate),
        "incidents_per_second": round(first.incidents / first.seconds) if first.seconds else 0,
        "priorities_equal_to_the_log": not wrong,
        "priority_mismatches": len(wrong),
        "second_run_imported": second.incidents,
        "second_run_changed_nothing": counts == again,
        "journal_entries": counts[1],
    }
    result = write_result("imports", payload)
    complete = first.incidents == len(expected) and not first.errors
    print(
        f"import: {first.incidents:,}/{len(expected):,} incidents ({first.events:,} events) in {first.seconds:.1f} s = "
        f"{first.rate:,.0f} events/s; priorities as in the log: {'yes' if not wrong else f'no ({len(wrong)})'}; "
        f"second run imported {second.incidents}, changed nothing: {'yes' if counts == again else 'no'} -> {result}"
    )
    return 0 if complete and not wrong and counts == again and second.incidents == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
