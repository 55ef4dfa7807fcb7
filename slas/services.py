"""SLA engine writes: schedules (validated as a whole), holiday filling."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import ConfigurationItem, Service
from itsm.enums import JournalKind
from itsm.models import JournalEntry, Ticket
from itsm.registry import events_emit
from itsm.rules import is_admin
from itsm.services import outbox_enqueue_many, ticket_set_fields
from slas.business_time import BusinessCalendar
from slas.conditions import Snapshot
from slas.engine import ClockState, DefinitionSpec, advance, evaluate, reschedule
from slas.enums import ACTIVE_STAGES, BREACH_PERCENT, ClockStage, ScheduleSource, SLAActionKind
from slas.models import Holiday, Schedule, ScheduleSpan, SLAAction, SLAClock, SLADefinition, SLAMilestone


@dataclass(frozen=True)
class SpanInput:
    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class HolidayInput:
    date: date
    name: str = ""
    yearly: bool = False


def schedule_validate(*, timezone: str, spans: list[SpanInput], holidays: list[HolidayInput]) -> None:
    """Refuse an unknown timezone, a span that ends before it starts, overlapping spans and duplicate holidays."""
    errors: dict[str, str] = {}
    if not spans:
        errors["spans"] = "A schedule needs at least one span of business hours (no schedule at all means 24x7)."
    if timezone not in available_timezones() or timezone == "localtime":
        errors["timezone"] = f"'{timezone}' is not an IANA timezone name such as Europe/Berlin."
    for index, span in enumerate(spans):
        if not 0 <= span.start < span.end <= 86400:
            errors["spans"] = f"Span {index + 1}: the end must be after the start (and at most 24:00)."
            break
    else:
        by_day: dict[int, list[SpanInput]] = {}
        for span in spans:
            by_day.setdefault(span.weekday, []).append(span)
        for day_spans in by_day.values():
            day_spans.sort(key=lambda s: s.start)
            if any(a.end > b.start for a, b in pairwise(day_spans)):
                errors["spans"] = "Spans on the same weekday must not overlap."
                break
    keys = [(h.date.month, h.date.day) if h.yearly else h.date for h in holidays]
    if len(set(keys)) != len(keys) or len({h.date for h in holidays}) != len(holidays):
        errors["holidays"] = "Each holiday date may appear only once."
    if errors:
        raise ValidationError(errors)


def _ensure_admin(by) -> None:
    if not is_admin(by):
        raise PermissionDenied("Only admins can change schedules.")


@transaction.atomic
def schedule_save(
    *,
    by,
    schedule: Schedule | None = None,
    name: str | None = None,
    timezone: str | None = None,
    description: str | None = None,
    spans: list[SpanInput] | None = None,
    holidays: list[HolidayInput] | None = None,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
) -> Schedule:
    """Create a schedule, or update one; given spans or holidays replace the existing ones wholesale.

    Running clocks on the schedule get their due time and next milestone recomputed from their last checkpoint.
    """
    _ensure_admin(by)
    schedule = schedule or Schedule()
    if name is not None:
        schedule.name = name.strip()
    if timezone is not None:
        schedule.timezone = timezone
    if description is not None:
        schedule.description = description
    if holiday_country is not None:
        schedule.holiday_country = holiday_country.strip().upper()
    if holiday_subdivision is not None:
        schedule.holiday_subdivision = holiday_subdivision.strip().upper()
    if not schedule.name:
        raise ValidationError({"name": "This field is required."})
    if Schedule.objects.filter(name=schedule.name).exclude(pk=schedule.pk).exists():
        raise ValidationError({"name": "A schedule with this name already exists."})
    current_spans = (
        spans
        if spans is not None
        else [SpanInput(s.weekday, s.start, s.end) for s in (schedule.spans.all() if schedule.pk else [])]
    )
    current_holidays = (
        holidays
        if holidays is not None
        else [HolidayInput(h.date, h.name, h.yearly) for h in (schedule.holidays.all() if schedule.pk else [])]
    )
    schedule_validate(timezone=schedule.timezone, spans=current_spans, holidays=current_holidays)
    schedule.save()
    if spans is not None:
        schedule.spans.all().delete()
        ScheduleSpan.objects.bulk_create(
            ScheduleSpan(schedule=schedule, weekday=s.weekday, start=s.start, end=s.end) for s in spans
        )
    if holidays is not None:
        schedule.holidays.all().delete()
        Holiday.objects.bulk_create(
            Holiday(schedule=schedule, date=h.date, name=h.name, yearly=h.yearly) for h in holidays
        )
    if schedule.pk is not None:
        clocks_reschedule(schedule=schedule)
    return schedule


def clocks_reschedule(*, schedule: Schedule) -> int:
    """Recompute due times and next milestones of the running clocks on a schedule that changed."""
    clocks = list(
        SLAClock.objects.select_for_update(of=("self",))
        .select_related("definition", "schedule")
        .filter(schedule=schedule, stage=ClockStage.IN_PROGRESS)
    )
    calendar = calendar_for(Schedule.objects.get(pk=schedule.pk))
    # One spec per definition: each clock has its own definition instance, and a spec costs three queries.
    specs: dict[int, DefinitionSpec] = {}
    for clock in clocks:
        spec = specs.get(clock.definition_id)
        if spec is None:
            spec = specs[clock.definition_id] = spec_of(clock.definition)
        state = state_of(clock)
        reschedule(spec, calendar, state)
        _write_state(clock, state)
    _save_states(clocks)
    return len(clocks)


@transaction.atomic
def schedule_fill_holidays(*, schedule: Schedule, by, years: list[int]) -> int:
    """Add the public holidays of the schedule's country and subdivision for these years; returns how many."""
    import holidays as holiday_calendars

    _ensure_admin(by)
    if not schedule.holiday_country:
        raise ValidationError({"holiday_country": "Set a country code first."})
    try:
        calendar = holiday_calendars.country_holidays(
            schedule.holiday_country, subdiv=schedule.holiday_subdivision or None, years=years
        )
    except NotImplementedError as exc:
        raise ValidationError({"holiday_country": str(exc)}) from None
    existing = set(schedule.holidays.values_list("date", flat=True))
    new = [
        Holiday(schedule=schedule, date=day, name=str(name)[:120])
        for day, name in sorted(calendar.items())
        if day not in existing
    ]
    Holiday.objects.bulk_create(new)
    schedule.save(update_fields=["updated_at"])  # clocks re-read the calendar
    clocks_reschedule(schedule=schedule)
    return len(new)


