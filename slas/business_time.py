"""Exact business-time arithmetic over a weekly schedule in a named timezone, with holidays.

Business time is the set of instants whose local wall-clock time falls inside one of the day's spans, on a weekday
that has spans and a date that is not a holiday. Everything is integer seconds since the Unix epoch, so results are
exact to the second. DST is handled by splitting each local day into pieces of constant UTC offset: a span crossing
a spring-forward gap is an hour shorter, one crossing a fall-back fold an hour longer, just as a clock on the wall
would count it. The cost of a computation grows with the number of days and spans crossed, never with the minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# A search for the next business interval gives up after this many days without one (e.g. every day a holiday).
MAX_DAYS_SEARCHED = 366 * 10


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("Naive datetimes are ambiguous; give an offset or a timezone.")
    return int(moment.timestamp())


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class WeeklySpan:
    """One local wall-clock span [start, end) in seconds of the day (end may be 86400) on a weekday (Mon=0)."""

    weekday: int
    start: int
    end: int


@dataclass
class BusinessCalendar:
    """A weekly schedule in a timezone with one-off and yearly holidays; no spans at all is not 24x7 (see below).

    Use `BusinessCalendar.always()` for 24x7 (business time equals real time).
    """

    timezone: str = "UTC"
    spans: Iterable[WeeklySpan] = ()
    holidays: Iterable[date] = ()
    yearly_holidays: Iterable[tuple[int, int]] = ()
    always_open: bool = False
    _by_weekday: list[tuple[tuple[int, int], ...]] = field(init=False, repr=False)
    _day_cache: dict[int, tuple[tuple[int, int], ...]] = field(init=False, repr=False, default_factory=dict)
    _probe_cache: dict[int, int] = field(init=False, repr=False, default_factory=dict)  # see _day_start_offset

    def __post_init__(self) -> None:
        self.zone = _zone(self.timezone)
        by_weekday: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for span in self.spans:
            if not (0 <= span.start < span.end <= DAY):
                raise ValueError(f"Span {span} must satisfy 0 <= start < end <= 86400.")
            by_weekday[span.weekday].append((span.start, span.end))
        self._by_weekday = [tuple(_merge(sorted(day))) for day in by_weekday]
        self.holidays = frozenset(self.holidays)
        self.yearly_holidays = frozenset(self.yearly_holidays)
        self.has_hours = any(self._by_weekday)

    @classmethod
    def always(cls) -> BusinessCalendar:
        return cls(always_open=True)

    def clear_cache(self) -> None:
        """Forget the per-day intervals computed so far (they are recomputed on demand)."""
        self._day_cache.clear()
        self._probe_cache.clear()

    # --- the two operations ---------------------------------------------------------------------------------

    def deadline(self, start: datetime, seconds: int) -> datetime:
        """The earliest instant at which `seconds` of business time have passed since `start` (in the zone)."""
        return datetime.fromtimestamp(self.deadline_epoch(_epoch(start), seconds), tz=self.zone)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); zero when end is not after start."""
        return self.elapsed_epoch(_epoch(start), _epoch(end))

    def deadline_epoch(self, start: int, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("A duration cannot be negative.")
        if self.always_open or seconds == 0:
            return start + seconds
        remaining = seconds
        for lo, hi in self._intervals_from(start):
            length = hi - lo
            if remaining <= length:
                return lo + remaining
            remaining -= length
        raise ValueError("The schedule has no business hours within ten years of the start.")

    def elapsed_epoch(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        if self.always_open:
            return end - start
        total = 0
        for lo, hi in self._intervals_from(start, until=end):
            total += min(hi, end) - lo
        return total

    def next_open(self, moment: datetime) -> datetime | None:
        """The first business instant at or after `moment`, or None when there is none within ten years."""
        if self.always_open:
            return moment
        for lo, _hi in self._intervals_from(_epoch(moment)):
            return datetime.fromtimestamp(lo, tz=self.zone)
        return None

    # --- internals ------------------------------------------------------------------------------------------

    def _intervals_from(self, start: int, until: int | None = None) -> Iterator[tuple[int, int]]:
        """Business intervals [lo, hi) in epoch seconds, clipped to begin at `start`, in order."""
        if not self.has_hours:
            return
        local = datetime.fromtimestamp(start, tz=self.zone)
        # Begin a day early: a fold can put the end of the previous local day after `start`.
        ordinal = local.date().toordinal() - 1
        empty_days = 0
        while True:
            intervals = self._day_intervals(ordinal)
            if intervals:
                empty_days = 0
                for lo, hi in intervals:
                    if hi <= start:
                        continue
                    if until is not None and lo >= until:
                        return
                    yield (max(lo, start), hi)
            else:
                empty_days += 1
                if empty_days > MAX_DAYS_SEARCHED:
                    return
            ordinal += 1
            if until is not None and self._day_start(ordinal) >= until:
                return

    def _day_intervals(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        cached = self._day_cache.get(ordinal)
        if cached is not None:
            return cached
        spans = self._by_weekday[(ordinal + 6) % 7]  # date.fromordinal(1) is a Monday
        day = date.fromordinal(ordinal)
        if not spans or day in self.holidays or (day.month, day.day) in self.yearly_holidays:
            result: tuple[tuple[int, int], ...] = ()
        else:
            result = tuple(self._local_day_to_utc(ordinal, spans))
        if len(self._day_cache) > 4096:
            self._day_cache.clear()
        self._day_cache[ordinal] = result
        return result

    def _local_day_to_utc(self, ordinal: int, spans: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
        """Map the day's local spans onto UTC, piece by piece of constant offset."""
        naive_midnight = (ordinal - _EPOCH_ORDINAL) * DAY  # local wall-clock midnight as if it were UTC
        day_lo, offset = self._day_start_offset(ordinal)
        day_hi, next_offset = self._day_start_offset(ordinal + 1)
        if offset is not None and offset == next_offset:
            # The offset is the same all day long (the usual case): each span is one interval, shifted by it.
            base = naive_midnight - offset
            return [(base + span_start, base + span_end) for span_start, span_end in spans]
        out: list[tuple[int, int]] = []
        for piece_lo, piece_hi, offset in self._pieces(day_lo, day_hi):
            for span_start, span_end in spans:
                lo = max(piece_lo, naive_midnight + span_start - offset)
                hi = min(piece_hi, naive_midnight + span_end - offset)
                if lo < hi:
                    out.append((lo, hi))
        out.sort()
        return _merge(out)

    def _day_start(self, ordinal: int) -> int:
        return self._day_start_offset(ordinal)[0]

    def _day_start_offset(self, ordinal: int) -> tuple[int, int | None]:
        """The day's first instant, and the UTC offset in force from a day before to a day after it (else None).

        The probe of a day is the offset at the instant that its local midnight would be in UTC. When the probes of
        the day before, the day and the day after agree, no offset change lies between them (tzdata never changes
        offsets twice within four days), and as no offset exceeds 16 hours, local midnight is one instant, neither
        in a gap nor in a fold. Any other day takes the exact search below.
        """
        offset = self._probe(ordinal)
        if self._probe(ordinal - 1) == offset == self._probe(ordinal + 1):
            return (ordinal - _EPOCH_ORDINAL) * DAY - offset, offset
        return self._exact_day_start(ordinal), None

    def _probe(self, ordinal: int) -> int:
        offset = self._probe_cache.get(ordinal)
        if offset is None:
            if len(self._probe_cache) > 4096:
                self._probe_cache.clear()
            offset = self._probe_cache[ordinal] = self._offset((ordinal - _EPOCH_ORDINAL) * DAY)
        return offset

    def _exact_day_start(self, ordinal: int) -> int:
        """The first instant whose local date is this day (local midnight, or the end of a gap covering it)."""
        day = date.fromordinal(ordinal)
        naive = datetime(day.year, day.month, day.day)
        candidates = []
        for fold in (0, 1):
            instant = int(naive.replace(tzinfo=self.zone, fold=fold).timestamp())
            if datetime.fromtimestamp(instant, tz=self.zone).date() == day:
                candidates.append(instant)
        if candidates:
            return min(candidates)
        # Midnight falls in a gap on both readings: the day starts at the transition.
        lo = int(naive.replace(tzinfo=self.zone, fold=1).timestamp())
        hi = int(naive.replace(tzinfo=self.zone, fold=0).timestamp())
        return self._first_instant(lo, hi, lambda t: datetime.fromtimestamp(t, tz=self.zone).date() >= day)

    def _offset(self, instant: int) -> int:
        return int(datetime.fromtimestamp(instant, tz=self.zone).utcoffset().total_seconds())

    def _pieces(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """Split [lo, hi) where the UTC offset changes (at most a couple of times a day)."""
        pieces = []
        while lo < hi:
            offset = self._offset(lo)
            if self._offset(hi - 1) == offset:
                pieces.append((lo, hi, offset))
                break
            change = self._first_instant(lo, hi - 1, lambda t, o=offset: self._offset(t) != o)
            pieces.append((lo, change, offset))
            lo = change
        return pieces

    @staticmethod
    def _first_instant(lo: int, hi: int, predicate) -> int:
        """Smallest t in (lo, hi] with predicate(t), by bisection; predicate(hi) must hold."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if predicate(mid):
                hi = mid
            else:
                lo = mid
        return hi


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in intervals:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def parse_clock(text: str) -> int:
    """'HH:MM' or 'HH:MM:SS' (24:00 allowed) to seconds of the day."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"'{text}' is not a time of day like 09:00.")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = int(parts[2]) if len(parts) == 3 else 0
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and (minutes or seconds)):
        raise ValueError(f"'{text}' is not a valid time of day.")
    return hours * 3600 + minutes * 60 + seconds


def format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
