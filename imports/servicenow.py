"""Import of ServiceNow incidents: an export with one row per incident, or an event log with one row per change of
each incident (rows of one incident together, oldest first, as in the UCI "incident event log").

Each incident is built once, in its own savepoint: the record with its final fields, its journal rebuilt from the
events (creation, every state change and every field change, at the time and by the user of the event), and its SLA
clocks replayed from that journal. Rows that cannot be mapped are reported with their line and reason and their
incident is not imported at all. Running it again skips what was imported (resumable and idempotent). Memory stays
bounded: rows are streamed, one incident at a time; only the maps of people, teams and codes are kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import ConfigurationItem
from imports.models import ImportedRecord
from incidents.enums import IncidentState
from incidents.models import CloseCode, HoldReason, Incident
from itsm.enums import JournalKind, Role, TicketKind
from itsm.models import JournalEntry, NumberSequence, Team, Ticket
from itsm.services import ticket_next_number

SOURCE = "servicenow"
S = IncidentState

# ServiceNow state (label or code) -> our state and, for On Hold, the hold reason's slug.
STATES: dict[str, tuple[str, str | None]] = {
    "new": (S.NEW, None),
    "1": (S.NEW, None),
    "active": (S.IN_PROGRESS, None),
    "in progress": (S.IN_PROGRESS, None),
    "2": (S.IN_PROGRESS, None),
    "on hold": (S.ON_HOLD, "awaiting_caller"),
    "3": (S.ON_HOLD, "awaiting_caller"),
    "awaiting user info": (S.ON_HOLD, "awaiting_caller"),
    "awaiting caller": (S.ON_HOLD, "awaiting_caller"),
    "awaiting evidence": (S.ON_HOLD, "awaiting_caller"),
    "awaiting vendor": (S.ON_HOLD, "awaiting_vendor"),
    "awaiting problem": (S.ON_HOLD, "awaiting_problem"),
    "awaiting change": (S.ON_HOLD, "awaiting_change"),
    "resolved": (S.RESOLVED, None),
    "6": (S.RESOLVED, None),
    "closed": (S.CLOSED, None),
    "7": (S.CLOSED, None),
    "canceled": (S.CANCELED, None),
    "cancelled": (S.CANCELED, None),
    "8": (S.CANCELED, None),
}
# ServiceNow writes "-100" for a state it lost; the incident keeps the state it had.
UNKNOWN_STATES = {"-100", ""}
NULL = {"", "?", "null", "NULL"}
EXTRA_COLUMNS = (
    "contact_type",
    "location",
    "category",
    "subcategory",
    "u_symptom",
    "made_sla",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "knowledge",
    "u_priority_confirmation",
    "notify",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
    "closed_code",
    "resolved_by",
    "sys_created_by",
    "sys_created_at",
)
TRACKED = ("assignment_group", "assigned_to", "impact", "urgency", "priority", "configuration_item")


class RowError(ValueError):
    """A row that cannot be mapped: its line and the reason."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