@transaction.atomic
def sla_definition_activate(*, definition: SLADefinition, by) -> SLADefinition:
    """Switch a definition on; the version it replaces is switched off (its running clocks run to their end)."""
    _ensure_admin(by)
    definition.full_clean()
    # updated_at moves with both, so every process's definition cache sees the switch.
    if definition.replaces_id:
        SLADefinition.objects.filter(pk=definition.replaces_id).update(active=False, updated_at=timezone.now())
    definition.active = True
    definition.save(update_fields=["active", "updated_at"])
    return definition


# --- clocks ---------------------------------------------------------------------------------------------------

_CALENDARS: dict[tuple[int, float], BusinessCalendar] = {}
_ALWAYS = BusinessCalendar.always()


def calendar_for(schedule: Schedule | None) -> BusinessCalendar:
    """The schedule's calendar, cached per process until the schedule changes (24x7 when there is none)."""
    if schedule is None:
        return _ALWAYS
    key = (schedule.pk, schedule.updated_at.timestamp())
    calendar = _CALENDARS.get(key)
    if calendar is None:
        if len(_CALENDARS) > 256:
            _CALENDARS.clear()
        fresh = Schedule.objects.prefetch_related("spans", "holidays").get(pk=schedule.pk)
        calendar = _CALENDARS[(fresh.pk, fresh.updated_at.timestamp())] = fresh.calendar()
    return calendar


def spec_of(definition: SLADefinition) -> DefinitionSpec:
    """The arithmetic's view of a definition (uses prefetched many-to-many ids), kept on the instance."""
    cached = definition.__dict__.get("_spec")
    if cached is None:
        cached = definition.__dict__["_spec"] = _build_spec(definition)
    return cached


