"""One SLA sweep over a million clocks, of which 10,000 are due, on PostgreSQL.

The data set lives in its own database (default postgres://postgres@127.0.0.1:5432/itsm_bench, from
BENCH_DATABASE_URL), created and migrated here, and is kept between runs: it is loaded again only when missing or
of another size. It looks like a busy desk at one fixed instant (REFERENCE, a Wednesday afternoon in London): incidents
of priorities 1-4, each with a response and a resolution clock under the demo's kind of SLA definitions (office hours
with English bank holidays, or 24x7), most of them long closed, some new, in progress or on hold, and a backlog of
exactly `--due` clocks that reached one milestone (a warning or the breach) in the hour before, when the sweeper was
not running. Every clock's figures come from the SLA engine itself: ticket histories are played through
`slas.engine.evaluate`, with a sweep recording each milestone until an hour before the reference, for a few hundred
template histories per kind; the million rows copy those templates in bulk (INSERT ... SELECT generate_series).

Each run puts the due clocks back as loaded (and drops what an earlier sweep wrote: milestones, SLA journal
entries, outbox messages), then times one `slas.services.sla_sweep(now=REFERENCE)` and checks that it recorded
exactly one milestone per due clock. Notifications go to Celery's in-memory transport (no broker is involved).

    python -m bench.sla_sweep [--clocks 1000000] [--due 10000] [--reload] [--profile FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench"
REFERENCE = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 15:00 in London (GMT)
BACKLOG = 3600  # the sweeper last ran this many seconds before the reference
SWEEP_LAG = 15  # seconds between a milestone and the sweep that recorded it, before the backlog
TEMPLATES_PER_KIND = 400
HOUR = 3600
# (name, target, priority, duration, business hours?), as the demo's definitions.
DEFINITIONS = [
    ("Bench P1 response 15m (24x7)", "response", 1, 15 * 60, False),
    ("Bench P2 response 1h", "response", 2, HOUR, True),
    ("Bench P3 response 4h", "response", 3, 4 * HOUR, True),
    ("Bench P4 response 8h", "response", 4, 8 * HOUR, True),
    ("Bench P1 resolution 4h (24x7)", "resolution", 1, 4 * HOUR, False),
    ("Bench P2 resolution 8h", "resolution", 2, 8 * HOUR, True),
    ("Bench P3 resolution 3 business days", "resolution", 3, 24 * HOUR, True),
    ("Bench P4 resolution 5 business days", "resolution", 4, 40 * HOUR, True),
]
OPEN = ["new", "active", "pending_customer", "pending_third_party"]
STOP = ["resolved", "closed", "cancelled"]
PRIORITY_WEIGHTS = {1: 0.05, 2: 0.15, 3: 0.4, 4: 0.4}
# Share of the tickets that are not due, by history: closed, resolved, on hold, in progress, new.
STORY_WEIGHTS = {"closed": 0.8, "resolved": 0.04, "hold": 0.04, "active": 0.1, "new": 0.02}
TEAMS, AGENTS_PER_TEAM, CALLERS = 50, 8, 2000


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"error: the bench database's name must contain 'bench' (it is wiped and reloaded): {url}")
    return url


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"Creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "itsm.settings.base"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"  # as in production: no query log
    import django

    django.setup()
    from itsm.celery import app

    # Outbox messages are queued after commit as they are in production, to an in-process transport.
    app.conf.broker_url = "memory://localhost/"
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


# --- templates: ticket histories played through the engine --------------------------------------------------------


@dataclass
class Template:
    story: str
    priority: int
    opened_at: int
    state: str
    category: str
    resolved_at: int | None
    closed_at: int | None
    assigned: bool
    clocks: dict = field(default_factory=dict)  # target -> ClockState
    milestones: list = field(default_factory=list)  # (target, percent, reached_at, recorded_at)
    due: int = 0
    events: list = field(default_factory=list)  # (at, state category, assigned): the history played


def play(
    story: str, priority: int, opened: int, rng: random.Random, defs: dict, cut: int, ref: int | None = None
) -> Template | None:
    """One ticket's history up to the reference, with sweeps recording milestones until `cut`; None if invalid."""
    from slas.conditions import Snapshot
    from slas.engine import advance, evaluate, reschedule

    ref = int(REFERENCE.timestamp()) if ref is None else ref
    respond = rng.randrange(60, 3 * HOUR)  # new -> in progress
    events = [(opened, "new", False)]
    state, category, resolved_at, closed_at = "new", "new", None, None
    if story != "new":
        events.append((opened + respond, "active", True))
        state, category = "in_progress", "active"
    if story == "hold":
        events.append((opened + respond + rng.randrange(HOUR, 3 * 86400), "pending_customer", True))
        state, category = "on_hold", "pending_customer"
    if story in ("closed", "resolved"):
        resolved_at = opened + respond + rng.randrange(10 * 60, 4 * 86400)
        events.append((resolved_at, "resolved", True))
        state, category = "resolved", "resolved"
        if story == "closed":
            closed_at = resolved_at + rng.randrange(HOUR, 7 * 86400)
            events.append((closed_at, "closed", True))
            state, category = "closed", "closed"
    if events[-1][0] > ref:
        return None
    template = Template(story, priority, opened, state, category, resolved_at, closed_at, story != "new")
    template.events = events
    states: dict = {}

    def sweep_until(limit: int) -> None:
        while True:
            waiting = [
                (s.next_milestone_at, target)
                for target, s in states.items()
                if s.next_milestone_at is not None
                and s.next_milestone_at <= cut
                and s.next_milestone_at + SWEEP_LAG <= limit
            ]
            if not waiting:
                return
            at, target = min(waiting)
            spec, calendar = defs[target]
            clock = states[target]
            advance(spec, calendar, clock, at + SWEEP_LAG)
            reschedule(spec, calendar, clock)
            template.milestones += [(target, p, r, at + SWEEP_LAG) for p, r in clock.milestones]
            clock.milestones.clear()

    for at, cat, assigned in events:
        sweep_until(at)
        snapshot = Snapshot(cat, priority, None, None, None, assigned)
        for target, (spec, calendar) in defs.items():
            # As slas.services.sla_evaluate: only running clocks are evaluated; a stopped one stays as it stopped.
            current = states.get(target)
            running = current if current is not None and current.active else None
            touched = evaluate(spec, calendar, running, snapshot, at)
            if len(touched) > 1 or (touched and current is not None and running is None):
                return None  # a reset or a second clock: not a history this bench plays
            for clock in touched:
                template.milestones += [(target, p, r, at) for p, r in clock.milestones]
                clock.milestones.clear()
                states[target] = clock
    sweep_until(ref)
    # What a sweep at the reference would record: exactly one milestone per due clock, or the history is not used.
    for target, clock in states.items():
        if clock.next_milestone_at is not None and clock.next_milestone_at <= ref:
            spec, calendar = defs[target]
            probe = _copy(clock)
            advance(spec, calendar, probe, ref)
            if len(probe.milestones) != 1:
                return None
            template.due += 1
    if template.due > 1 or set(states) != set(defs):
        return None
    template.clocks = states
    return template


