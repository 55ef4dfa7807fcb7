"""The SLA clock as pure arithmetic: one function decides what a definition does to a ticket at an instant.

The same functions run for live updates, for the sweep and for replaying a ticket's journal, so a recomputed clock
equals the incrementally maintained one. All instants are integer epoch seconds; totals are integer seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slas.business_time import BusinessCalendar
from slas.conditions import Snapshot, condition_holds
from slas.enums import ACTIVE_STAGES, BREACH_PERCENT, ClockStage


@dataclass(frozen=True)
class DefinitionSpec:
    """The parts of an SLA definition the arithmetic needs (saved or not, so drafts can be previewed)."""

    id: int | None
    duration: int
    thresholds: tuple[int, ...]
    priorities: frozenset[int]
    services: frozenset[int]
    configuration_items: frozenset[int]
    groups: frozenset[int]
    start: dict
    pause: dict
    stop: dict
    reset: dict
    cancel: dict
    categories: frozenset[int] = frozenset()
    catalog_items: frozenset[int] = frozenset()

    @property
    def percents(self) -> tuple[int, ...]:
        return (*self.thresholds, BREACH_PERCENT)

    def matches(self, snapshot: Snapshot) -> bool:
        return (
            (not self.priorities or snapshot.priority in self.priorities)
            and (not self.services or snapshot.service_id in self.services)
            and (not self.configuration_items or snapshot.configuration_item_id in self.configuration_items)
            and (not self.groups or snapshot.assignment_group_id in self.groups)
            and (
                not self.categories
                or snapshot.ticket_category_id in self.categories
                or snapshot.ticket_subcategory_id in self.categories
            )
            and (not self.catalog_items or snapshot.catalog_item_id in self.catalog_items)
        )


@dataclass
class ClockState:
    """A clock's mutable state; mirrors the SLAClock row."""

    definition_id: int | None
    duration: int
    stage: str
    started_at: int
    checkpoint_at: int
    last_category: str
    stopped_at: int | None = None
    due_at: int | None = None
    has_breached: bool = False
    business_elapsed: int = 0
    actual_elapsed: int = 0
    pause_total: int = 0
    next_milestone_percent: int | None = None
    next_milestone_at: int | None = None
    pk: int | None = None
    milestones: list[tuple[int, int]] = field(default_factory=list)  # (percent, reached_at) crossed in this run

    @property
    def active(self) -> bool:
        return self.stage in ACTIVE_STAGES

    def comparable(self) -> tuple:
        """Everything that must be equal between a replayed and an incrementally kept clock."""
        return (
            self.definition_id,
            self.stage,
            self.has_breached,
            self.started_at,
            self.stopped_at,
            self.due_at,
            self.business_elapsed,
            self.actual_elapsed,
            self.pause_total,
            self.next_milestone_percent,
            self.next_milestone_at,
        )