def _build_spec(definition: SLADefinition) -> DefinitionSpec:
    return DefinitionSpec(
        id=definition.pk,
        duration=definition.duration_seconds,
        thresholds=tuple(definition.thresholds or ()),
        priorities=frozenset(definition.match_priorities or ()),
        services=frozenset(s.pk for s in definition.match_services.all()) if definition.pk else frozenset(),
        configuration_items=frozenset(c.pk for c in definition.match_configuration_items.all())
        if definition.pk
        else frozenset(),
        groups=frozenset(g.pk for g in definition.match_assignment_groups.all()) if definition.pk else frozenset(),
        categories=frozenset(c.pk for c in definition.match_categories.all()) if definition.pk else frozenset(),
        catalog_items=frozenset(i.pk for i in definition.match_catalog_items.all()) if definition.pk else frozenset(),
        start=definition.start_condition or {},
        pause=definition.pause_condition or {},
        stop=definition.stop_condition or {},
        reset=definition.reset_condition or {},
        cancel=definition.cancel_condition or {},
    )


_DEFINITIONS: dict[str, tuple[tuple, list[SLADefinition]]] = {}


def definitions_cache_clear(**kwargs) -> None:
    """Forget the cached definitions (connected to saves of definitions and schedules in this process)."""
    _DEFINITIONS.clear()


def _definitions_version() -> tuple:
    # One cheap query tells whether any definition or schedule changed in any process since the cache was filled.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT MAX(updated_at) FROM slas_sladefinition), (SELECT COUNT(*) FROM slas_sladefinition),"
            " (SELECT MAX(updated_at) FROM slas_schedule)"
        )
        return tuple(cursor.fetchone())


def definitions_for(*, practice: str) -> list[SLADefinition]:
    """The active definitions of a practice with their match sets, cached per process until one changes."""
    version = _definitions_version()
    cached = _DEFINITIONS.get(practice)
    if cached is not None and cached[0] == version:
        return cached[1]
    definitions = list(
        SLADefinition.objects.filter(active=True, practice=practice)
        .select_related("schedule")
        .prefetch_related(
            "match_services",
            "match_configuration_items",
            "match_assignment_groups",
            "match_categories",
            "match_catalog_items",
        )
        .order_by("order", "pk")
    )
    _DEFINITIONS[practice] = (version, definitions)
    return definitions


