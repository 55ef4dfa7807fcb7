"""Conflict detection for changes, as pure functions over plain data (no database): the service gathers the
candidates with a few indexed queries and stores what these functions find.

A change conflicts with
- another change planned at an overlapping time on one of its CIs (`same_ci`), or on a CI that one of its CIs
  depends on, or that depends on one of its CIs, up to `depth` hops along `depends_on` in one direction
  (`dependency`; siblings that merely share a dependency are not related);
- a blackout window that its planned window overlaps and whose scope covers it (`blackout`);
- for each of its CIs that has maintenance windows, those windows when they do not cover its planned window
  (`maintenance`; back-to-back occurrences count as one);
- another change at an overlapping time with the same assignee (`assignee`).
Times are half-open intervals [start, end): a change ending at 10:00 does not overlap one starting at 10:00.
"""

from __future__ import annotations

import zoneinfo
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

SAME_CI = "same_ci"
DEPENDENCY = "dependency"
BLACKOUT = "blackout"
MAINTENANCE = "maintenance"
ASSIGNEE = "assignee"


@dataclass(frozen=True)
class Slot:
    """A change as conflict detection sees it: its planned window, CIs, services and assignee."""

    id: int
    number: str
    start: datetime
    end: datetime
    ci_ids: frozenset[int] = frozenset()
    service_ids: frozenset[int] = frozenset()
    assignee_id: int | None = None
    assignee_name: str = ""


@dataclass(frozen=True)
class WindowRule:
    """A blackout or maintenance window: once (start, end) or weekly (weekdays, local start/end time, zone).

    Scope: `ci_ids` and `service_ids`; both empty means every CI.
    """

    id: int
    kind: str
    name: str
    once: bool
    start: datetime | None = None
    end: datetime | None = None
    weekdays: frozenset[int] = frozenset()
    start_time: time | None = None
    end_time: time | None = None
    time_zone: str = "UTC"
    valid_from: date | None = None
    valid_until: date | None = None
    ci_ids: frozenset[int] = frozenset()
    service_ids: frozenset[int] = frozenset()
    description: str = ""

    @property
    def is_global(self) -> bool:
        return not self.ci_ids and not self.service_ids


@dataclass(frozen=True)
class Conflict:
    """One conflict: its kind, the reason in words, and what it is with (another change, a window, a CI)."""

    kind: str
    reason: str
    other_id: int | None = None
    window_id: int | None = None
    ci_id: int | None = None
    key: tuple = field(default=(), compare=False)

    def identity(self) -> tuple:
        """What makes two findings the same conflict (the reason's wording aside)."""
        return (self.kind, self.other_id, self.window_id, self.ci_id)


def overlaps(start_a: datetime, end_a: datetime, start_b: datetime, end_b: datetime) -> bool:
    """Half-open intervals overlap."""
    return start_a < end_b and start_b < end_a


# --- windows ---------------------------------------------------------------------------------------------------


def occurrences(rule: WindowRule, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The rule's occurrences that overlap [start, end), in time order, as aware UTC datetimes."""
    if rule.once:
        if rule.start is not None and rule.end is not None and overlaps(rule.start, rule.end, start, end):
            yield rule.start.astimezone(UTC), rule.end.astimezone(UTC)
        return
    if not rule.weekdays or rule.start_time is None or rule.end_time is None:
        return
    zone = zoneinfo.ZoneInfo(rule.time_zone)
    crosses_midnight = rule.end_time <= rule.start_time
    # An occurrence starting the local day before `start` may still be running: begin one day early.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        if (
            day.isoweekday() in rule.weekdays
            and (rule.valid_from is None or day >= rule.valid_from)
            and (rule.valid_until is None or day <= rule.valid_until)
        ):
            local_start = datetime.combine(day, rule.start_time, tzinfo=zone)
            end_day = day + timedelta(days=1) if crosses_midnight else day
            local_end = datetime.combine(end_day, rule.end_time, tzinfo=zone)
            occ_start, occ_end = local_start.astimezone(UTC), local_end.astimezone(UTC)
            if occ_end > occ_start and overlaps(occ_start, occ_end, start, end):
                yield occ_start, occ_end
        day += timedelta(days=1)


def covered(start: datetime, end: datetime, spans: Iterable[tuple[datetime, datetime]]) -> bool:
    """Whether the union of the spans covers [start, end) without a gap."""
    reach = start
    for span_start, span_end in sorted(spans):
        if span_start > reach:
            return False
        reach = max(reach, span_end)
        if reach >= end:
            return True
    return reach >= end


def window_applies(rule: WindowRule, *, ci_ids: Iterable[int], service_ids: Iterable[int]) -> bool:
    """A window applies to a change when it is global or names one of its CIs or services."""
    return rule.is_global or bool(rule.ci_ids & set(ci_ids)) or bool(rule.service_ids & set(service_ids))


# --- the CI graph ----------------------------------------------------------------------------------------------


