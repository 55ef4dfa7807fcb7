"""Gather bench/results/*.json into bench/results/bench.json and bench.md, and print the Markdown table."""

from __future__ import annotations

import json

from bench.common import RESULTS_DIR, machine_info, read_results


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def rows(results: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    table = []
    deadline = results.get("deadline")
    if deadline:
        figures, agree = deadline["figures"], deadline["agreement"]
        aim = deadline["aim_speedup"]
        table += [
            (
                f"SLA deadlines: agreement with expected ({deadline['cases']} cases)",
                f"ours {agree['ours']}/{agree['of']}, businesstimedelta {agree['businesstimedelta']}/{agree['of']}",
                "all",
                _yes(agree["ours"] == agree["of"]),
            ),
            (
                "SLA deadlines/s, ours (calendar reused, as the service does)",
                f"{figures['ours_warm']['per_second']:,}/s = {deadline['speedup_warm']}x businesstimedelta",
                f">= {aim}x",
                _yes(deadline["speedup_warm"] >= aim),
            ),
            (
                "SLA deadlines/s, ours (per-day cache emptied before each)",
                f"{figures['ours_cold']['per_second']:,}/s = {deadline['speedup_cold']}x businesstimedelta",
                f">= {aim}x",
                _yes(deadline["speedup_cold"] >= aim),
            ),
            (
                f"SLA deadlines/s, businesstimedelta {deadline.get('businesstimedelta_version') or ''}".rstrip(),
                f"{figures['businesstimedelta']['per_second']:,}/s",
                "",
                "",
            ),
        ]
    sweep = results.get("sla_sweep")
    if sweep:
        figures = sweep["sweep"]
        load = sweep["load_seconds"]
        table += [
            (
                f"SLA sweep: {sweep['clocks']:,} clocks, {sweep['due']:,} due (PostgreSQL {sweep['postgresql']})",
                f"{figures['seconds']} s ({figures['python_cpu_seconds']} s CPU in Python), "
                f"{figures['milestones_per_second']:,} milestones/s, "
                f"recorded {figures['recorded']:,}",
                f"< {sweep['aim_seconds']} s, {sweep['due']:,} recorded",
                _yes(figures["seconds"] < sweep["aim_seconds"] and sweep["recorded_ok"]),
            ),
            (
                "SLA sweep data set load",
                f"{load} s" if load is not None else f"reused (loaded in {sweep['load_seconds_when_loaded']} s)",
                "",
                "",
            ),
        ]
    table += _seed_rows(results.get("seed"))
    table += _load_rows(results.get("load"))
    table += _engine_rows(results.get("engine"))
    table += _plan_rows(results.get("plans"))
    if not (results.get("engine") or {}).get("ingestion"):
        table += _ingestion_rows((results.get("ingestion") or {}).get("ingestion"), " (small database)")
    table += _import_rows(results.get("imports"))
    return table


def _ingestion_rows(ingestion: dict | None, where: str = "") -> list[tuple[str, str, str, str]]:
    rows = []
    for what, figures in (ingestion or {}).items():
        if figures.get("measured"):
            rows.append((what + where, f"{figures['per_second']:,}/s", f">= {figures['aim']}/s", _yes(figures["met"])))
        else:
            rows.append((what + where, f"not measured: {figures.get('reason')}", "", ""))
    return rows


def _import_rows(imports: dict | None) -> list[tuple[str, str, str, str]]:
    if not imports:
        return []
    checks = imports["priorities_equal_to_the_log"] and imports["second_run_changed_nothing"]
    return [
        (
            f"ServiceNow import, whole log ({imports['incidents_imported']:,} incidents, {imports['events']:,} events)",
            f"{imports['events_per_second']:,} events/s, {imports['incidents_per_second']:,} incidents/s "
            f"in {imports['seconds']} s",
            "priorities as in the log, second run changes nothing",
            _yes(checks and not imports["refused"]),
        )
    ]


def _seed_rows(seed: dict | None) -> list[tuple[str, str, str, str]]:
    if not seed:
        return []
    figures = seed["dataset"]
    loaded = f"{figures['seconds']} s" + (" (reused; that was its load time)" if seed.get("reused") else "")
    return [
        (
            f"seed_bench: {figures['incidents']:,} incidents, {figures['tickets']:,} tickets, "
            f"{figures['journal_entries']:,} journal entries, {figures['clocks']:,} clocks",
            loaded,
            "< 600 s",
            _yes(figures["seconds"] < 600),
        )
    ]


def _ms(value) -> str:
    return "-" if value is None else f"{value:g}"


def _aim_text(aim: dict) -> str:
    parts = []
    if "rps" in aim:
        parts.append(f">= {aim['rps']}/s")
    if "p95" in aim:
        parts.append(f"p95 < {aim['p95']} ms")
    if "median" in aim:
        parts.append(f"median < {aim['median']} ms")
    return ", ".join([*parts, "no errors"])


def _load_rows(load: dict | None) -> list[tuple[str, str, str, str]]:
    if not load:
        return []
    table = []
    deep = load.get("deep_page") or {}
    for name, f in load["scenarios"].items():
        aim = load["aims"].get(name, {})
        if "missing" in f:
            table.append((name, f"not measured: {f['missing']}", _aim_text(aim), ""))
            continue
        label = f"{name} ({f['users']} users, {f['seconds']} s)"
        if name == "api_deep_page" and deep.get("pages_followed") is not None:
            label += f", cursor {deep['pages_followed']:,} pages deep"
        table.append(
            (
                label,
                f"{f['rps']}/s, p50 {_ms(f['median_ms'])} / p95 {_ms(f['p95_ms'])} / p99 {_ms(f['p99_ms'])} ms, "
                f"{f['errors']} errors (locust used {f['driver_cpu_share']} core)",
                _aim_text(aim),
                "" if f["met"] is None else _yes(f["met"]),
            )
        )
    return table


def _engine_rows(engine: dict | None) -> list[tuple[str, str, str, str]]:
    if not engine:
        return []
    r = engine["reschedule"]
    rows = [
        (
            "SLA clocks rescheduled after a schedule change",
            f"{r['rescheduled']:,} clocks in {r['seconds']} s = {r['clocks_per_second']:,}/s",
            f">= {r['aim_clocks_per_second']:,}/s",
            _yes((r["clocks_per_second"] or 0) >= r["aim_clocks_per_second"]),
        )
    ]
    rows += _ingestion_rows(engine.get("ingestion"), f" ({engine['dataset']['incidents']:,} incidents loaded)")
    return rows


def _plan_rows(plans: dict | None) -> list[tuple[str, str, str, str]]:
    if not plans:
        return []
    flagged = [q for q in plans["queries"] if q["flag"]]
    detail = "; ".join(
        f"{q['file']} {q['execution_ms']:.0f} ms" + (f" seq scan {','.join(q['seq_scans_on_big_tables'])}" if
        q["seq_scans_on_big_tables"] else "")
        for q in flagged
    )  # fmt: skip
    return [
        (
            f"query plans: {len(plans['queries'])} list/filter queries explained",
            f"{len(flagged)} slow or scanning a large table" + (f": {detail}" if detail else ""),
            f"none over {plans['slow_ms']} ms, no seq scan of a large table",
            _yes(not flagged),
        )
    ]


def markdown(results: dict[str, dict], machine: dict) -> str:
    lines = [
        "# make bench",
        "",
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, Python {machine['python']}, "
        + (f"PostgreSQL {results['sla_sweep']['postgresql']}, " if "sla_sweep" in results else "")
        + f"load average {machine['load_average']}, commit {machine['git_commit']}"
        + (
            f", data set: {results['seed']['dataset']['incidents']:,} incidents, "
            f"{results['seed']['dataset']['tickets']:,} tickets"
            if "seed" in results
            else ""
        ),
        "",
        "| benchmark | figure | aim | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    return "\n".join(lines) + "\n"


def main() -> None:
    results = read_results()
    if not results:
        raise SystemExit(f"no results in {RESULTS_DIR}: run make bench")
    machine = machine_info()
    (RESULTS_DIR / "bench.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=2, default=str) + "\n"
    )
    text = markdown(results, machine)
    (RESULTS_DIR / "bench.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