def target(duration: int, percent: int) -> int:
    """Business seconds at which `percent` of a clock's duration is reached (rounded up: 99.95 % is never 100 %)."""
    return -(-duration * percent // 100)


def advance(spec: DefinitionSpec, calendar: BusinessCalendar, state: ClockState, now: int) -> None:
    """Bring the totals up to `now`, noting every milestone crossed on the way at the instant it was reached."""
    if now <= state.checkpoint_at or not state.active:
        return
    if state.stage == ClockStage.IN_PROGRESS:
        gained = calendar.elapsed_epoch(state.checkpoint_at, now)
        before = state.business_elapsed
        while state.next_milestone_percent is not None:
            goal = target(state.duration, state.next_milestone_percent)
            if goal > before + gained:
                break
            reached = calendar.deadline_epoch(state.checkpoint_at, max(0, goal - before))
            state.milestones.append((state.next_milestone_percent, reached))
            if state.next_milestone_percent == BREACH_PERCENT:
                state.has_breached = True
            state.next_milestone_percent = _after(spec, state.next_milestone_percent)
        state.business_elapsed += gained
        state.actual_elapsed += now - state.checkpoint_at
    else:
        state.pause_total += now - state.checkpoint_at
    state.checkpoint_at = now


def _after(spec: DefinitionSpec, percent: int) -> int | None:
    later = [p for p in spec.percents if p > percent]
    return later[0] if later else None


def reschedule(spec: DefinitionSpec, calendar: BusinessCalendar, state: ClockState) -> None:
    """Recompute the due time and the next milestone from the checkpoint (nothing is due while paused)."""
    if state.stage != ClockStage.IN_PROGRESS:
        state.next_milestone_at = None
        if state.stage == ClockStage.PAUSED and not state.has_breached:
            state.due_at = None
        return
    # The clock keeps the duration it started with; editing the definition changes clocks that start afterwards.
    try:
        if state.business_elapsed < state.duration:
            state.due_at = calendar.deadline_epoch(state.checkpoint_at, state.duration - state.business_elapsed)
        if state.next_milestone_percent is None:
            state.next_milestone_at = None
        else:
            goal = target(state.duration, state.next_milestone_percent)
            state.next_milestone_at = calendar.deadline_epoch(
                state.checkpoint_at, max(0, goal - state.business_elapsed)
            )
    except ValueError:  # a schedule with no business hours left: nothing can fall due
        state.due_at = state.next_milestone_at = None


def start(spec: DefinitionSpec, calendar: BusinessCalendar, snapshot: Snapshot, now: int) -> ClockState:
    state = ClockState(
        definition_id=spec.id,
        duration=spec.duration,
        stage=ClockStage.PAUSED if condition_holds(spec.pause, snapshot) else ClockStage.IN_PROGRESS,
        started_at=now,
        checkpoint_at=now,
        last_category=snapshot.category,
        next_milestone_percent=spec.percents[0],
    )
    reschedule(spec, calendar, state)
    return state


def _finish(state: ClockState, stage: str, now: int, spec: DefinitionSpec) -> None:
    state.stage = stage
    state.stopped_at = now
    state.next_milestone_at = None
    if stage == ClockStage.COMPLETED:
        state.has_breached = state.has_breached or state.business_elapsed >= state.duration


def evaluate(
    spec: DefinitionSpec,
    calendar: BusinessCalendar,
    active: ClockState | None,
    snapshot: Snapshot,
    now: int,
    *,
    may_start: bool = True,
) -> list[ClockState]:
    """Apply one change of the ticket (its snapshot after the change) at `now`; returns the clocks it touched (the
    active one, a new one).

    Called once per change, in journal order, by the live path and the replay alike, also for changes that share an
    instant: every intermediate state counts, so a clock started and stopped at the same `now` is returned completed
    with zero elapsed (met), never dropped (docs/sla-engine.md, "Several changes at one instant")."""
    if active is None:
        if may_start and _should_start(spec, snapshot):
            return [start(spec, calendar, snapshot, now)]
        return []
    advance(spec, calendar, active, now)
    touched = [active]
    reset_categories = set(spec.reset.get("state_category") or ())
    if condition_holds(spec.stop, snapshot):
        _finish(active, ClockStage.COMPLETED, now, spec)
    elif condition_holds(spec.reset, snapshot) and active.last_category not in reset_categories:
        _finish(active, ClockStage.COMPLETED, now, spec)
        if may_start and _should_start(spec, snapshot):
            touched.append(start(spec, calendar, snapshot, now))
    elif (
        not spec.matches(snapshot)
        or not condition_holds(spec.start, snapshot)
        or condition_holds(spec.cancel, snapshot)
    ):
        _finish(active, ClockStage.CANCELLED, now, spec)
    elif condition_holds(spec.pause, snapshot):
        active.stage = ClockStage.PAUSED
    else:
        active.stage = ClockStage.IN_PROGRESS
    active.last_category = snapshot.category
    reschedule(spec, calendar, active)
    return touched


def _should_start(spec: DefinitionSpec, snapshot: Snapshot) -> bool:
    return (
        spec.matches(snapshot)
        and condition_holds(spec.start, snapshot)
        and not condition_holds(spec.stop, snapshot)
        and not condition_holds(spec.cancel, snapshot)
    )


def percentage(business_elapsed: int, duration: int) -> float:
    """Elapsed share in percent with two decimals, rounded down so it never shows a breach that has not happened."""
    return (business_elapsed * 10000 // duration) / 100 if duration else 0.0
