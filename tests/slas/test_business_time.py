"""Business-time arithmetic: the shared oracle cases, and a brute-force minute counter across DST changes."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slas.business_time import WEEKDAYS, BusinessCalendar, WeeklySpan, parse_clock

ORACLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "sla_oracle"


def oracle_cases():
    cases_file = ORACLE / "sla_deadline_cases_sample.jsonl"
    if not cases_file.exists():
        return []
    return [json.loads(line) for line in cases_file.read_text().splitlines() if line.strip()]


def oracle_calendar(case) -> BusinessCalendar:
    schedule = json.loads((ORACLE / "schedules.json").read_text())["schedules"][case["schedule"]]
    spans = [
        WeeklySpan(WEEKDAYS.index(day), parse_clock(a), parse_clock(b))
        for day in schedule["days"]
        for a, b in schedule["spans"]
    ]
    holidays = [date.fromisoformat(d) for d in case["holidays_in_window"]]
    return BusinessCalendar(timezone=case["timezone"], spans=spans, holidays=holidays)


@pytest.mark.skipif(not oracle_cases(), reason="../shared/data/sla_oracle is not present")
@pytest.mark.parametrize("case", oracle_cases(), ids=lambda c: c["id"])
def test_oracle_deadline(case):
    calendar = oracle_calendar(case)
    start = datetime.fromisoformat(case["start_local"])
    deadline = calendar.deadline(start, case["duration_minutes"] * 60)
    assert deadline.isoformat() == case["expected_deadline_local"]
    assert calendar.elapsed(start, deadline) == case["duration_minutes"] * 60


def brute_force_elapsed(calendar: BusinessCalendar, spans, holidays, start: datetime, end: datetime) -> int:
    """Count business minutes one by one: a minute counts when its local wall-clock time is inside a span."""
    zone = ZoneInfo(calendar.timezone)
    total = 0
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        seconds = local.hour * 3600 + local.minute * 60
        if local.date() not in holidays and any(
            s.weekday == local.weekday() and s.start <= seconds < s.end for s in spans
        ):
            total += 60
        moment += timedelta(minutes=1)
    return total


DST_CASES = [
    ("America/New_York", date(2026, 3, 8)),  # spring forward 02:00 -> 03:00
    ("America/New_York", date(2026, 11, 1)),  # fall back 02:00 -> 01:00
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),  # half-hour DST change
]


@pytest.mark.parametrize(("zone", "day"), DST_CASES)
def test_elapsed_matches_brute_force_across_dst(zone, day):
    rng = random.Random(f"{zone}{day}")
    spans = [
        WeeklySpan(d, parse_clock(a), parse_clock(b))
        for d in range(7)
        for a, b in [("00:30", "02:30"), ("02:45", "03:15"), ("09:00", "17:00"), ("23:00", "24:00")]
    ]
    holidays = {day + timedelta(days=3)}
    calendar = BusinessCalendar(timezone=zone, spans=spans, holidays=holidays)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    for _ in range(12):
        start = base + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        end = start + timedelta(minutes=rng.randrange(0, 4 * 24 * 60))
        expected = brute_force_elapsed(calendar, spans, holidays, start, end)
        assert calendar.elapsed(start, end) == expected
        if expected:
            deadline = calendar.deadline(start, expected)
            assert calendar.elapsed(start, deadline) == expected
            assert deadline <= end


def test_friday_afternoon_four_hours_due_monday_noon():
    spans = [WeeklySpan(d, parse_clock("09:00"), parse_clock("17:00")) for d in range(5)]
    calendar = BusinessCalendar(timezone="Europe/Berlin", spans=spans)
    start = datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Friday
    assert calendar.deadline(start, 4 * 3600) == datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_deadline_on_closing_time_stays_there_and_outside_hours_waits():
    spans = [WeeklySpan(d, parse_clock("09:00"), parse_clock("17:00")) for d in range(5)]
    calendar = BusinessCalendar(timezone="UTC", spans=spans)
    monday_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert calendar.deadline(monday_9, 8 * 3600) == datetime(2026, 11, 23, 17, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert calendar.deadline(saturday, 60) == datetime(2026, 11, 30, 9, 1, tzinfo=UTC)
    assert calendar.elapsed(saturday, datetime(2026, 11, 30, 8, tzinfo=UTC)) == 0


def test_yearly_holiday_and_24x7():
    spans = [WeeklySpan(d, 0, 86400) for d in range(7)]
    calendar = BusinessCalendar(timezone="UTC", spans=spans, yearly_holidays=[(12, 25)])
    start = datetime(2031, 12, 24, 23, tzinfo=UTC)
    assert calendar.deadline(start, 2 * 3600) == datetime(2031, 12, 26, 1, tzinfo=UTC)
    always = BusinessCalendar.always()
    assert always.deadline(start, 7200) == start + timedelta(hours=2)


def test_no_business_hours_is_an_error_not_a_hang():
    calendar = BusinessCalendar(
        timezone="UTC",
        spans=[WeeklySpan(0, 0, 3600)],
        yearly_holidays=[(m, d) for m in range(1, 13) for d in range(1, 32)],
    )
    with pytest.raises(ValueError):
        calendar.deadline(datetime(2026, 1, 1, tzinfo=UTC), 60)


def test_naive_datetime_refused():
    with pytest.raises(ValueError):
        BusinessCalendar.always().deadline(datetime(2026, 1, 1), 60)
