"""Engine figures over the seed_bench data set: clocks rescheduled per second after a schedule change, and (when
the tree has them) email ingestion and incident import rates.

Reschedule: the office-hours schedule's spans are changed through `slas.services.schedule_save` (as an admin's edit
in the API or admin does), which recomputes every running clock on it (`clocks_reschedule`); timed in a transaction
that is rolled back, so the data set stays as loaded.

    python -m bench.engine
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.common import write_result

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # ../shared/data, as the tests
if not SHARED_DATA.is_dir():
    SHARED_DATA = Path("/work/shared/data")


def reschedule(sample: int = 2000) -> dict:
    """Seconds for `schedule_save` to reschedule `sample` running clocks after an edit of their schedule's hours.

    The clocks are moved onto a copy of the office-hours schedule first (all of them would take the whole run while
    clocks_reschedule builds each clock's definition anew), then the copy's spans are changed through the service.
    Everything happens in a transaction that is rolled back.
    """
    from django.contrib.auth.models import User
    from django.db import transaction

    from slas.enums import ClockStage
    from slas.models import Schedule, SLAClock
    from slas.services import SpanInput, schedule_save

    admin = User.objects.get(username="bench-admin")
    office = Schedule.objects.get(name__startswith="Bench office hours")
    running = SLAClock.objects.filter(schedule=office, stage=ClockStage.IN_PROGRESS)
    total = running.count()
    with transaction.atomic():
        spans = [SpanInput(s.weekday, s.start, s.end) for s in office.spans.all()]
        copy = schedule_save(by=admin, name="Bench office hours (copy)", timezone=office.timezone, spans=spans)
        moved = SLAClock.objects.filter(pk__in=list(running.order_by("pk").values_list("pk", flat=True)[:sample]))
        moved.update(schedule=copy)
        began = time.perf_counter()
        schedule_save(by=admin, schedule=copy, spans=[SpanInput(day, 8 * 3600, 18 * 3600) for day in range(5)])
        seconds = time.perf_counter() - began
        transaction.set_rollback(True)
    count = min(sample, total)
    return {
        "running_clocks_on_office_hours": total,
        "rescheduled": count,
        "seconds": round(seconds, 2),
        "clocks_per_second": round(count / seconds) if seconds else None,
        "aim_clocks_per_second": 5000,
    }


def ingestion(rounds: int = 2) -> dict:
    """Email ingestion over the shared corpus (every message of shared/data/emails/MANIFEST.csv) into a new mailbox;
    each round in a transaction rolled back afterwards, so every round ingests the same messages afresh."""
    import csv
    from collections import Counter

    from django.db import transaction

    try:
        from mail.inbound import email_ingest
        from mail.models import Mailbox
    except ImportError:
        return {"measured": False, "reason": "no mail app (manage.py ingest_email) in this tree"}
    manifest = SHARED_DATA / "emails" / "MANIFEST.csv"
    if not manifest.exists():
        return {"measured": False, "reason": f"{manifest} is missing"}
    with manifest.open(newline="") as handle:
        raws = [(SHARED_DATA.parent.parent / row["file"]).read_bytes() for row in csv.DictReader(handle)]  # shared/...
    seconds, outcomes = [], Counter()
    for _ in range(rounds):
        with transaction.atomic():
            mailbox = Mailbox.objects.create(name="Bench mailbox", address="bench-desk@example.com")
            began = time.perf_counter()
            outcomes = Counter(email_ingest(raw=raw, mailbox=mailbox).record.status for raw in raws)
            seconds.append(time.perf_counter() - began)
            transaction.set_rollback(True)
    best = min(seconds)
    return {
        "measured": True,
        "messages": len(raws),
        "outcomes": dict(outcomes),
        "seconds": [round(s, 2) for s in seconds],
        "per_second": round(len(raws) / best, 1),
        "aim": 50,
        "met": len(raws) / best >= 50,
    }


def incident_import(incidents: int = 200) -> dict:
    """The ServiceNow importer over the first `incidents` incidents of the shared event log, with SLA replay as
    manage.py import_incidents does by default; in a transaction rolled back afterwards."""
    from django.db import transaction

    try:
        from imports.servicenow import Importer
    except ImportError:
        return {"measured": False, "reason": "no imports app (manage.py import_incidents) in this tree"}
    log = SHARED_DATA / "incident_event_log" / "incident_event_log_dev.csv.gz"
    if not log.exists():
        return {"measured": False, "reason": f"{log} is missing"}
    with transaction.atomic():
        report = Importer().run(log, limit=incidents, batch=100, progress=lambda n: None)
        transaction.set_rollback(True)
    return {
        "measured": True,
        "incidents": report.incidents,
        "events": report.events,
        "refused": len(report.errors),
        "seconds": round(report.seconds, 2),
        "per_second": round(report.rate),
        "aim": 1000,
        "met": report.rate >= 1000,
    }


def ingestion_only() -> dict:
    """Only the email ingestion and incident import rates, on a small migrated database (no bench data set needed):
    `python -m bench.engine --ingestion-only` (make bench-ingest); writes bench/results/ingestion.json."""
    from bench import sla_sweep

    url = os.environ.get("BENCH_INGEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/itsm_bench_ingest")
    sla_sweep.ensure_database(url)
    sla_sweep.setup_django(url)  # migrates
    ingest = ingestion()
    print(f"  email ingestion: {ingest.get('per_second', '-')} messages/s {ingest.get('reason', '')}".rstrip())
    imported = incident_import()
    print(f"  incident import: {imported.get('per_second', '-')} events/s {imported.get('reason', '')}".rstrip())
    result = {"email ingestion (messages)": ingest, "incident import (events)": imported}
    print(f"  -> {write_result('ingestion', {'ingestion': result})}")
    return result


def main() -> dict:
    from bench import sla_sweep

    if "--ingestion-only" in sys.argv[1:]:
        return ingestion_only()
    sla_sweep.setup_django(sla_sweep.database_url())
    from django.db import connection

    from bench.seed import present

    with connection.cursor() as cursor:
        dataset = present(cursor)
    if not dataset:
        sys.exit("error: no bench data set: run `manage.py seed_bench` first (make bench does)")
    figures = reschedule()
    print(
        f"  reschedule after a schedule change: {figures['rescheduled']:,} running clocks in "
        f"{figures['seconds']} s = {figures['clocks_per_second']:,} clocks/s (aim 5,000 clocks/s)"
    )
    result = {"dataset": {k: dataset[k] for k in ("incidents", "tickets", "clocks")}, "reschedule": figures}
    ingest = ingestion()
    print(f"  email ingestion: {ingest.get('per_second', '-')} messages/s {ingest.get('reason', '')}".rstrip())
    imported = incident_import()
    print(f"  incident import: {imported.get('per_second', '-')} events/s {imported.get('reason', '')}".rstrip())
    result["ingestion"] = {"email ingestion (messages)": ingest, "incident import (events)": imported}
    path = write_result("engine", result)
    print(f"  -> {path}")
    return result


if __name__ == "__main__":
    main()
