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
    return table


def markdown(results: dict[str, dict], machine: dict) -> str:
    lines = [
        "# make bench",
        "",
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, Python {machine['python']}, "
        + (f"PostgreSQL {results['sla_sweep']['postgresql']}, " if "sla_sweep" in results else "")
        + f"load average {machine['load_average']}, commit {machine['git_commit']}",
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
