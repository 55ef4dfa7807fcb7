"""Deadline computations per second: our BusinessCalendar against the `businesstimedelta` package, same cases.

Cases come from ../shared/data/sla_oracle (200 cases with expected deadlines) when that folder is present;
otherwise the same four schedules and five calendars are used to generate random cases, whose expected deadlines
are counted minute by minute here. Both libraries are first checked against the expected deadlines (the agreement
counts are reported), then timed: the best of `--runs` runs, each computing every case `--repeat` times (by default
as many times as make a run last half a second), the libraries taking turns.

Two figures for ours: "warm" reuses each calendar, as the service does (calendars are cached per process and keep
their per-day business intervals), and "cold" empties that per-day cache before every computation.

    python -m bench.deadline [--repeat N] [--runs 5] [--min-run-seconds 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import write_result
from slas.business_time import WEEKDAYS, BusinessCalendar, WeeklySpan, parse_clock

# ../shared/data/sla_oracle beside the checkout, or SLA_ORACLE_DIR.
ORACLE = Path(os.environ.get("SLA_ORACLE_DIR") or Path(__file__).resolve().parents[2] / "shared/data/sla_oracle")

# The oracle's schedules.json and calendars, for generating cases when the oracle folder is absent.
SCHEDULES = {
    "mf_0900_1700": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "spans": [["09:00", "17:00"]]},
    "mf_0800_1200_1300_1700": {
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "spans": [["08:00", "12:00"], ["13:00", "17:00"]],
    },
    "ms_0700_1900": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], "spans": [["07:00", "19:00"]]},
    "st_0800_1600": {"days": ["Sun", "Mon", "Tue", "Wed", "Thu"], "spans": [["08:00", "16:00"]]},
}
CALENDARS = {  # name: (timezone, holidays country, subdivision)
    "us_ny": ("America/New_York", "US", None),
    "uk_eng": ("Europe/London", "GB", "ENG"),
    "de_by": ("Europe/Berlin", "DE", "BY"),
    "ae": ("Asia/Dubai", "AE", None),
    "none_utc": ("UTC", None, None),
}
# businesstimedelta's HolidayRule needs a holiday after every instant it is asked about (see btd_rule).
SENTINEL_DAYS = 60
DURATIONS_MINUTES = (1, 15, 30, 60, 120, 240, 480, 540, 960, 1440, 2400, 4800)


@dataclass
class Case:
    id: str
    schedule: dict
    timezone: str
    holidays: list[date]
    start: datetime
    seconds: int
    expected_utc: datetime


def load_oracle_cases() -> list[Case] | None:
    cases_file, schedules_file = ORACLE / "sla_deadline_cases_sample.jsonl", ORACLE / "schedules.json"
    if not (cases_file.exists() and schedules_file.exists()):
        return None
    schedules = json.loads(schedules_file.read_text())["schedules"]
    cases = []
    for line in cases_file.read_text().splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        cases.append(
            Case(
                id=raw["id"],
                schedule=schedules[raw["schedule"]],
                timezone=raw["timezone"],
                holidays=[date.fromisoformat(d) for d in raw["holidays_in_window"]],
                start=datetime.fromisoformat(raw["start_local"]),
                seconds=raw["duration_minutes"] * 60,
                expected_utc=datetime.fromisoformat(raw["expected_deadline_utc"]),
            )
        )
    return cases


def _brute_force_deadline(schedule: dict, zone: ZoneInfo, holidays: set[date], start: datetime, minutes: int):
    """Step minute by minute; a minute counts when its local wall-clock start lies inside a span on a working day."""
    days = {WEEKDAYS.index(d) for d in schedule["days"]}
    spans = [(parse_clock(a), parse_clock(b)) for a, b in schedule["spans"]]
    moment, left = start.astimezone(UTC), minutes
    while True:
        local = moment.astimezone(zone)
        second = local.hour * 3600 + local.minute * 60
        if local.weekday() in days and local.date() not in holidays and any(a <= second < b for a, b in spans):
            left -= 1
            if left == 0:
                return moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)


def generate_cases(count: int = 200, seed: int = 8) -> list[Case]:
    import holidays as holiday_calendars

    rng = random.Random(seed)
    cases = []
    for index in range(count):
        schedule = SCHEDULES[rng.choice(sorted(SCHEDULES))]
        timezone, country, subdivision = CALENDARS[rng.choice(sorted(CALENDARS))]
        zone = ZoneInfo(timezone)
        start_local = datetime(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        start = start_local.replace(tzinfo=zone)
        minutes = rng.choice(DURATIONS_MINUTES)
        window = [start_local.date() + timedelta(days=d) for d in range(-1, 60)]
        closed: set[date] = set()
        if country:
            calendar = holiday_calendars.country_holidays(
                country, subdiv=subdivision, years=sorted({d.year for d in window})
            )
            closed = {d for d in window if d in calendar}
        expected = _brute_force_deadline(schedule, zone, closed, start, minutes)
        cases.append(
            Case(
                id=f"G{index:05d}",
                schedule=schedule,
                timezone=timezone,
                holidays=sorted(closed),
                start=start,
                seconds=minutes * 60,
                expected_utc=expected,
            )
        )
    return cases


# --- the two libraries ------------------------------------------------------------------------------------------


def our_calendar(case: Case) -> BusinessCalendar:
    spans = [
        WeeklySpan(WEEKDAYS.index(day), parse_clock(a), parse_clock(b))
        for day in case.schedule["days"]
        for a, b in case.schedule["spans"]
    ]
    return BusinessCalendar(timezone=case.timezone, spans=spans, holidays=case.holidays)


def btd_rule(case: Case):
    """The package's idiom: one working-day rule from first opening to last closing, gaps as lunch rules, holidays."""
    import businesstimedelta
    import pytz

    tz = pytz.timezone(case.timezone)
    days = [WEEKDAYS.index(d) for d in case.schedule["days"]]
    spans = [(_time(a), _time(b)) for a, b in case.schedule["spans"]]
    rules = [businesstimedelta.WorkDayRule(start_time=spans[0][0], end_time=spans[-1][1], working_days=days, tz=tz)]
    rules += [
        businesstimedelta.LunchTimeRule(start_time=end, end_time=next_start, working_days=days, tz=tz)
        for (_, end), (next_start, _) in pairwise(spans)
    ]
    if case.holidays:
        # HolidayRule walks day by day to the next holiday and fails when there is none within five years: close the
        # list with a sentinel closure well after any deadline here (the oracle's durations end within three weeks).
        sentinel = case.start.date() + timedelta(days=SENTINEL_DAYS)
        rules.append(businesstimedelta.HolidayRule(frozenset([*case.holidays, sentinel]), tz=tz))
    return businesstimedelta.Rules(rules)


