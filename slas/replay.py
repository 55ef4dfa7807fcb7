"""Replay a ticket's journal through the SLA arithmetic: recompute clocks after a schedule or definition change,
check incremental clocks, and preview a draft definition against recent history.

The replay feeds the same `engine.evaluate` the live path uses, at the journal's instants, so its result equals
the incrementally kept clocks whenever the definitions and schedules are unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from itsm.enums import JournalKind
from itsm.models import JournalEntry, Ticket
from slas.conditions import Snapshot
from slas.engine import ClockState, DefinitionSpec, advance, evaluate, reschedule
from slas.enums import ACTIVE_STAGES
from slas.models import SLAClock, SLADefinition, SLAMilestone
from slas.services import (
    _dt,
    _record_milestones,
    _write_state,
    calendar_for,
    definitions_for,
    schedule_for,
    spec_of,
    state_of,
)

TRACKED_FIELDS = (
    "priority",
    "assigned_to",
    "service",
    "configuration_item",
    "assignment_group",
    "category",
    "subcategory",
)


@dataclass
class Replayed:
    """One replayed clock with the schedule it ran on and every milestone it crossed."""

    definition: SLADefinition
    schedule: object
    state: ClockState
    milestones: list[tuple[int, int]] = field(default_factory=list)


def _history(ticket: Ticket, entries: list[JournalEntry]) -> list[tuple[datetime, Snapshot]]:
    """The ticket's snapshot after each journaled change, oldest first (initial fields recovered backwards).

    One change is one ticket version (a transition, or the field changes saved together), as the live path evaluates
    after each; changes sharing an instant are each evaluated, in journal order, so a clock can start and stop at one
    instant. Entries without a version (written before versions were kept) that share an instant are one change."""
    changes = [e for e in entries if e.kind == JournalKind.FIELD_CHANGE and e.field in TRACKED_FIELDS]
    snapshot = Snapshot.of(ticket)
    for entry in reversed(changes):
        snapshot = snapshot.with_field(entry.field, entry.old_raw)
    relevant = [e for e in entries if (e.kind == JournalKind.TRANSITION and e.state_category) or e in changes]
    history = []
    for (moment, _version), group in groupby(relevant, key=lambda e: (e.created_at, e.ticket_version)):
        for entry in group:
            if entry.kind == JournalKind.TRANSITION:
                snapshot = Snapshot(entry.state_category, *_fields(snapshot))
            else:
                snapshot = snapshot.with_field(entry.field, entry.new_raw)
        history.append((moment, snapshot))
    return history


def _fields(snapshot: Snapshot) -> tuple:
    return (
        snapshot.priority,
        snapshot.service_id,
        snapshot.configuration_item_id,
        snapshot.assignment_group_id,
        snapshot.assigned,
        snapshot.ticket_category_id,
        snapshot.ticket_subcategory_id,
        snapshot.catalog_item_id,
    )


def replay_ticket(
    *,
    ticket: Ticket,
    definitions: Iterable[SLADefinition] | None = None,
    until: datetime | None = None,
    entries: list[JournalEntry] | None = None,
) -> list[Replayed]:
    """Every clock the definitions would have produced on this ticket, as of `until` (default: now)."""
    if entries is None:
        entries = list(
            JournalEntry.objects.filter(ticket=ticket)
            .filter(Q(kind=JournalKind.TRANSITION) | Q(kind=JournalKind.FIELD_CHANGE))
            .order_by("created_at", "id")
        )
    if definitions is None:
        definitions = definitions_for(practice=ticket.kind)
    specs = [(d, spec_of(d)) for d in definitions]
    active: dict[int, Replayed] = {}
    done: list[Replayed] = []
    for moment, snapshot in _history(ticket, entries):
        now = int(moment.timestamp())
        for index, (definition, spec) in enumerate(specs):
            current = active.get(index)
            if current is not None:
                calendar, schedule = calendar_for(current.schedule), current.schedule
            else:
                schedule = schedule_for(definition, snapshot)
                calendar = calendar_for(schedule)
            touched = evaluate(spec, calendar, current.state if current else None, snapshot, now)
            for state in touched:
                record = (
                    current if current is not None and state is current.state else Replayed(definition, schedule, state)
                )
                record.milestones += state.milestones
                state.milestones.clear()
                if state.active:
                    active[index] = record
                else:
                    active.pop(index, None) if active.get(index) is record else None
                    done.append(record)
    end = int((until or timezone.now()).timestamp())
    for index, record in active.items():
        _catch_up(specs[index][1], record, end)
    return done + list(active.values())


def _catch_up(spec: DefinitionSpec, record: Replayed, end: int) -> None:
    """Bring a running clock's totals to `end`, crossing the milestones that fell due (as the sweep would)."""
    calendar = calendar_for(record.schedule)
    advance(spec, calendar, record.state, end)
    reschedule(spec, calendar, record.state)
    record.milestones += record.state.milestones
    record.state.milestones.clear()