def _copy(clock):
    from dataclasses import replace

    return replace(clock, milestones=[])


def make_templates(
    definitions,
    rng: random.Random,
    *,
    reference: datetime = REFERENCE,
    backlog: int = BACKLOG,
    stories: dict | None = None,
    per_kind: int = TEMPLATES_PER_KIND,
) -> tuple[dict, dict]:
    """Up to `per_kind` histories per (story, priority), split into due (one due clock) and not due.

    With `backlog` 0 the sweeps recorded everything until the reference and no "due" histories are made.
    """
    from slas.services import calendar_for, spec_of

    ref = int(reference.timestamp())
    cut = ref - backlog
    by_priority = {}
    for definition in definitions:
        by_priority.setdefault(definition.match_priorities[0], {})[definition.target] = (
            spec_of(definition),
            calendar_for(definition.schedule),
        )
    quiet: dict[tuple[str, int], list[Template]] = {}
    due: dict[int, list[Template]] = {}
    for priority, defs in by_priority.items():
        longest = max(spec.duration for spec, _ in defs.values())
        for story in [*(stories or STORY_WEIGHTS), *(["due"] if backlog else [])]:
            found = quiet.setdefault((story, priority), []) if story != "due" else due.setdefault(priority, [])
            tries = 0
            while len(found) < per_kind and tries < per_kind * 200:
                tries += 1
                if story == "due":
                    # Open tickets young enough to reach a milestone in the backlog hour.
                    played_story = rng.choice(["active", "active", "new"])
                    age = rng.randrange(60, int(longest * 3.5) + 4 * 86400)
                elif story in ("closed", "resolved"):
                    played_story, age = story, rng.randrange(2 * 86400, 120 * 86400)
                else:
                    played_story, age = story, rng.randrange(60, int(longest * 3.5) + 4 * 86400)
                template = play(played_story, priority, ref - age, rng, defs, cut, ref)
                if template is None or template.due != (1 if story == "due" else 0):
                    continue
                found.append(template)
            if not found:
                sys.exit(f"error: no {story} history found for priority {priority}")
    return quiet, due


