"""Query plans of the lists and filters the API and the workspace run, over the seed_bench data set.

Each request is made in-process (Django's test client, an agent signed in), its SQL captured, and every SELECT on a
ticket table is run again under EXPLAIN (ANALYZE, BUFFERS). The plans go to bench/results/plans/<request>-<n>.txt;
bench/results/plans.json lists each query with its time and the sequential scans of large tables (more than 10,000
rows), which is where a missing index shows.

    python -m bench.plans [--deep-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from bench.common import RESULTS_DIR, var_dir, write_result

BIG_ROWS = 10_000
FIXED_ORDER = "SET LOCAL join_collapse_limit = 1; "  # itsm.planning's prefix of wide reads
SLOW_MS = 20


def requests(team: int, number: str, deep_url: str | None) -> dict[str, str]:
    found = {
        "api_list": "/api/v1/incidents/",
        "api_filtered": f"/api/v1/incidents/?assignment_group={team}&state=in_progress&ordering=priority,opened_at",
        "api_search": "/api/v1/incidents/?search=printer",
        "api_q": "/api/v1/incidents/?q=printer",
        "api_detail": f"/api/v1/incidents/{number}/",
        "page_queue": "/workspace/incidents/?queue=my_teams",
        "page_queue_team": f"/workspace/incidents/?assignment_group={team}",
        "page_ticket": f"/workspace/incidents/{number}/",
        "page_dashboard": "/workspace/dashboard/",
        "page_portal": "/portal/tickets/",
    }
    if deep_url:
        found["api_deep_page"] = deep_url
    return found


def big_tables(cursor) -> set[str]:
    cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s", [BIG_ROWS])
    return {row[0] for row in cursor.fetchall()}


def explain(cursor, sql: str) -> tuple[str, float]:
    """The plan of a captured statement, under the setting it was sent with (itsm.planning prefixes wide reads)."""
    prefix = ""
    if sql.startswith(FIXED_ORDER):
        prefix, sql = FIXED_ORDER, sql[len(FIXED_ORDER) :]
    cursor.execute(prefix + "EXPLAIN (ANALYZE, BUFFERS) " + sql)
    text = "\n".join(row[0] for row in cursor.fetchall())
    match = re.search(r"Execution Time: ([0-9.]+) ms", text)
    return text, float(match.group(1)) if match else -1.0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deep-url", help="a deep cursor URL (default: the one bench/results/load.json used)")
    args = parser.parse_args(argv)

    from bench import sla_sweep

    os.environ["ITSM_VAR_DIR"] = str(var_dir())  # the static files manifest collected for the load run
    sla_sweep.setup_django(sla_sweep.database_url())
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.seed import present
    from incidents.models import Incident
    from itsm.models import Team

    with connection.cursor() as cursor:
        dataset = present(cursor)
        if not dataset:
            sys.exit("error: no bench data set: run `manage.py seed_bench` first (make bench does)")
        big = big_tables(cursor)
    deep_url = args.deep_url
    load = RESULTS_DIR / "load.json"
    if not deep_url and load.exists():
        deep_url = (json.loads(load.read_text()).get("deep_page") or {}).get("url")
    agent = User.objects.filter(username__startswith="bench-agent").order_by("id").first()
    caller = User.objects.filter(username__startswith="bench-caller").order_by("id").first()
    team = Team.objects.filter(name__startswith="Bench team").order_by("id").first().pk
    number = Incident.objects.filter(state="in_progress").order_by("id").values_list("number", flat=True).first()
    out = RESULTS_DIR / "plans"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    queries = []
    for name, url in requests(team, number, deep_url).items():
        client = Client(
            raise_request_exception=False,
            HTTP_HOST="localhost",
            HTTP_ACCEPT="application/json" if name.startswith("api") else "text/html",
        )
        client.force_login(caller if name == "page_portal" else agent)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        selects = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].removeprefix(FIXED_ORDER).lstrip().upper().startswith("SELECT")
            and any(f'"{t}"' in q["sql"] for t in big)
        ]
        total = len(captured.captured_queries)
        print(f"  {name}: HTTP {response.status_code}, {total} queries, {len(selects)} on large tables")
        with connection.cursor() as cursor:
            for index, sql in enumerate(selects, 1):
                text, ms = explain(cursor, sql)
                (out / f"{name}-{index}.txt").write_text(f"-- {url}\n{sql}\n\n{text}\n")
                seq = sorted({t for t in re.findall(r"Seq Scan on (\w+)", text) if t in big})
                queries.append(
                    {
                        "request": name,
                        "url": url,
                        "status": response.status_code,
                        "file": f"plans/{name}-{index}.txt",
                        "execution_ms": ms,
                        "seq_scans_on_big_tables": seq,
                        "flag": bool(seq) or ms > SLOW_MS,
                        "sql": sql[:2000],
                    }
                )
                if seq or ms > SLOW_MS:
                    print(f"    {name}-{index}: {ms:.1f} ms, seq scans {seq or '-'}")
    result = {"dataset": {k: dataset[k] for k in ("incidents", "tickets")}, "queries": queries, "slow_ms": SLOW_MS}
    path = write_result("plans", result)
    print(f"  -> {path} and {out}/")
    return result


if __name__ == "__main__":
    main()