def _time(text: str) -> dtime:
    hours, minutes = (int(part) for part in text.split(":"))
    return dtime(hours, minutes)


# --- timing -----------------------------------------------------------------------------------------------------


def calibrate(run: Callable[[int], None], min_seconds: float) -> int:
    """How many repeats make one run take at least `min_seconds`."""
    repeat = 1
    while True:
        began = time.perf_counter()
        run(repeat)
        took = time.perf_counter() - began
        if took >= min_seconds:
            return repeat
        repeat = max(repeat * 2, int(repeat * min_seconds / max(took, 1e-6) * 1.1))


def best_rates(runners: dict[str, Callable[[int], None]], calls_per_repeat: int, *, repeat, runs, min_seconds):
    """Calls per second of each runner, best of `runs` runs; the runners take turns, so a change in the machine's
    load between runs touches them all alike."""
    repeats = {name: repeat or calibrate(run, min_seconds) for name, run in runners.items()}
    timings: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            began = time.perf_counter()
            run(repeats[name])
            timings[name].append(time.perf_counter() - began)
    figures = {}
    for name, times in timings.items():
        best = min(times)
        figures[name] = {
            "repeat": repeats[name],
            "computations": calls_per_repeat * repeats[name],
            "best_seconds": round(best, 4),
            "median_seconds": round(sorted(times)[len(times) // 2], 4),
            "per_second": round(calls_per_repeat * repeats[name] / best),
        }
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=None, help="times each case is computed per run (default: auto)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the best counts (default 5)")
    parser.add_argument("--min-run-seconds", type=float, default=0.5, help="auto repeat: shortest run (default 0.5)")
    args = parser.parse_args(argv)

    import businesstimedelta

    cases = load_oracle_cases()
    source = f"oracle {ORACLE}" if cases is not None else "generated (oracle folder absent)"
    if cases is None:
        cases = generate_cases()
    ours = [(our_calendar(c), c.start, c.seconds) for c in cases]
    theirs = [(businesstimedelta.BusinessTimeDelta(btd_rule(c), seconds=c.seconds), c.start) for c in cases]

    ours_agree = sum(cal.deadline(s, sec) == c.expected_utc for (cal, s, sec), c in zip(ours, cases, strict=True))
    theirs_agree = sum(s + delta == c.expected_utc for (delta, s), c in zip(theirs, cases, strict=True))

    def run_ours(repeat: int) -> None:
        for _ in range(repeat):
            for calendar, start, seconds in ours:
                calendar.deadline(start, seconds)

    def run_ours_cold(repeat: int) -> None:
        for _ in range(repeat):
            for calendar, start, seconds in ours:
                calendar.clear_cache()
                calendar.deadline(start, seconds)

    def run_theirs(repeat: int) -> None:
        for _ in range(repeat):
            for delta, start in theirs:
                _ = start + delta

    figures = best_rates(
        {"ours_warm": run_ours, "ours_cold": run_ours_cold, "businesstimedelta": run_theirs},
        len(cases),
        repeat=args.repeat,
        runs=args.runs,
        min_seconds=args.min_run_seconds,
    )
    base = figures["businesstimedelta"]["per_second"]
    result = {
        "cases": len(cases),
        "source": source,
        "agreement": {"ours": ours_agree, "businesstimedelta": theirs_agree, "of": len(cases)},
        "businesstimedelta_version": _version("businesstimedelta"),
        "figures": figures,
        "speedup_warm": round(figures["ours_warm"]["per_second"] / base, 1),
        "speedup_cold": round(figures["ours_cold"]["per_second"] / base, 1),
        "aim_speedup": 10,
    }
    path = write_result("deadline", result)
    print(f"Deadline cases: {len(cases)} ({source})")
    print(f"  agree with expected: ours {ours_agree}/{len(cases)}, businesstimedelta {theirs_agree}/{len(cases)}")
    for name, figure in figures.items():
        print(
            f"  {name:18} {figure['per_second']:>10,}/s  "
            f"(best of {args.runs}: {figure['computations']:,} in {figure['best_seconds']} s)"
        )
    print(f"  speedup: warm {result['speedup_warm']}x, cold {result['speedup_cold']}x (aim: 10x)  -> {path}")
    return result


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