# --- loading --------------------------------------------------------------------------------------------------


def loaded_size(cursor) -> tuple[int, int] | None:
    cursor.execute("SELECT to_regclass('bench_dataset') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT clocks, due FROM bench_dataset")
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def create_sla_setup(admin) -> list:
    """The bench's schedules (London office hours with English holidays, 24x7) and SLA definitions, as the demo's."""
    from slas.models import SLAAction, SLADefinition
    from slas.services import SpanInput, schedule_fill_holidays, schedule_save

    office = schedule_save(
        by=admin,
        name="Bench office hours (London)",
        timezone="Europe/London",
        spans=[SpanInput(day, 9 * HOUR, 17 * HOUR) for day in range(5)],
    )
    office.holiday_country, office.holiday_subdivision = "GB", "ENG"
    office.save(update_fields=["holiday_country", "holiday_subdivision"])
    schedule_fill_holidays(schedule=office, by=admin, years=[2025, 2026, 2027])
    always = schedule_save(
        by=admin,
        name="Bench 24x7 (UTC)",
        timezone="UTC",
        spans=[SpanInput(day, 0, 24 * HOUR) for day in range(7)],
    )
    definitions = []
    for order, (name, target, priority, seconds, business) in enumerate(DEFINITIONS):
        definition = SLADefinition(
            name=name,
            target=target,
            practice="incident",
            active=True,
            order=order,
            match_priorities=[priority],
            start_condition={"state_category": ["new"] if target == "response" else OPEN},
            pause_condition={} if target == "response" else {"state_category": ["pending_customer"]},
            stop_condition={"state_category": [c for c in OPEN if c != "new"] + STOP}
            if target == "response"
            else {"state_category": STOP},
            duration_seconds=seconds,
            schedule=office if business else always,
        )
        definition.full_clean()
        definition.save()
        SLAAction.objects.create(definition=definition, percent=75, kind="notify_assignee")
        SLAAction.objects.create(definition=definition, percent=100, kind="notify_assignee")
        SLAAction.objects.create(definition=definition, percent=100, kind="notify_group_manager")
        definitions.append(definition)
    return definitions


def create_people(teams: int, agents_per_team: int, callers: int) -> tuple[list, list, list]:
    """Agents bench-agentN in teams "Bench team N" (the first agent of each its manager), callers bench-callerN."""
    from django.contrib.auth.models import User

    from itsm.models import Team

    agents = User.objects.bulk_create(
        User(username=f"bench-agent{i}", email=f"bench-agent{i}@example.com", password="!")
        for i in range(teams * agents_per_team)
    )
    called = User.objects.bulk_create(
        User(username=f"bench-caller{i}", email=f"bench-caller{i}@example.com", password="!") for i in range(callers)
    )
    made = Team.objects.bulk_create(
        Team(name=f"Bench team {t}", manager=agents[t * agents_per_team]) for t in range(teams)
    )
    Team.members.through.objects.bulk_create(
        Team.members.through(team=team, user=agents[t * agents_per_team + a])
        for t, team in enumerate(made)
        for a in range(agents_per_team)
    )
    return agents, called, made