def live_states(*, ticket: Ticket, until: datetime | None = None) -> list[ClockState]:
    """The ticket's stored clocks brought to the same instant a replay is taken at, for comparison (running totals
    depend on the instant they are read at)."""
    end = int((until or timezone.now()).timestamp())
    states = []
    for clock in SLAClock.objects.filter(ticket=ticket).select_related("definition", "schedule").order_by("pk"):
        state = state_of(clock)
        if state.active:
            spec = spec_of(clock.definition)
            calendar = calendar_for(clock.schedule)
            advance(spec, calendar, state, end)
            reschedule(spec, calendar, state)
        states.append(state)
    return states


@transaction.atomic
def sla_recompute_ticket(*, ticket: Ticket, until: datetime | None = None, act: bool = True) -> int:
    """Replace the ticket's clocks of the active definitions with those replayed from its journal.

    Clocks of definitions switched off since are history and stay as they are. Milestones already recorded keep their
    recording time; newly reached ones are recorded with their actions (journal, notifications, escalations) unless
    `act` is false (loading history, as the demo does). Returns the number of clocks.
    """
    definitions = definitions_for(practice=ticket.kind)
    replayed = replay_ticket(ticket=ticket, until=until, definitions=definitions)
    recomputed = SLAClock.objects.select_for_update().filter(ticket=ticket, definition__in=definitions)
    # Clocks are matched by definition and start; a reset at the instant its clock started gives two clocks with the
    # same start, matched in the order they were made.
    existing: dict[tuple[int, int], list[SLAClock]] = {}
    for c in sorted(recomputed, key=lambda c: c.pk):
        existing.setdefault((c.definition_id, int(c.started_at.timestamp())), []).append(c)
    keep = set()
    recorded_at = timezone.now()
    new_milestones: list[tuple[SLAClock, int, int]] = []
    for record in replayed:
        key = (record.definition.pk, record.state.started_at)
        matching = existing.get(key)
        clock = (matching.pop(0) if matching else None) or SLAClock(
            ticket=ticket,
            definition=record.definition,
            schedule=record.schedule,
            duration_seconds=record.state.duration,
        )
        clock.schedule = record.schedule
        clock.duration_seconds = record.state.duration
        _write_state(clock, record.state)
        clock.save()
        keep.add(clock.pk)
        wanted = {percent: reached for percent, reached in record.milestones}
        SLAMilestone.objects.filter(clock=clock).exclude(percent__in=wanted).delete()
        have = dict(SLAMilestone.objects.filter(clock=clock).values_list("percent", "reached_at"))
        for percent, reached in wanted.items():
            if percent not in have and act:
                new_milestones.append((clock, percent, reached))
            elif percent not in have:
                SLAMilestone.objects.create(
                    clock=clock, percent=percent, reached_at=_dt(reached), recorded_at=recorded_at
                )
            elif int(have[percent].timestamp()) != reached:
                SLAMilestone.objects.filter(clock=clock, percent=percent).update(reached_at=_dt(reached))
    recomputed.exclude(pk__in=keep).delete()
    _record_milestones(new_milestones)
    return len(keep)


def sla_recompute(*, tickets, progress=None) -> int:
    """Recompute many tickets' clocks, one transaction each; `progress(done, total)` is called as it goes."""
    total = tickets.count()
    done = 0
    for ticket in tickets.iterator(chunk_size=500):
        sla_recompute_ticket(ticket=ticket)
        done += 1
        if progress is not None:
            progress(done, total)
    return done


def text_progress_bar(stream=sys.stderr, width: int = 40):
    """A progress callback drawing `[#####.....] 50% 500/1000` on one line."""

    def draw(done: int, total: int) -> None:
        filled = width * done // total if total else width
        percent = 100 * done // total if total else 100
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


@dataclass
class PreviewResult:
    tickets: int = 0
    attached: int = 0
    breached: int = 0
    due_changed: int = 0
    baseline_attached: int = 0
    baseline_breached: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def sla_preview(*, definition: SLADefinition, days: int = 30, limit: int = 5000) -> PreviewResult:
    """What-if: replay the last `days` of the practice's tickets with the draft, against the version it replaces."""
    since = timezone.now() - timedelta(days=days)
    result = PreviewResult()
    baseline = [definition.replaces] if definition.replaces_id else []
    tickets = Ticket.objects.filter(kind=definition.practice, opened_at__gte=since).order_by("-opened_at")[:limit]
    for ticket in tickets:
        entries = list(
            JournalEntry.objects.filter(ticket=ticket)
            .filter(Q(kind=JournalKind.TRANSITION) | Q(kind=JournalKind.FIELD_CHANGE))
            .order_by("created_at", "id")
        )
        draft = replay_ticket(ticket=ticket, definitions=[definition], entries=entries)
        before = replay_ticket(ticket=ticket, definitions=baseline, entries=entries) if baseline else []
        result.tickets += 1
        result.attached += len(draft)
        result.breached += sum(r.state.has_breached for r in draft)
        result.baseline_attached += len(before)
        result.baseline_breached += sum(r.state.has_breached for r in before)
        if [r.state.due_at for r in draft] != [r.state.due_at for r in before]:
            result.due_changed += 1
    return result


__all__ = ["ACTIVE_STAGES", "live_states", "replay_ticket", "sla_preview", "sla_recompute", "sla_recompute_ticket"]