def schedule_for(definition: SLADefinition, snapshot: Snapshot) -> Schedule | None:
    """Where a new clock takes its business hours from: the service's or CI's support hours, or the definition's."""
    owner = None
    if definition.schedule_source == ScheduleSource.SERVICE and snapshot.service_id:
        owner = Schedule.objects.filter(pk=Subquery(Service.objects.filter(pk=snapshot.service_id).values("schedule")))
    elif definition.schedule_source == ScheduleSource.CONFIGURATION_ITEM and snapshot.configuration_item_id:
        owner = Schedule.objects.filter(
            pk=Subquery(ConfigurationItem.objects.filter(pk=snapshot.configuration_item_id).values("schedule"))
        )
    schedule = owner.first() if owner is not None else None
    return schedule or definition.schedule


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _dt(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def state_of(clock: SLAClock) -> ClockState:
    return ClockState(
        pk=clock.pk,
        definition_id=clock.definition_id,
        duration=clock.duration_seconds,
        stage=clock.stage,
        started_at=_epoch(clock.started_at),
        checkpoint_at=_epoch(clock.checkpoint_at),
        last_category=clock.last_category,
        stopped_at=clock.stopped_at and _epoch(clock.stopped_at),
        due_at=clock.due_at and _epoch(clock.due_at),
        has_breached=clock.has_breached,
        business_elapsed=clock.business_elapsed,
        actual_elapsed=clock.actual_elapsed,
        pause_total=clock.pause_total,
        next_milestone_percent=clock.next_milestone_percent,
        next_milestone_at=clock.next_milestone_at and _epoch(clock.next_milestone_at),
    )


_STATE_FIELDS = (
    "stage",
    "has_breached",
    "started_at",
    "stopped_at",
    "due_at",
    "checkpoint_at",
    "business_elapsed",
    "actual_elapsed",
    "pause_total",
    "last_category",
    "next_milestone_at",
    "next_milestone_percent",
)


def _write_state(clock: SLAClock, state: ClockState) -> None:
    clock.stage = state.stage
    clock.has_breached = state.has_breached
    clock.started_at = _dt(state.started_at)
    clock.stopped_at = _dt(state.stopped_at)
    clock.due_at = _dt(state.due_at)
    clock.checkpoint_at = _dt(state.checkpoint_at)
    clock.business_elapsed = state.business_elapsed
    clock.actual_elapsed = state.actual_elapsed
    clock.pause_total = state.pause_total
    clock.last_category = state.last_category
    clock.next_milestone_at = _dt(state.next_milestone_at)
    clock.next_milestone_percent = state.next_milestone_percent


def _persist(
    *, ticket: Ticket, definition: SLADefinition, clock: SLAClock | None, states: list[ClockState], schedule
) -> list[tuple[SLAClock, int, int]]:
    """Save touched clocks; return the milestones they crossed as (clock, percent, reached_at)."""
    crossed = []
    for state in states:
        if state.pk is not None and clock is not None and clock.pk == state.pk:
            row = clock
            unchanged = (
                state.comparable() == state_of(clock).comparable() and state.last_category == clock.last_category
            )
        else:
            row = SLAClock(ticket=ticket, definition=definition, schedule=schedule, duration_seconds=state.duration)
            unchanged = False
        _write_state(row, state)
        if row.pk is None:
            row.save()
        elif not unchanged:
            row.save(update_fields=list(_STATE_FIELDS))
        state.pk = row.pk
        crossed.extend((row, percent, reached) for percent, reached in state.milestones)
        state.milestones.clear()
    return crossed


# No savepoint of its own (two round trips on every change of every ticket): its callers are services in their own
# transaction, and an error here aborts them, so their savepoint or transaction rolls it back.
@transaction.atomic(savepoint=False)
def sla_evaluate(*, ticket: Ticket, at: datetime | None = None) -> None:
    """Attach, pause, resume, stop, reset or cancel the ticket's clocks after a change made at `at`.

    Milestones crossed on the way are recorded (once) and their actions run; escalations that change the ticket
    are evaluated in turn.
    """
    now = _epoch(at or timezone.now())
    snapshot = Snapshot.of(ticket)
    definitions = {d.pk: d for d in definitions_for(practice=ticket.kind)}
    active = {
        c.definition_id: c
        for c in SLAClock.objects.select_for_update(of=("self",))
        .select_related("schedule")
        .filter(ticket=ticket, stage__in=ACTIVE_STAGES)
    }
    for clock in active.values():
        if clock.definition_id in definitions:
            clock.definition = definitions[clock.definition_id]
        else:  # a clock of a definition switched off since: it runs to its end
            definitions[clock.definition_id] = clock.definition
    waiting = _waiting_for_replaced(definitions, active)
    crossed: list[tuple[SLAClock, int, int]] = []
    for definition in definitions.values():
        clock = active.get(definition.pk)
        if clock is not None:
            calendar, schedule = calendar_for(clock.schedule), clock.schedule
            state = state_of(clock)
        else:
            schedule = schedule_for(definition, snapshot)
            calendar, state = calendar_for(schedule), None
        may_start = definition.active and definition.pk not in waiting
        states = evaluate(spec_of(definition), calendar, state, snapshot, now, may_start=may_start)
        crossed += _persist(ticket=ticket, definition=definition, clock=clock, states=states, schedule=schedule)
    _record_milestones(crossed)


def _waiting_for_replaced(definitions: dict[int, SLADefinition], active: dict[int, SLAClock]) -> set[int]:
    """Active definitions that replace (directly or down a chain of versions) a definition whose clock still runs on
    the ticket: the new version waits for that clock to end instead of running a second clock beside it. Costs a
    query only while a retired version's clock runs."""
    retired = {pk for pk in active if not definitions[pk].active}
    if not retired:
        return set()
    replaces = dict(SLADefinition.objects.filter(replaces__isnull=False).values_list("pk", "replaces_id"))
    waiting = set()
    for definition in definitions.values():
        if not definition.active or definition.pk in active:
            continue
        seen, ancestor = set(), replaces.get(definition.pk)
        while ancestor is not None and ancestor not in seen:
            if ancestor in retired:
                waiting.add(definition.pk)
                break
            seen.add(ancestor)
            ancestor = replaces.get(ancestor)
    return waiting


def _record_milestones(crossed: list[tuple[SLAClock, int, int]]) -> None:
    """Record each crossed milestone once (the unique constraint decides, in one statement); act on the new ones."""
    if not crossed:
        return
    recorded_at = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (clock.pk, percent, connection.ops.adapt_datetimefield_value(_dt(reached)), recorded_at)
        for clock, percent, reached in crossed
    ]
    with connection.cursor() as cursor:
        # Table and column names come from model metadata, never from input; every value is a bound parameter.
        cursor.execute(
            f"INSERT INTO {SLAMilestone._meta.db_table} (clock_id, percent, reached_at, recorded_at)"  # nosec B608
            f" VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))}"
            " ON CONFLICT (clock_id, percent) DO NOTHING RETURNING clock_id, percent",
            [value for row in rows for value in row],
        )
        new = set(cursor.fetchall())
    _milestone_actions(
        [(clock, percent, _dt(reached)) for clock, percent, reached in crossed if (clock.pk, percent) in new]
    )