def reach(sources: Iterable[int], edges: Mapping[int, Iterable[int]], depth: int) -> dict[int, tuple[int, int]]:
    """CIs reachable from `sources` along `edges` in 1..depth hops: CI -> (the source it is reached from, hops).

    Breadth-first, so each CI carries its fewest hops (ties go to the lowest source id, for stable reasons).
    """
    found: dict[int, tuple[int, int]] = {}
    for source in sorted(set(sources)):
        seen = {source}
        queue = deque([(source, 0)])
        while queue:
            node, hops = queue.popleft()
            if hops == depth:
                continue
            for neighbour in edges.get(node, ()):
                if neighbour in seen:
                    continue
                seen.add(neighbour)
                queue.append((neighbour, hops + 1))
                best = found.get(neighbour)
                if best is None or hops + 1 < best[1]:
                    found[neighbour] = (source, hops + 1)
    return found


def invert(edges: Mapping[int, Iterable[int]]) -> dict[int, set[int]]:
    """depends_on -> dependents."""
    inverted: dict[int, set[int]] = {}
    for node, targets in edges.items():
        for target in targets:
            inverted.setdefault(target, set()).add(node)
    return inverted


# --- detection -------------------------------------------------------------------------------------------------


def _when(start: datetime, end: datetime, tz: tzinfo) -> str:
    start, end = start.astimezone(tz), end.astimezone(tz)
    tail = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}-{tail} {start.tzname()}"


def _hops(count: int) -> str:
    return "1 hop" if count == 1 else f"{count} hops"


def find_conflicts(
    *,
    change: Slot,
    others: Iterable[Slot],
    depends_on: Mapping[int, Iterable[int]],
    depth: int,
    windows: Sequence[WindowRule] = (),
    ci_services: Mapping[int, int | None] | None = None,
    names: Mapping[int, str] | None = None,
    tz: tzinfo = UTC,
) -> list[Conflict]:
    """Every conflict of `change` (see the module docstring); `others` may hold any changes, only overlapping ones
    count. `depends_on` is the CI graph (CI -> CIs it depends on), `ci_services` each CI's service (for the scope of
    maintenance windows named by service), `names` CI names for the reasons."""
    names = names or {}
    ci_services = ci_services or {}
    label = lambda ci: names.get(ci, f"CI {ci}")  # noqa: E731
    found: list[Conflict] = []
    downstream = reach(change.ci_ids, depends_on, depth)  # what our CIs depend on
    upstream = reach(change.ci_ids, invert(depends_on), depth)  # what depends on our CIs
    for other in sorted(others, key=lambda o: (o.start, o.number)):
        if other.id == change.id or not overlaps(change.start, change.end, other.start, other.end):
            continue
        when = _when(other.start, other.end, tz)
        shared = change.ci_ids & other.ci_ids
        if shared:
            cis = ", ".join(sorted(label(ci) for ci in shared))
            found.append(
                Conflict(SAME_CI, f"{other.number} also changes {cis}, {when}.", other_id=other.id, ci_id=min(shared))
            )
        else:
            relations = []
            for ci in other.ci_ids:
                if ci in downstream:
                    source, hops = downstream[ci]
                    relations.append((hops, ci, f"{label(ci)}, which {label(source)} depends on ({_hops(hops)})"))
                if ci in upstream:
                    source, hops = upstream[ci]
                    relations.append((hops, ci, f"{label(ci)}, which depends on {label(source)} ({_hops(hops)})"))
            if relations:
                relations.sort()
                text = "; ".join(words for _hops_, _ci, words in relations)
                found.append(
                    Conflict(
                        DEPENDENCY, f"{other.number} changes {text}, {when}.", other_id=other.id, ci_id=relations[0][1]
                    )
                )
        if change.assignee_id is not None and other.assignee_id == change.assignee_id:
            found.append(
                Conflict(
                    ASSIGNEE,
                    f"{change.assignee_name or 'The assignee'} is also assigned {other.number}, {when}.",
                    other_id=other.id,
                )
            )
    for rule in windows:
        if rule.kind != BLACKOUT or not window_applies(rule, ci_ids=change.ci_ids, service_ids=change.service_ids):
            continue
        spans = list(occurrences(rule, change.start, change.end))
        if spans:
            found.append(
                Conflict(
                    BLACKOUT,
                    f"Overlaps the blackout '{rule.name}' ({_when(*spans[0], tz)}).",
                    window_id=rule.id,
                )
            )
    maintenance = [rule for rule in windows if rule.kind == MAINTENANCE]
    for ci in sorted(change.ci_ids, key=label):
        service = ci_services.get(ci)
        own = [r for r in maintenance if window_applies(r, ci_ids=[ci], service_ids=[service] if service else [])]
        if not own:
            continue
        spans = [span for rule in own for span in occurrences(rule, change.start, change.end)]
        if not covered(change.start, change.end, spans):
            which = "; ".join(rule.description or rule.name for rule in own)
            found.append(
                Conflict(
                    MAINTENANCE,
                    f"{label(ci)} may only change in its maintenance windows ({which}); "
                    f"{_when(change.start, change.end, tz)} is not inside them.",
                    ci_id=ci,
                )
            )
    return found