def _value(row: dict[str, str], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return None if value in NULL else value


def _level(row: dict[str, str], column: str, line: int, *, allowed: range = range(1, 4)) -> int:
    value = _value(row, column)
    match = re.match(r"^\s*(\d+)", value or "")
    if not match or int(match.group(1)) not in allowed:
        raise RowError(line, f"{column} {value!r} is not one of {list(allowed)}")
    return int(match.group(1))


_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def _time(row: dict[str, str], column: str, line: int, zone: zoneinfo.ZoneInfo, *, required: bool = True):
    value = _value(row, column)
    if value is None:
        if required:
            raise RowError(line, f"{column} is empty")
        return None
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise RowError(line, f"{column} {value!r} is not a date and time")


def rows_read(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row of a CSV file, gzip-compressed or not, streamed."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        missing = {"number", "incident_state", "impact", "urgency", "priority", "opened_at"} - set(
            reader.fieldnames or []
        )
        if missing:
            raise RowError(1, f"missing columns: {', '.join(sorted(missing))}")
        for row in reader:
            yield reader.line_num, row


def incidents_grouped(rows: Iterable[tuple[int, dict[str, str]]]) -> Iterator[tuple[str, list[tuple[int, dict]]]]:
    """The rows of each incident together (the log keeps them together; a number seen again is reported)."""
    seen: set[str] = set()
    number, group = None, []
    for line, row in rows:
        current = (row.get("number") or "").strip()
        if current != number:
            if group:
                yield number, group
            if current in seen:
                raise RowError(line, f"{current} appears again after other incidents; sort the file by number")
            seen.add(current)
            number, group = current, []
        group.append((line, row))
    if group:
        yield number, group


@dataclass
class Event:
    line: int
    at: datetime
    actor: str | None
    state: str
    hold: str | None
    fields: dict[str, Any]


def _changed(previous: Event, event: Event) -> bool:
    """Whether an event changed the incident (a tracked field or the state): it is then one journaled version."""
    return (event.state, event.hold) != (previous.state, previous.hold) or any(
        previous.fields[name] != event.fields[name] for name in TRACKED
    )


@dataclass
class Report:
    incidents: int = 0
    skipped: int = 0
    events: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Importer:
    """Maps one incident's rows to an incident with its journal; keeps the maps of people, teams and codes."""

    def __init__(self, *, zone: str = "UTC", replay_slas: bool = True):
        self.zone = zoneinfo.ZoneInfo(zone)
        self.replay_slas = replay_slas
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.members: set[tuple[int, int]] = set()
        self.cis: dict[str, ConfigurationItem] = {}
        self.close_codes: dict[str, CloseCode] = {}
        self.holds = {h.slug: h for h in HoldReason.objects.all()}
        self.groups = {role: Group.objects.get_or_create(name=role)[0] for role in (Role.END_USER, Role.AGENT)}
        self.highest_number = 0
        self.report = Report()
        self.journal: list[JournalEntry] = []
        self.records: list[ImportedRecord] = []
        self.created: list[Incident] = []
        self.updated: dict[int, datetime] = {}
        # Per batch: numbers imported before, and numbers our own tickets already use.
        self.imported: set[str] = set()
        self.taken: set[str] = set()
        self.users = {u.username: u for u in User.objects.filter(username__startswith="sn-")}
        if replay_slas:
            from slas.services import definitions_for

            # Replaying the journal costs a few queries per incident: only when there are clocks to rebuild.
            self.replay_slas = bool(definitions_for(practice=TicketKind.INCIDENT))

    # --- reference data -----------------------------------------------------------------------------------------

    def _user(self, name: str | None, *, agent: bool) -> User | None:
        if name is None:
            return None
        username = "sn-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        username = username[:150]
        if username not in self.users:
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": name[:150]})
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(self.groups[Role.AGENT if agent else Role.END_USER])
            self.users[username] = user
        return self.users[username]

    def _team(self, name: str | None) -> Team | None:
        if name is None:
            return None
        if name not in self.teams:
            self.teams[name] = Team.objects.get_or_create(name=name[:100])[0]
        return self.teams[name]

    def _ci(self, name: str | None) -> ConfigurationItem | None:
        if name is None:
            return None
        if name not in self.cis:
            self.cis[name] = ConfigurationItem.objects.get_or_create(name=name[:120])[0]
        return self.cis[name]

    def _close_code(self, value: str | None) -> CloseCode | None:
        if value is None:
            return None
        if value not in self.close_codes:
            slug = "servicenow-" + re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
            self.close_codes[value] = CloseCode.objects.get_or_create(
                slug=slug[:40], defaults={"name": f"ServiceNow {value}"[:80], "active": False}
            )[0]
        return self.close_codes[value]

    # --- one incident ---------------------------------------------------------------------------------------------

    def _events(self, rows: list[tuple[int, dict]]) -> list[Event]:
        events: list[Event] = []
        state, hold = None, None
        for line, row in rows:
            label = (row.get("incident_state") or "").strip()
            if label in UNKNOWN_STATES:
                if state is None:
                    raise RowError(line, f"incident_state {label!r} on the first event")
                self.report.warnings.append(f"line {line}: state {label!r} kept as {state}")
            elif label.lower() in STATES:
                state, hold = STATES[label.lower()]
            else:
                raise RowError(line, f"incident_state {label!r} is not a known state")
            fields = {
                "impact": _level(row, "impact", line),
                "urgency": _level(row, "urgency", line),
                "priority": _level(row, "priority", line, allowed=range(1, 6)),
                "assignment_group": self._team(_value(row, "assignment_group")),
                "assigned_to": self._user(_value(row, "assigned_to"), agent=True),
                "configuration_item": self._ci(_value(row, "cmdb_ci")),
            }
            at = _time(row, "sys_updated_at", line, self.zone, required=False) or _time(
                row, "opened_at", line, self.zone
            )
            actor = self._user(_value(row, "sys_updated_by"), agent=True)
            events.append(Event(line, at, actor, state, hold, fields))
        return events

    def incident_import(self, number: str, rows: list[tuple[int, dict]]) -> bool:
        """Import one incident; False when it was imported before. Raises RowError (nothing written) otherwise."""
        if number in self.imported:
            return False
        first_line, first = rows[0]
        _line, final = rows[-1]
        if not re.fullmatch(r"[A-Z]{2,8}\d{1,12}", number or ""):
            raise RowError(first_line, f"number {number!r} is not a ticket number")
        events = self._events(rows)
        last = events[-1]
        opened_at = _time(first, "opened_at", first_line, self.zone)
        caller = self._user(_value(first, "caller_id"), agent=False) or self._user("unknown caller", agent=False)
        opened_by = self._user(_value(first, "opened_by"), agent=True)
        incident = Incident(
            kind=TicketKind.INCIDENT,
            number=number,
            short_description=self._summary(final, number),
            description=self._description(final, number),
            caller=caller,
            opened_by=opened_by,
            state=last.state,
            hold_reason=self.holds.get(last.hold) if last.state == S.ON_HOLD else None,
            opened_at=opened_at,
            # One ticket version per imported change (the creation, then each event that changed something), as the
            # journal records them: the SLA replay evaluates each version on its own, also at a shared instant.
            version=1 + sum(_changed(a, b) for a, b in pairwise(events)),
            reopen_count=min(int(_value(final, "reopen_count") or 0), 32767),
            **last.fields,
        )
        if last.state in (S.RESOLVED, S.CLOSED):
            incident.resolved_at = _time(final, "resolved_at", rows[-1][0], self.zone, required=False) or last.at
            incident.close_code = self._close_code(_value(final, "closed_code"))
        if last.state in (S.CLOSED, S.CANCELED):
            incident.closed_at = _time(final, "closed_at", rows[-1][0], self.zone, required=False) or last.at
        incident.sync_state_category(incident.state)
        with transaction.atomic():
            if number in self.taken:
                # Our own numbering took it already: a new number, the ServiceNow one stays in the description.
                incident.number = ticket_next_number(kind=TicketKind.INCIDENT)
            incident.save()
        # The rest is written for the whole batch at once, in the batch's transaction (see _flush).
        self._membership(events)
        self.journal += self._journal(incident, events, opened_at, number)
        self.updated[incident.pk] = max(last.at, opened_at)
        self.records.append(
            ImportedRecord(
                source=SOURCE,
                external_id=number,
                ticket=incident,
                events=len(rows),
                extra={c: final.get(c) for c in EXTRA_COLUMNS if c in final},
            )
        )
        self.created.append(incident)
        digits = re.sub(r"\D", "", number)
        if number.startswith("INC") and digits:
            self.highest_number = max(self.highest_number, int(digits))
        return True

    def _membership(self, events: list[Event]) -> None:
        pairs = {
            (e.fields["assignment_group"].pk, e.fields["assigned_to"].pk)
            for e in events
            if e.fields["assignment_group"] is not None and e.fields["assigned_to"] is not None
        } - self.members
        if pairs:
            through = Team.members.through
            through.objects.bulk_create([through(team_id=t, user_id=u) for t, u in pairs], ignore_conflicts=True)
            self.members |= pairs

    def _category(self, incident: Incident, state: str, hold: str | None) -> str:
        if state == S.ON_HOLD and hold in self.holds:
            return self.holds[hold].category
        return Incident.STATE_CATEGORIES[state]

    def _journal(self, incident: Incident, events: list[Event], opened_at: datetime, number: str) -> list[JournalEntry]:
        first = events[0]
        entries = [
            JournalEntry(
                ticket=incident,
                kind=JournalKind.TRANSITION,
                actor=incident.opened_by,
                created_at=min(opened_at, first.at),
                ticket_version=1,
                transition="create",
                from_state="",
                to_state=first.state,
                state_category=self._category(incident, first.state, first.hold),
            )
        ]
        previous = first
        version = 1
        for event in events[1:]:
            at = max(event.at, entries[-1].created_at)
            version += _changed(previous, event)
            for name in TRACKED:
                old, new = previous.fields[name], event.fields[name]
                if old != new:
                    entries.append(
                        JournalEntry(
                            ticket=incident,
                            kind=JournalKind.FIELD_CHANGE,
                            actor=event.actor,
                            created_at=at,
                            ticket_version=version,
                            field=name,
                            old_value="" if old is None else str(old),
                            new_value="" if new is None else str(new),
                            old_raw=_raw(old),
                            new_raw=_raw(new),
                        )
                    )
            if (event.state, event.hold) != (previous.state, previous.hold):
                entries.append(
                    JournalEntry(
                        ticket=incident,
                        kind=JournalKind.TRANSITION,
                        actor=event.actor,
                        created_at=at,
                        ticket_version=version,
                        transition="import",
                        from_state=previous.state,
                        to_state=event.state,
                        state_category=self._category(incident, event.state, event.hold),
                        body=f"ServiceNow event at line {event.line}",
                    )
                )
            previous = event
        entries.append(
            JournalEntry(
                ticket=incident,
                kind=JournalKind.WORK_NOTE,
                created_at=entries[-1].created_at,
                body=f"Imported from ServiceNow {number} ({len(events)} events).",
            )
        )
        return entries

    @staticmethod
    def _summary(row: dict[str, str], number: str) -> str:
        parts = [p for p in (_value(row, "u_symptom"), _value(row, "category"), _value(row, "subcategory")) if p]
        return (" / ".join(parts) or f"Imported incident {number}")[:160]

    @staticmethod
    def _description(row: dict[str, str], number: str) -> str:
        lines = [f"Imported from ServiceNow as {number}."]
        for column in ("category", "subcategory", "u_symptom", "contact_type", "location"):
            if _value(row, column):
                lines.append(f"{column.replace('u_', '').replace('_', ' ').capitalize()}: {_value(row, column)}")
        return "\n".join(lines)

    # --- a whole file ---------------------------------------------------------------------------------------------

    def run(
        self,
        path: Path,
        *,
        limit: int | None = None,
        batch: int = 100,
        progress: Callable[[int], None] | None = None,
    ) -> Report:
        """Import every incident of the file (or the first `limit`), `batch` incidents per transaction."""
        self.report = report = Report()
        started = time.perf_counter()
        pending: list[tuple[str, list]] = []
        try:
            for number, rows in incidents_grouped(rows_read(path)):
                pending.append((number, rows))
                if len(pending) >= batch:
                    self._batch(pending, report, progress)
                    pending = []
                if limit is not None and report.incidents + report.skipped + len(report.errors) + len(pending) >= limit:
                    break
        except RowError as exc:
            report.errors.append(exc)
        self._batch(pending, report, progress)
        self._bump_numbering()
        report.seconds = time.perf_counter() - started
        return report

    def _batch(self, pending: list[tuple[str, list]], report: Report, progress) -> None:
        if not pending:
            return
        numbers = [number for number, _rows in pending]
        self.imported = set(
            ImportedRecord.objects.filter(source=SOURCE, external_id__in=numbers).values_list("external_id", flat=True)
        )
        self.taken = set(Ticket.objects.filter(number__in=numbers).values_list("number", flat=True))
        self.journal, self.records, self.created, self.updated = [], [], [], {}
        with transaction.atomic():
            for number, rows in pending:
                try:
                    with transaction.atomic():
                        imported = self.incident_import(number, rows)
                except RowError as exc:
                    report.errors.append(exc)
                    continue
                except IntegrityError as exc:
                    report.errors.append(RowError(rows[0][0], f"{number}: {exc}"))
                    continue
                if imported:
                    report.incidents += 1
                    report.events += len(rows)
                else:
                    report.skipped += 1
                if progress is not None:
                    progress(len(rows))
            self._flush()

    def _flush(self) -> None:
        """Write the batch's journals, import records and last-event times; replay SLA clocks from the journals."""
        JournalEntry.objects.bulk_create(self.journal)
        ImportedRecord.objects.bulk_create(self.records)
        if self.updated and connection.vendor != "postgresql":
            for pk, at in self.updated.items():
                Ticket.objects.filter(pk=pk).update(updated_at=at)
        elif self.updated:
            # Ticket.updated_at is auto_now: the last event's time is what an imported ticket should show.
            table = Ticket._meta.db_table
            values = ", ".join(["(%s, %s::timestamptz)"] * len(self.updated))
            # The table name comes from model metadata and the placeholders are fixed text; every value is bound.
            sql = (
                f"UPDATE {table} SET updated_at = v.at"  # nosec B608
                f" FROM (VALUES {values}) AS v(id, at) WHERE {table}.id = v.id"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [x for pair in self.updated.items() for x in pair])
        if self.replay_slas:
            from slas.replay import sla_recompute_ticket

            for incident in self.created:
                sla_recompute_ticket(ticket=incident, until=timezone.now(), act=False)

    def _bump_numbering(self) -> None:
        """Our own numbering continues past the imported numbers."""
        if not self.highest_number:
            return
        with transaction.atomic():
            NumberSequence.objects.get_or_create(prefix="INC")
            NumberSequence.objects.filter(prefix="INC", last_value__lt=self.highest_number).update(
                last_value=self.highest_number
            )


def _raw(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "pk", value))[:64]