def _milestone_actions(reached: list[tuple[SLAClock, int, datetime]]) -> None:
    """Journal each new milestone and carry out its definition's actions (notifications via the outbox).

    Tickets, actions and group members are read once for all milestones; journal entries and notifications are
    written in bulk, at the end and before each escalation that changes a ticket (which is then evaluated in turn).
    """
    if not reached:
        return
    tickets = _tickets_with_people({clock.ticket_id for clock, _percent, _at in reached})
    actions: dict[tuple[int, int], list[SLAAction]] = defaultdict(list)
    for action in SLAAction.objects.filter(
        definition__in={clock.definition_id for clock, _percent, _at in reached}
    ).select_related("team"):
        actions[action.definition_id, action.percent].append(action)
    members: dict[int, list] = {}
    entries: list[JournalEntry] = []
    messages: list[dict] = []
    for clock, percent, reached_at in reached:
        ticket = tickets[clock.ticket_id]
        what = _("breached") if percent == BREACH_PERCENT else _("reached %(percent)s%%") % {"percent": percent}
        text = f"SLA '{clock.definition.name}' {what} at {reached_at:%Y-%m-%d %H:%M} UTC."
        entries.append(JournalEntry(ticket=ticket, actor=None, kind=JournalKind.SLA, body=text))
        # Listeners (triggers, webhooks) hear every milestone, whether or not an action notifies anyone.
        events_emit(
            event="sla.breached" if percent == BREACH_PERCENT else "sla.warning",
            ticket=ticket,
            key=f"clock{clock.pk}:{percent}",
            data={"sla": clock.definition.name, "percent": percent},
        )
        changes: dict = {}
        for action in actions[clock.definition_id, percent]:
            recipients = []
            if action.kind == SLAActionKind.NOTIFY_ASSIGNEE and ticket.assigned_to:
                recipients = [ticket.assigned_to]
            elif action.kind == SLAActionKind.NOTIFY_GROUP and ticket.assignment_group:
                group = ticket.assignment_group
                if group.pk not in members:
                    members[group.pk] = list(group.members.filter(is_active=True))
                recipients = members[group.pk]
            elif action.kind == SLAActionKind.NOTIFY_GROUP_MANAGER and ticket.assignment_group:
                recipients = [m for m in [ticket.assignment_group.manager] if m is not None]
            elif action.kind == SLAActionKind.REASSIGN and action.team_id:
                changes |= {"assignment_group": action.team, "assigned_to": None}
            elif action.kind == SLAActionKind.RAISE_PRIORITY:
                changes["priority"] = max(1, ticket.priority - 1)
            messages += [
                {
                    "event": "sla.breached" if percent == BREACH_PERCENT else "sla.warning",
                    "ticket": ticket,
                    "recipient": recipient,
                    "subject": f"[{ticket.number}] {text}",
                    "body": f"{text}\n\n{ticket.number}: {ticket.short_description}",
                    "key": f"clock{clock.pk}:{percent}",
                }
                for recipient in recipients
            ]
        if changes:
            _write_journal_and_outbox(entries, messages)
            ticket, changed_at = ticket_set_fields(
                ticket_id=ticket.pk, changes=changes, actor=None, note=f"Escalated: {text}"
            )
            if changed_at is not None:
                sla_evaluate(ticket=ticket, at=changed_at)
            tickets |= _tickets_with_people({ticket.pk})
    _write_journal_and_outbox(entries, messages)


