"""Engine figures over the seed_bench data set: clocks rescheduled per second after a schedule change, and (when
the tree has them) email ingestion and incident import rates.

Reschedule: the office-hours schedule's spans are changed through `slas.services.schedule_save` (as an admin's edit
in the API or admin does), which recomputes every running clock on it (`clocks_reschedule`); timed in a transaction
that is rolled back, so the data set stays as loaded.

    python -m bench.engine
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.common import write_result

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def reschedule() -> dict:
    from django.contrib.auth.models import User
    from django.db import transaction

    from slas.enums import ClockStage
    from slas.models import Schedule, SLAClock
    from slas.services import SpanInput, clocks_reschedule, schedule_save

    admin = User.objects.get(username="bench-admin")
    schedule = Schedule.objects.get(name__startswith="Bench office hours")
    running = SLAClock.objects.filter(schedule=schedule, stage=ClockStage.IN_PROGRESS).count()
    with transaction.atomic():
        began = time.perf_counter()
        schedule_save(by=admin, schedule=schedule, spans=[SpanInput(day, 8 * 3600, 18 * 3600) for day in range(5)])
        seconds = time.perf_counter() - began
        began = time.perf_counter()
        again = clocks_reschedule(schedule=schedule)  # the same work, without the schedule's own save
        recompute_only = time.perf_counter() - began
        transaction.set_rollback(True)
    return {
        "running_clocks": running,
        "rescheduled": again,
        "seconds_schedule_save": round(seconds, 2),
        "seconds_reschedule_only": round(recompute_only, 2),
        "clocks_per_second": round(again / recompute_only) if recompute_only else None,
        "aim_clocks_per_second": 5000,
    }


def ingestion() -> dict:
    """Email ingestion and incident import: measured when their commands exist in this tree."""
    from django.core.management import get_commands

    commands = get_commands()
    found = {}
    for name in ("ingest_email", "import_incidents", "import_incident_events"):
        found[name] = name in commands
    return {"commands_present": found, "measured": False, "note": "not measured by this run"}


def main() -> dict:
    from bench import sla_sweep

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
        f"{figures['seconds_reschedule_only']} s = {figures['clocks_per_second']:,} clocks/s "
        f"(schedule_save with it: {figures['seconds_schedule_save']} s; aim 5,000 clocks/s)"
    )
    result = {"dataset": {k: dataset[k] for k in ("incidents", "tickets", "clocks")}, "reschedule": figures}
    result["ingestion"] = ingestion()
    path = write_result("engine", result)
    print(f"  -> {path}")
    return result


if __name__ == "__main__":
    main()