def load(clocks: int, due: int, seed: int = 8) -> float:
    """Wipe the bench data and load `clocks` clocks (two per ticket); returns seconds taken."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from slas.models import SLADefinition

    if clocks % 2 or due > clocks // 2:
        sys.exit("error: --clocks must be even and --due at most half of it (one due clock per ticket)")
    began = time.perf_counter()
    rng = random.Random(seed)
    tickets = clocks // 2
    with connection.cursor() as cursor:
        print("  wiping earlier bench data")
        cursor.execute(
            "DROP TABLE IF EXISTS bench_dataset, bench_due_snapshot, bench_tpl_ticket, bench_tpl_clock,"
            " bench_tpl_milestone, bench_map, bench_people, bench_callers"
        )  # also what a load that failed left
        cursor.execute(
            "TRUNCATE slas_slamilestone, slas_slaclock, incidents_incident, itsm_journalentry, itsm_outboxmessage,"
            " itsm_attachment, django_fsm_log_statelog, itsm_ticket CASCADE"
        )
        cursor.execute("DELETE FROM slas_slaaction")
        cursor.execute("DELETE FROM slas_sladefinition")
        cursor.execute("DELETE FROM itsm_team_members")
        cursor.execute("DELETE FROM itsm_team")
        cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
        cursor.execute("DELETE FROM slas_holiday")
        cursor.execute("DELETE FROM slas_schedulespan")
        cursor.execute("DELETE FROM slas_schedule")

    with transaction.atomic():
        admin = User.objects.create_superuser("bench-admin", "bench-admin@example.com", None)
        create_sla_setup(admin)
        create_people(TEAMS, AGENTS_PER_TEAM, CALLERS)

    print("  playing ticket histories through the SLA engine")
    definitions = list(SLADefinition.objects.select_related("schedule").filter(name__startswith="Bench "))
    quiet, due_templates = make_templates(definitions, rng)
    def_ids = {(d.match_priorities[0], d.target): (d.pk, d.schedule_id) for d in definitions}
    plan = _plan(tickets, due, quiet, due_templates, rng)
    with connection.cursor() as cursor:
        _write_templates(cursor, plan, def_ids)
        print(f"  inserting {tickets:,} tickets and incidents, {clocks:,} clocks")
        _bulk_insert(cursor, tickets)
        cursor.execute(
            "CREATE TABLE bench_due_snapshot AS SELECT * FROM slas_slaclock WHERE next_milestone_at <= %s",
            [REFERENCE],
        )
        cursor.execute("SELECT COUNT(*) FROM bench_due_snapshot")
        found = cursor.fetchone()[0]
        if found != due:
            sys.exit(f"error: {found} clocks are due after loading, not {due}")
        cursor.execute("DROP TABLE bench_tpl_ticket, bench_tpl_clock, bench_tpl_milestone, bench_people")
        cursor.execute("CREATE TABLE bench_dataset (clocks integer, due integer, loaded_at timestamptz, seconds real)")
        seconds = time.perf_counter() - began
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s, now(), %s)", [clocks, due, seconds])
        print("  vacuuming and analyzing")
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now: visibility map, hint bits, statistics
    return time.perf_counter() - began


def _plan(tickets: int, due: int, quiet: dict, due_templates: dict, rng: random.Random) -> list[tuple]:
    """Template rows in ticket order: (slot range start, count, template list) per kind."""
    plan = []
    priorities = list(PRIORITY_WEIGHTS)
    weights = list(PRIORITY_WEIGHTS.values())
    # The due tickets by priority, then the others by story and priority; remainders go to the last kind.
    counts = _split(due, weights)
    for priority, count in zip(priorities, counts, strict=True):
        plan.append((count, due_templates[priority]))
    rest = tickets - due
    kinds = [(story, priority) for story in STORY_WEIGHTS for priority in priorities]
    kind_weights = [STORY_WEIGHTS[s] * PRIORITY_WEIGHTS[p] for s, p in kinds]
    for kind, count in zip(kinds, _split(rest, kind_weights), strict=True):
        plan.append((count, quiet[kind]))
    return plan


def _split(total: int, weights: list[float]) -> list[int]:
    counts = [int(total * w / sum(weights)) for w in weights]
    counts[0] += total - sum(counts)
    return counts


def _write_templates(cursor, plan, def_ids) -> None:
    from psycopg2.extras import execute_values

    cursor.execute(
        "CREATE UNLOGGED TABLE bench_tpl_ticket (kind int, slot int, priority int, impact int, urgency int,"
        " state text, category text, active bool, opened_at timestamptz, resolved_at timestamptz,"
        " closed_at timestamptz, assigned bool, first_g int, n int, n_templates int)"
    )
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_tpl_clock (kind int, slot int, target int, definition_id bigint,"
        " schedule_id bigint, duration int, stage text, has_breached bool, started_at timestamptz,"
        " stopped_at timestamptz, due_at timestamptz, checkpoint_at timestamptz, business_elapsed int,"
        " actual_elapsed int, pause_total int, last_category text, next_milestone_at timestamptz,"
        " next_milestone_percent int)"
    )
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_tpl_milestone (kind int, slot int, target int, percent int,"
        " reached_at timestamptz, recorded_at timestamptz)"
    )
    impact_urgency = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (3, 3)}
    tickets, clocks, milestones = [], [], []
    first = 1
    for kind, (count, templates) in enumerate(plan):
        for slot, t in enumerate(templates):
            impact, urgency = impact_urgency[t.priority]
            tickets.append(
                (
                    kind, slot, t.priority, impact, urgency, t.state, t.category, t.category not in ("closed",),
                    _dt(t.opened_at), _dt(t.resolved_at), _dt(t.closed_at), t.assigned, first, count, len(templates),
                )
            )  # fmt: skip
            for target_index, target in enumerate(("response", "resolution")):
                c = t.clocks[target]
                definition_id, schedule_id = def_ids[(t.priority, target)]
                clocks.append(
                    (
                        kind, slot, target_index, definition_id, schedule_id, c.duration, c.stage, c.has_breached,
                        _dt(c.started_at), _dt(c.stopped_at), _dt(c.due_at), _dt(c.checkpoint_at),
                        c.business_elapsed, c.actual_elapsed, c.pause_total, c.last_category,
                        _dt(c.next_milestone_at), c.next_milestone_percent,
                    )
                )  # fmt: skip
            for target, percent, reached, recorded in t.milestones:
                target_index = 0 if target == "response" else 1
                milestones.append((kind, slot, target_index, percent, _dt(reached), _dt(recorded)))
        first += count
    execute_values(cursor, "INSERT INTO bench_tpl_ticket VALUES %s", tickets, page_size=1000)
    execute_values(cursor, "INSERT INTO bench_tpl_clock VALUES %s", clocks, page_size=1000)
    execute_values(cursor, "INSERT INTO bench_tpl_milestone VALUES %s", milestones, page_size=1000)
    # Who works the tickets: team i's agents; callers.
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_people AS"
        " SELECT (row_number() OVER (ORDER BY m.team_id, m.user_id)) - 1 AS idx, m.team_id, m.user_id"
        " FROM itsm_team_members m JOIN itsm_team t ON t.id = m.team_id WHERE t.name LIKE 'Bench team %%'"
    )
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_callers AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS idx, id"
        " FROM auth_user WHERE username LIKE 'bench-caller%%'"
    )


def map_tickets(cursor) -> tuple[int, int, int]:
    """bench_map: one row per ticket g = 1..n with its template; returns (ticket id base, people, callers)."""
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM itsm_ticket")
    ticket_base = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM bench_people")
    people = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM bench_callers")
    callers = cursor.fetchone()[0]
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_map AS"
        " SELECT g, t.kind, t.slot FROM bench_tpl_ticket t"
        " CROSS JOIN LATERAL generate_series(t.first_g + t.slot, t.first_g + t.n - 1, t.n_templates) AS g"
    )
    cursor.execute("CREATE INDEX ON bench_map (kind, slot)")
    cursor.execute("ANALYZE bench_map")
    return ticket_base, people, callers


def _bulk_insert(cursor, tickets: int) -> None:
    """Tickets g = 1..tickets take template slot (g - first) % templates of their kind; ids are base + g."""
    ticket_base, people, callers = map_tickets(cursor)
    from bench.common import insert_select
    from incidents.models import Incident
    from itsm.models import Ticket

    params = {"base": ticket_base, "people": people, "callers": callers}
    began = time.perf_counter()
    insert_select(
        cursor,
        Ticket,
        {
            "id": "%(base)s + m.g",
            "number": "'BEN' || lpad(m.g::text, 8, '0')",
            "kind": "'incident'",
            "short_description": "'Bench incident ' || m.g",
            "caller_id": "c.id",
            "opened_by_id": "c.id",
            "assignment_group_id": "p.team_id",
            "assigned_to_id": "CASE WHEN t.assigned THEN p.user_id END",
            **{column: f"t.{column}" for column in ("impact", "urgency", "priority", "active", "opened_at")},
            **{column: f"t.{column}" for column in ("resolved_at", "closed_at")},
            "state_category": "t.category",
            "updated_at": "GREATEST(t.opened_at, t.resolved_at, t.closed_at)",
        },
        " FROM bench_map m JOIN bench_tpl_ticket t USING (kind, slot)"
        " JOIN bench_people p ON p.idx = m.g %% %(people)s JOIN bench_callers c ON c.idx = m.g %% %(callers)s"
        " ORDER BY m.g",
        params,
    )
    print(f"    tickets {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    insert_select(
        cursor,
        Incident,
        {
            "ticket_ptr_id": "%(base)s + m.g",
            "state": "t.state",
            "close_notes": "CASE WHEN t.resolved_at IS NOT NULL THEN 'Fixed.' ELSE '' END",
            "close_code_id": "CASE WHEN t.resolved_at IS NOT NULL THEN"
            " (SELECT id FROM incidents_closecode ORDER BY id LIMIT 1) END",
            "hold_reason_id": "CASE WHEN t.state = 'on_hold' THEN"
            " (SELECT id FROM incidents_holdreason WHERE category = 'pending_customer' ORDER BY id LIMIT 1) END",
        },
        " FROM bench_map m JOIN bench_tpl_ticket t USING (kind, slot) ORDER BY m.g",
        params,
    )
    print(f"    incidents {time.perf_counter() - began:.1f} s")
    insert_clocks(cursor, ticket_base)
    cursor.execute("DROP TABLE bench_map, bench_callers")


def insert_clocks(cursor, ticket_base: int, log=print) -> int:
    """The clocks and recorded milestones of every ticket in bench_map, from its template; returns clocks."""
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM slas_slaclock")
    clock_base = cursor.fetchone()[0]
    began = time.perf_counter()
    cursor.execute(
        "INSERT INTO slas_slaclock (id, ticket_id, definition_id, schedule_id, stage, has_breached,"
        " duration_seconds, started_at, stopped_at, due_at, checkpoint_at, business_elapsed, actual_elapsed,"
        " pause_total, last_category, next_milestone_at, next_milestone_percent)"
        " SELECT %(clock_base)s + 2 * m.g + c.target, %(base)s + m.g, c.definition_id, c.schedule_id, c.stage,"
        "  c.has_breached, c.duration, c.started_at, c.stopped_at, c.due_at, c.checkpoint_at, c.business_elapsed,"
        "  c.actual_elapsed, c.pause_total, c.last_category, c.next_milestone_at, c.next_milestone_percent"
        " FROM bench_map m JOIN bench_tpl_clock c USING (kind, slot) ORDER BY m.g, c.target",
        {"base": ticket_base, "clock_base": clock_base},
    )
    clocks = cursor.rowcount
    log(f"    clocks {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    cursor.execute(
        "INSERT INTO slas_slamilestone (clock_id, percent, reached_at, recorded_at)"
        " SELECT %(clock_base)s + 2 * m.g + s.target, s.percent, s.reached_at, s.recorded_at"
        " FROM bench_map m JOIN bench_tpl_milestone s USING (kind, slot)",
        {"clock_base": clock_base},
    )
    log(f"    milestones already recorded: {cursor.rowcount:,} in {time.perf_counter() - began:.1f} s")
    for table in ("itsm_ticket", "slas_slaclock", "slas_slamilestone"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )
    return clocks


def _dt(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


# --- the sweep ------------------------------------------------------------------------------------------------


def reset() -> None:
    """Put the due clocks back as loaded and drop whatever an earlier sweep wrote."""
    from django.db import connection

    from slas.services import _STATE_FIELDS

    columns = list(_STATE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM slas_slamilestone m USING bench_due_snapshot s"
            " WHERE m.clock_id = s.id AND m.percent >= s.next_milestone_percent"
        )
        cursor.execute(
            f"UPDATE slas_slaclock c SET ({', '.join(columns)}) = ({', '.join('s.' + c for c in columns)})"
            " FROM bench_due_snapshot s WHERE c.id = s.id"
        )
        cursor.execute("DELETE FROM itsm_journalentry WHERE kind = 'sla'")
        cursor.execute("DELETE FROM itsm_outboxmessage")
        cursor.execute("VACUUM ANALYZE slas_slaclock")  # no dead index entries left from the previous run
        cursor.execute("VACUUM ANALYZE slas_slamilestone")


def sweep(batch_size: int | None, profile: str | None) -> dict:
    from django.db import connection

    from slas.services import sla_sweep

    kwargs = {"now": REFERENCE} if batch_size is None else {"now": REFERENCE, "batch_size": batch_size}
    connection.ensure_connection()
    cpu_began = time.process_time()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        began = time.perf_counter()
        recorded = profiler.runcall(sla_sweep, **kwargs)
        seconds = time.perf_counter() - began
        profiler.dump_stats(profile)
    else:
        began = time.perf_counter()
        recorded = sla_sweep(**kwargs)
        seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.percent, COUNT(*) FROM slas_slamilestone m JOIN bench_due_snapshot s ON s.id = m.clock_id"
            " WHERE m.percent >= s.next_milestone_percent GROUP BY m.percent ORDER BY m.percent"
        )
        by_percent = {str(p): n for p, n in cursor.fetchall()}
        cursor.execute("SELECT COUNT(*) FROM itsm_outboxmessage")
        outbox = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM itsm_journalentry WHERE kind = 'sla'")
        journal = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM slas_slaclock WHERE next_milestone_at <= %s", [REFERENCE])
        still_due = cursor.fetchone()[0]
    return {
        "seconds": round(seconds, 3),
        "python_cpu_seconds": round(cpu_seconds, 3),  # this process only; PostgreSQL's time is not in it
        "recorded": recorded,
        "milestones_per_second": round(recorded / seconds) if seconds else None,
        "milestones_by_percent": by_percent,
        "outbox_messages": outbox,
        "journal_entries": journal,
        "still_due_after": still_due,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=int(os.environ.get("BENCH_CLOCKS", 1_000_000)))
    parser.add_argument("--due", type=int, default=int(os.environ.get("BENCH_DUE", 10_000)))
    parser.add_argument("--reload", action="store_true", help="load the data set again even when present")
    parser.add_argument("--batch-size", type=int, default=None, help="sla_sweep's batch size (default: its own)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the sweep to FILE")
    args = parser.parse_args(argv)

    url = database_url()
    ensure_database(url)
    setup_django(url)
    from django.db import connection

    from bench.common import write_result

    with connection.cursor() as cursor:
        present = loaded_size(cursor)
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    load_seconds = None
    if args.reload or present != (args.clocks, args.due):
        print(f"Loading {args.clocks:,} SLA clocks ({args.due:,} due) into {urlsplit(url).path.lstrip('/')}")
        load_seconds = round(load(args.clocks, args.due), 1)
        print(f"  loaded in {load_seconds} s")
    else:
        print(f"Reusing the loaded data set: {args.clocks:,} SLA clocks, {args.due:,} due")
    reset()
    figures = sweep(args.batch_size, args.profile)
    with connection.cursor() as cursor:
        cursor.execute("SELECT seconds FROM bench_dataset")
        last_load = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM itsm_ticket")
        ticket_count = cursor.fetchone()[0]
    result = {
        "postgresql": server_version,
        "database": urlsplit(url).path.lstrip("/"),
        "clocks": args.clocks,
        "tickets": ticket_count,
        "due": args.due,
        "reference": REFERENCE.isoformat(),
        "load_seconds": load_seconds,
        "load_seconds_when_loaded": round(last_load, 1),
        "batch_size": args.batch_size,
        "sweep": figures,
        "recorded_ok": figures["recorded"] == args.due and figures["still_due_after"] == 0,
        "aim_seconds": 10,
    }
    path = write_result("sla_sweep", result)
    print(
        f"Sweep over {args.clocks:,} clocks ({args.due:,} due): {figures['seconds']} s "
        f"({figures['python_cpu_seconds']} s CPU in Python), "
        f"{figures['milestones_per_second']:,} milestones/s, recorded {figures['recorded']:,} "
        f"({'ok' if result['recorded_ok'] else 'WRONG'}), by percent {figures['milestones_by_percent']}, "
        f"outbox {figures['outbox_messages']:,}, journal {figures['journal_entries']:,} (aim: under 10 s)  -> {path}"
    )
    if not result["recorded_ok"]:
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