def _tickets_with_people(ids: set[int]) -> dict[int, Ticket]:
    return Ticket.objects.select_related("caller", "assigned_to", "assignment_group__manager").in_bulk(ids)


def _write_journal_and_outbox(entries: list[JournalEntry], messages: list[dict]) -> None:
    JournalEntry.objects.bulk_create(entries)
    outbox_enqueue_many(messages)
    entries.clear()
    messages.clear()


def _save_states(clocks: list[SLAClock]) -> None:
    """Write the state fields of many clocks: on PostgreSQL in one UPDATE ... FROM (VALUES ...), as Django's
    bulk_update (a CASE per field and row) costs more than all the rest of a sweep."""
    if connection.vendor != "postgresql":
        SLAClock.objects.bulk_update(clocks, _STATE_FIELDS)
        return
    if not clocks:
        return
    fields = [SLAClock._meta.get_field(name) for name in _STATE_FIELDS]
    columns = [connection.ops.quote_name(f.column) for f in fields]
    row = "(%s::bigint, " + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    with connection.cursor() as cursor:
        # Table and column names come from model metadata, never from input; every value is a bound parameter.
        cursor.execute(
            f"UPDATE {SLAClock._meta.db_table} AS c SET {assignments}"  # nosec B608
            f" FROM (VALUES {', '.join([row] * len(clocks))}) AS v(id, {', '.join(columns)}) WHERE c.id = v.id",
            [value for clock in clocks for value in (clock.pk, *(getattr(clock, name) for name in _STATE_FIELDS))],
        )


def sla_sweep(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Record every milestone that is due, in small batches that concurrent sweeps never share; returns how many."""
    moment = now or timezone.now()
    specs: dict[tuple[int, datetime], DefinitionSpec] = {}  # across batches, until a definition changes
    recorded = 0
    while True:
        with transaction.atomic():
            batch = list(
                SLAClock.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("schedule", "definition")
                .filter(next_milestone_at__lte=moment)
                .order_by("next_milestone_at")[:batch_size]
            )
            # A ticket being changed right now is left alone: its change evaluates its clocks itself, and waiting for
            # it while holding clock locks could deadlock with that change (which locks the ticket, then the clocks).
            free = set(
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(pk__in={clock.ticket_id for clock in batch})
                .values_list("pk", flat=True)
            )
            clocks = [clock for clock in batch if clock.ticket_id in free]
            crossed = []
            for clock in clocks:
                key = (clock.definition_id, clock.definition.updated_at)
                spec = specs.get(key) or specs.setdefault(key, spec_of(clock.definition))
                state = state_of(clock)
                advance(spec, calendar_for(clock.schedule), state, _epoch(moment))
                reschedule(spec, calendar_for(clock.schedule), state)
                crossed += [(clock, p, r) for p, r in state.milestones]
                state.milestones.clear()
                _write_state(clock, state)
            _save_states(clocks)
            _record_milestones(crossed)
            recorded += len(crossed)
        if len(batch) < batch_size or not clocks:
            return recorded
