"""`manage.py seed_bench`: a desk of a million incidents for `make bench`, loaded in bulk on PostgreSQL.

What it loads (for --incidents N; the other practices in proportion): 200 teams of 8 agents, 5,000 users in all
(the rest end users), 100 services and 2,000 configuration items; N incidents with their SLA clocks (a response and
a resolution clock each, under office-hours or 24x7 definitions) and the milestones already recorded; N/50 problems,
N/50 problem tasks, N/20 changes and N/20 change tasks; N/10 service requests (REQ) with about 1.2 requested items
(RITM) and 1.5 fulfilment tasks (TASK) each, ordered from one bench catalog item; journal entries averaging five per
ticket. Ticket numbers
come from the kernel's NumberSequence, which is left at the last number used, so new tickets go on from there.

The data is valid as the services would have left it: states, state categories, the active flag and the
opened/resolved/closed times agree, every state change has its journal entry (with the category it led to, as the
SLA engine's replay reads it), and each incident's clocks are what the SLA engine computed for its history (histories
are played through `slas.engine` for a few thousand templates, as bench/sla_sweep.py does; the million rows copy
those templates). Times are relative to the hour the data set was loaded (`bench_seed.reference`).

The services are not used: rows go in by INSERT ... SELECT over generate_series for the incidents (nothing leaves
the server) and by COPY (psycopg2 copy_expert) for the other practices; secondary indexes are built after the load
and foreign-key triggers are off while loading (the rows are consistent by construction).

The database is dropped and migrated again before loading (its name must contain "bench"); a data set of the same
size is reused (see `bench_seed`), unless --reload.
"""

from __future__ import annotations

import io
import json
import random
import time
from datetime import UTC, datetime, timedelta

from bench import sla_sweep
from bench.common import insert_select

TEAMS = 200
AGENTS_PER_TEAM = 8
USERS = 5000
SERVICES = 100
CIS = 2000
# Incident histories (share of the incidents): mostly closed, as on a desk that has run for months.
STORIES = {"closed": 0.9, "resolved": 0.03, "hold": 0.02, "active": 0.04, "new": 0.01}
TEMPLATES_PER_KIND = 150
JOURNAL_PER_TICKET = 5
# Other practices per incident.
SHARES = {"problem": 1 / 50, "problem_task": 1 / 50, "change": 1 / 20, "change_task": 1 / 20}
# Service requests per incident: REQs, their requested items (one or two each, about 1.2) and fulfilment tasks (one
# or two per item that reached fulfilment, about 1.5 per REQ).
REQUESTS_PER_INCIDENT = 1 / 10
# How a requested item's story ends (share of the items): its transitions from creation, in order.
RITM_STORIES = {
    "closed": (0.75, ["create", "approve", "start_fulfilment", "fulfil", "close"]),
    "fulfilled": (0.05, ["create", "approve", "start_fulfilment", "fulfil"]),
    "in_fulfilment": (0.10, ["create", "approve", "start_fulfilment"]),
    "awaiting_approval": (0.04, ["create", "request_approval"]),
    "rejected": (0.03, ["create", "request_approval", "reject"]),
    "canceled": (0.03, ["create", "request_approval", "cancel"]),
}
RITM_TARGETS = {
    "create": "submitted", "approve": "approved", "request_approval": "awaiting_approval", "reject": "rejected",
    "start_fulfilment": "in_fulfilment", "fulfil": "fulfilled", "close": "closed", "cancel": "canceled",
}  # fmt: skip

SUBJECTS = [
    "VPN", "Email", "Printer", "Laptop", "Wi-Fi", "Payroll app", "CRM", "Badge reader", "Teams call", "SharePoint",
    "Password reset", "Monitor", "Docking station", "ERP", "Shared drive", "Phone", "Website", "Database",
    "Backup job", "Invoice portal", "Calendar", "Scanner", "Citrix", "Outlook", "Expense tool",
]  # fmt: skip
PROBLEMS = [
    "does not connect", "is slow", "keeps crashing", "shows an error", "cannot log in", "lost its settings",
    "times out", "prints blank pages", "will not start", "drops every few minutes", "rejects the certificate",
    "sync fails", "freezes on open", "reports disk full", "sends duplicates",
]  # fmt: skip
PLACES = [
    "in London office", "for the finance team", "since this morning", "after the update", "on the 3rd floor",
    "for remote staff", "in Manchester", "for new starters", "at the warehouse", "for one user",
]  # fmt: skip
COMMENTS = [
    "Called the user, reproduced the issue.", "Asked the user for a screenshot.", "Checked the logs on the server.",
    "Restarted the service; watching it.", "Escalated to the vendor.", "User confirms it happens daily.",
    "Applied the workaround from the knowledge base.", "Waiting for the change window.",
    "Any news on this? It is blocking my work.", "Thanks, that helped.",
]  # fmt: skip

# Incident history categories -> (state, transition that led there).
INCIDENT_STEPS = {
    "new": ("new", "create"),
    "active": ("in_progress", "start"),
    "pending_customer": ("on_hold", "hold"),
    "resolved": ("resolved", "resolve"),
    "closed": ("closed", "close"),
}


def _sql_pick(words: list[str], expression: str) -> str:
    quoted = ", ".join("'" + w.replace("'", "''") + "'" for w in words)
    return f"(ARRAY[{quoted}])[1 + ({expression}) %% {len(words)}]"  # %% : inside a query with parameters


# --- the data set marker ------------------------------------------------------------------------------------


def present(cursor) -> dict | None:
    cursor.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT figures FROM bench_seed")
    row = cursor.fetchone()
    if not row:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def seed(incidents: int, *, reload: bool = False, rng_seed: int = 8, log=print) -> dict:
    """Load the data set unless one of this size is there; returns its figures (counts, seconds, reference)."""
    from django.db import connection

    settings = connection.settings_dict
    name = settings["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        raise SystemExit(f"seed_bench wipes its database: it runs only on PostgreSQL, in a database named *bench* "
                         f"(this is {connection.vendor} {name!r})")  # fmt: skip
    sla_sweep.ensure_database(
        f"postgres://{settings['USER']}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{name}"
    )
    with connection.cursor() as cursor:
        found = present(cursor)
    if found and found.get("incidents") == incidents and not reload:
        log(f"Reusing the loaded data set in {name}: {found['tickets']:,} tickets ({incidents:,} incidents), "
            f"loaded in {found['seconds']} s on {found['loaded_at']}")  # fmt: skip
        return found | {"reused": True}
    return _load(incidents, rng_seed, log)


def _load(incidents: int, rng_seed: int, log) -> dict:
    from django.core.management import call_command
    from django.db import connection

    began = time.perf_counter()
    steps = {}
    rng = random.Random(rng_seed)
    reference = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    log(f"Loading {incidents:,} incidents into {connection.settings_dict['NAME']} (reference {reference:%H:00} UTC)")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    call_command("migrate", "--noinput", verbosity=0)
    steps["migrate"] = _lap(began, log, "schema migrated")

    t = time.perf_counter()
    people = _people(rng)
    steps["people"] = _lap(t, log, f"{USERS:,} users, {TEAMS} teams, {SERVICES} services, {CIS:,} CIs, SLA setup")

    t = time.perf_counter()
    from slas.models import SLADefinition

    definitions = list(SLADefinition.objects.select_related("schedule").filter(name__startswith="Bench "))
    quiet, _ = sla_sweep.make_templates(
        definitions, rng, reference=reference, backlog=0, stories=STORIES, per_kind=TEMPLATES_PER_KIND
    )
    steps["templates"] = _lap(t, log, f"{sum(map(len, quiet.values())):,} incident histories played through the engine")

    counts = {}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers while loading
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SET work_mem = '64MB'")
        indexes = _drop_indexes(cursor, BIG_TABLES)
        t = time.perf_counter()
        counts |= _incidents(cursor, incidents, quiet, definitions, reference, rng)
        steps["incidents"] = _lap(t, log, f"{incidents:,} incidents, {counts['clocks']:,} clocks, "
                                  f"{counts['incident_journal']:,} journal entries")  # fmt: skip
        t = time.perf_counter()
        counts |= _practices(cursor, incidents, reference, people, rng)
        named = [*SHARES, "request", "requested_item", "task"]
        steps["practices"] = _lap(t, log, ", ".join(f"{counts[k]:,} {k}s" for k in named if k in counts))
        t = time.perf_counter()
        for statement in indexes:
            cursor.execute(statement)
        steps["indexes"] = _lap(t, log, f"{len(indexes)} indexes built")
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("itsm_ticket", "itsm_journalentry", "slas_slaclock", "slas_slamilestone"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        t = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now: visibility map, hint bits, statistics
        steps["vacuum"] = _lap(t, log, "vacuumed and analyzed")
        cursor.execute("SELECT COUNT(*) FROM itsm_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM itsm_journalentry")
        journal = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
        figures = {
            "incidents": incidents,
            "tickets": tickets,
            "journal_entries": journal,
            "journal_per_ticket": round(journal / tickets, 2),
            **counts,
            "users": USERS,
            "teams": TEAMS,
            "configuration_items": CIS,
            "reference": reference.isoformat(),
            "database_bytes": size,
            "steps_seconds": steps,
            "seconds": round(time.perf_counter() - began, 1),
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        cursor.execute("CREATE TABLE bench_seed (figures jsonb)")
        cursor.execute("INSERT INTO bench_seed VALUES (%s)", [json.dumps(figures)])
    log(f"Loaded {tickets:,} tickets, {journal:,} journal entries in {figures['seconds']} s "
        f"({size / 2**30:.1f} GiB)")  # fmt: skip
    return figures | {"reused": False}


def _lap(began: float, log, what: str) -> float:
    seconds = round(time.perf_counter() - began, 1)
    log(f"  {what}: {seconds} s")
    return seconds


BIG_TABLES = ["itsm_ticket", "incidents_incident", "itsm_journalentry", "slas_slaclock", "slas_slamilestone"]


def _drop_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the secondary indexes of these tables (not those behind a constraint); returns how to rebuild them."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [tables],
    )
    rows = cursor.fetchall()
    for name, _ in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


# --- people, catalog and SLA setup (ORM, small) ---------------------------------------------------------------


def _people(rng: random.Random) -> dict:
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from catalog.models import CIType, ConfigurationItem, Service
    from itsm.enums import Role

    with transaction.atomic():
        admin = User.objects.create_superuser("bench-admin", "bench-admin@example.com", None)
        sla_sweep.create_sla_setup(admin)
        agents, callers, teams = sla_sweep.create_people(TEAMS, AGENTS_PER_TEAM, USERS - TEAMS * AGENTS_PER_TEAM)
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        through = User.groups.through
        through.objects.bulk_create(
            [through(user=u, group=groups[Role.AGENT]) for u in agents]
            + [through(user=agents[t * AGENTS_PER_TEAM], group=groups[Role.TEAM_MANAGER]) for t in range(TEAMS)]
            + [through(user=u, group=groups[Role.END_USER]) for u in callers]
        )
        services = Service.objects.bulk_create(
            Service(name=f"Bench service {s}", owner_team=teams[s % TEAMS], criticality=1 + s % 4)
            for s in range(SERVICES)
        )
        types = list(CIType.values)
        ConfigurationItem.objects.bulk_create(
            ConfigurationItem(
                name=f"bench-ci-{c:04d}",
                ci_type=types[c % len(types)],
                owner_team=teams[c % TEAMS],
                service=services[c % SERVICES],
            )
            for c in range(CIS)
        )
        item, version = _catalog_item(admin, services[0], teams[0])
    return {
        "teams": [t.pk for t in teams],
        "agents": [a.pk for a in agents],
        "callers": [c.pk for c in callers],
        "catalog_item": (item.pk, version.pk, item.name),
    }


def _catalog_item(admin, service, team):
    """The catalog item the bench's requests order (no approval policy, no questions), published as the admin
    would."""
    from catalog.models import CatalogCategory, CatalogItem
    from catalog.services import catalog_item_publish

    category = CatalogCategory.objects.create(name="Bench hardware", slug="bench-hardware")
    item = CatalogItem.objects.create(
        name="Bench laptop",
        category=category,
        service=service,
        short_description="A standard laptop",
        fulfilment_group=team,
    )
    return item, catalog_item_publish(item=item, by=admin)


# --- incidents: templates played through the SLA engine, copied in bulk on the server --------------------------


def _incidents(cursor, incidents: int, quiet: dict, definitions, reference: datetime, rng: random.Random) -> dict:
    from incidents.models import CloseCode, HoldReason, Incident
    from itsm.models import JournalEntry, Ticket

    kinds = [(story, priority) for story in STORIES for priority in sla_sweep.PRIORITY_WEIGHTS]
    weights = [STORIES[s] * sla_sweep.PRIORITY_WEIGHTS[p] for s, p in kinds]
    plan = [(count, quiet[kind]) for kind, count in zip(kinds, sla_sweep._split(incidents, weights), strict=True)]
    def_ids = {(d.match_priorities[0], d.target): (d.pk, d.schedule_id) for d in definitions}
    sla_sweep._write_templates(cursor, plan, def_ids)
    close_code = CloseCode.objects.order_by("order", "id").first()
    hold_reason = HoldReason.objects.filter(category="pending_customer").order_by("order", "id").first()
    _write_journal_templates(cursor, plan, close_code.name, reference, rng)
    ticket_base, n_people, n_callers = sla_sweep.map_tickets(cursor)
    cursor.execute("SELECT id, service_id FROM catalog_configurationitem ORDER BY id")
    cis = cursor.fetchall()
    joined = (
        " FROM bench_map m JOIN bench_tpl_ticket t USING (kind, slot)"
        " JOIN bench_people p ON p.idx = m.g %% %(people)s JOIN bench_callers c ON c.idx = m.g %% %(callers)s"
    )
    params = {
        "base": ticket_base,
        "people": n_people,
        "callers": n_callers,
        "ci0": cis[0][0],
        "cis": len(cis),
        "ci_service0": cis[0][1],
        "services": SERVICES,
        "close_code": close_code.pk,
        "hold_reason": hold_reason.pk,
    }
    insert_select(
        cursor,
        Ticket,
        {
            "id": "%(base)s + m.g",
            "number": "'INC' || lpad((1000 + m.g)::text, 7, '0')",
            "kind": "'incident'",
            "short_description": " || ' ' || ".join(
                [_sql_pick(SUBJECTS, "m.g"), _sql_pick(PROBLEMS, "m.g / 7"), _sql_pick(PLACES, "m.g / 101")]
            ),
            "description": "'Reported through the portal. ' || " + _sql_pick(COMMENTS, "m.g / 13"),
            "caller_id": "c.id",
            "opened_by_id": "c.id",
            "assignment_group_id": "p.team_id",
            "assigned_to_id": "CASE WHEN t.assigned THEN p.user_id END",
            "service_id": "%(ci_service0)s + (m.g %% %(cis)s) %% %(services)s",
            "configuration_item_id": "%(ci0)s + m.g %% %(cis)s",
            **{column: f"t.{column}" for column in ("impact", "urgency", "priority", "active", "opened_at")},
            **{column: f"t.{column}" for column in ("resolved_at", "closed_at")},
            "state_category": "t.category",
            "updated_at": "GREATEST(t.opened_at, t.resolved_at, t.closed_at)",
        },
        joined,
        params,
    )
    insert_select(
        cursor,
        Incident,
        {
            "ticket_ptr_id": "%(base)s + m.g",
            "state": "t.state",
            "close_notes": "CASE WHEN t.resolved_at IS NOT NULL THEN 'Fixed.' ELSE '' END",
            "close_code_id": "CASE WHEN t.resolved_at IS NOT NULL THEN %(close_code)s END",
            "hold_reason_id": "CASE WHEN t.state = 'on_hold' THEN %(hold_reason)s END",
        },
        " FROM bench_map m JOIN bench_tpl_ticket t USING (kind, slot)",
        params,
    )
    clocks = sla_sweep.insert_clocks(cursor, ticket_base, log=lambda *_: None)
    journal = insert_select(
        cursor,
        JournalEntry,
        {
            "ticket_id": "%(base)s + m.g",
            "kind": "j.kind_j",
            "actor_id": "CASE j.actor WHEN 1 THEN c.id WHEN 2 THEN p.user_id END",
            "created_at": "j.at",
            "body": "j.body",
            **{column: f"j.{column}" for column in ("transition", "from_state", "to_state")},
            "state_category": "j.category",
        },
        " FROM bench_map m JOIN bench_tpl_journal j USING (kind, slot)"
        " JOIN bench_people p ON p.idx = m.g %% %(people)s JOIN bench_callers c ON c.idx = m.g %% %(callers)s",
        params,
    )
    cursor.execute(
        "INSERT INTO itsm_numbersequence (prefix, last_value) VALUES ('INC', %s)"
        " ON CONFLICT (prefix) DO UPDATE SET last_value = EXCLUDED.last_value",
        [1000 + incidents],
    )
    cursor.execute(
        "DROP TABLE bench_map, bench_callers, bench_people, bench_tpl_ticket, bench_tpl_clock, bench_tpl_milestone,"
        " bench_tpl_journal"
    )
    return {"clocks": clocks, "incident_journal": journal}


def _write_journal_templates(cursor, plan, close_code_name: str, reference: datetime, rng: random.Random) -> None:
    """bench_tpl_journal: each template's journal (its transitions, then comments to about five entries)."""
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_tpl_journal (kind int, slot int, kind_j text, actor int, at timestamptz,"
        " body text, transition text, from_state text, to_state text, category text)"
    )
    rows = []
    for kind, (_, templates) in enumerate(plan):
        for slot, t in enumerate(templates):
            entries = []
            state = ""
            for at, category, _assigned in t.events:
                to_state, name = INCIDENT_STEPS[category]
                body = f"{close_code_name}: Fixed." if name == "resolve" else ""
                entries.append(("transition", 1 if name == "create" else 2, at, body, name, state, to_state, category))
                if name == "hold":
                    entries.append(("comment", 2, at, "Waiting for the caller's reply.", "", "", "", ""))
                state = to_state
            end = t.closed_at or t.resolved_at or int(reference.timestamp())
            for _ in range(max(0, JOURNAL_PER_TICKET - len(entries) + rng.choice((-1, 0, 0, 1)))):
                at = rng.randrange(t.opened_at + 1, max(t.opened_at + 2, end))
                agent = t.assigned and rng.random() < 0.7
                entries.append(
                    ("work_note" if agent and rng.random() < 0.4 else "comment", 2 if agent else 1, at,
                     rng.choice(COMMENTS), "", "", "", "")
                )  # fmt: skip
            rows += [(kind, slot, k, a, sla_sweep._dt(at), *rest) for k, a, at, *rest in entries]
    _copy(cursor, "bench_tpl_journal", None, rows)


# --- problems, problem tasks, changes, change tasks: generated here, loaded by COPY ------------------------------

# Each practice's path: (transition, state) from creation; a ticket stops somewhere along it or is canceled.
PATHS = {
    "problem": [
        ("create", "new"), ("assess", "assess"), ("analyze", "root_cause_analysis"), ("fix", "fix_in_progress"),
        ("resolve", "resolved"), ("close", "closed"),
    ],
    "problem_task": [("create", "new"), ("assess", "assess"), ("start", "work_in_progress"), ("close", "closed")],
    "change": [
        ("create", "new"), ("assess", "assess"), ("request_approval", "authorize"), ("schedule", "scheduled"),
        ("implement", "implement"), ("review", "review"), ("close", "closed"),
    ],
    "change_task": [("create", "new"), ("assess", "assess"), ("start", "work_in_progress"), ("close", "closed")],
}  # fmt: skip


def _practice_models() -> dict:
    from django.apps import apps

    found = {}
    for key, label in {
        "problem": "problems.Problem",
        "problem_task": "problems.ProblemTask",
        "change": "changes.Change",
        "change_task": "changes.ChangeTask",
    }.items():
        try:
            found[key] = apps.get_model(label)
        except LookupError:
            continue  # a practice not in this tree yet
    return found


def _practices(cursor, incidents: int, reference: datetime, people: dict, rng: random.Random) -> dict:
    from itsm.enums import INACTIVE_CATEGORIES, NUMBER_PREFIXES, StateCategory
    from itsm.models import JournalEntry, NumberSequence, Ticket

    models = _practice_models()
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM itsm_ticket")
    next_id = cursor.fetchone()[0] + 1
    cursor.execute("SELECT id FROM catalog_configurationitem ORDER BY id")
    cis = [row[0] for row in cursor.fetchall()]
    numbers: dict[str, int] = {}
    counts: dict[str, int] = {}
    parents: dict[str, list[int]] = {}
    tickets, children, journal = [], {key: [] for key in models}, []
    agents, teams = people["agents"], people["teams"]
    for key, model in models.items():
        path = PATHS[key]
        count = max(1, int(incidents * SHARES[key]))
        counts[key] = count
        prefix = NUMBER_PREFIXES[model.KIND]
        for _ in range(count):
            numbers[prefix] = numbers.get(prefix, 1000) + 1
            ticket_id, next_id = next_id, next_id + 1
            team_index = rng.randrange(len(teams))
            agent = agents[team_index * AGENTS_PER_TEAM + rng.randrange(AGENTS_PER_TEAM)]
            caller = agent if key != "problem" else rng.choice(agents)
            # Most reached the end of their path; the others stop on the way, some of them canceled.
            stop = len(path) - 1 if rng.random() < 0.8 else rng.randrange(len(path) - 1)
            canceled = stop < len(path) - 1 and rng.random() < 0.15 and "canceled" in model.STATE_CATEGORIES
            opened = reference - timedelta(seconds=rng.randrange(3600, 150 * 86400))
            steps = path[: stop + 1] + ([("cancel", "canceled")] if canceled else [])
            span = (reference - opened).total_seconds()
            times = sorted(opened + timedelta(seconds=rng.uniform(0, span * 0.9)) for _ in steps[1:])
            times = [opened, *times]
            state = steps[-1][1]
            category = model.STATE_CATEGORIES[state]
            resolved_at = closed_at = None
            row = {"ticket_ptr_id": ticket_id, "state": state}
            for (name, step_state), at in zip(steps, times, strict=True):
                if model.STATE_CATEGORIES[step_state] == StateCategory.RESOLVED and resolved_at is None:
                    resolved_at = at
                if name in ("close", "cancel"):
                    closed_at = at
            row |= _practice_fields(key, steps, times, rng, parents, cis, reference)
            if key == "change" and resolved_at is not None:
                row["actual_end"] = resolved_at
            priority = rng.choice((2, 3, 3, 4, 4))
            tickets.append(
                {
                    "id": ticket_id,
                    "number": f"{prefix}{numbers[prefix]:07d}",
                    "kind": model.KIND,
                    "short_description": f"{rng.choice(SUBJECTS)} {rng.choice(PROBLEMS)} {rng.choice(PLACES)}",
                    "description": rng.choice(COMMENTS),
                    "caller_id": caller,
                    "opened_by_id": caller,
                    "assignment_group_id": teams[team_index],
                    "assigned_to_id": agent if len(steps) > 1 else None,
                    "configuration_item_id": rng.choice(cis) if key.startswith("change") else None,
                    "impact": priority - 1 if priority > 2 else 1,
                    "urgency": 3 if priority == 4 else 2,
                    "priority": priority,
                    "state_category": category,
                    "active": category not in INACTIVE_CATEGORIES,
                    "opened_at": opened,
                    "resolved_at": resolved_at,
                    "closed_at": closed_at,
                    "updated_at": times[-1],
                }
            )
            children[key].append(row)
            parents.setdefault(key, []).append(ticket_id)
            before = ""
            for (name, to_state), at in zip(steps, times, strict=True):
                journal.append(
                    {
                        "ticket_id": ticket_id, "kind": "transition", "actor_id": caller if name == "create" else agent,
                        "created_at": at, "transition": name, "from_state": before, "to_state": to_state,
                        "state_category": model.STATE_CATEGORIES[to_state],
                    }
                )  # fmt: skip
                before = to_state
            end = closed_at or reference
            for _ in range(max(0, JOURNAL_PER_TICKET - len(steps))):
                at = opened + timedelta(seconds=rng.uniform(1, max(2, (end - opened).total_seconds())))
                journal.append(
                    {"ticket_id": ticket_id, "kind": rng.choice(("comment", "work_note")), "actor_id": agent,
                     "created_at": at, "body": rng.choice(COMMENTS)}
                )  # fmt: skip
    request_rows, next_id = _requests(incidents, reference, people, rng, next_id, numbers, tickets, journal, counts)
    _copy(cursor, Ticket._meta.db_table, Ticket, tickets)
    for key, model in models.items():
        _copy(cursor, model._meta.db_table, model, children[key])
    for model, rows in request_rows.items():
        _copy(cursor, model._meta.db_table, model, rows)
    _copy(cursor, JournalEntry._meta.db_table, JournalEntry, journal)
    for prefix, value in numbers.items():
        NumberSequence.objects.update_or_create(prefix=prefix, defaults={"last_value": value})
    counts["practice_journal"] = len(journal)
    return counts


def _requests(incidents, reference, people, rng, next_id, numbers, tickets, journal, counts):
    """Service requests as request_create and the fulfilment services would have left them: each REQ orders one or
    two items; an item is approved (no policy) and fulfilled through its tasks, or waits for approval, is rejected
    or canceled; a REQ is closed once every item is delivered or ended (canceled when none was delivered). Appends
    the tickets and journal entries; returns the child rows per model and the next ticket id."""
    from itsm.enums import INACTIVE_CATEGORIES
    from requests_app.models import FulfilmentTask, Request, RequestedItem

    item_id, version_id, item_name = people["catalog_item"]
    agents, teams, callers = people["agents"], people["teams"], people["callers"]
    ritm_categories, task_categories = RequestedItem.STATE_CATEGORIES, FulfilmentTask.STATE_CATEGORIES
    stories = list(RITM_STORIES.items())
    story_weights = [share for _, (share, _) in stories]
    rows = {Request: [], RequestedItem: [], FulfilmentTask: []}
    count = max(1, int(incidents * REQUESTS_PER_INCIDENT))

    def number(prefix: str) -> str:
        numbers[prefix] = numbers.get(prefix, 1000) + 1
        return f"{prefix}{numbers[prefix]:07d}"

    def ticket(ticket_id, kind, prefix, title, caller, team, agent, category, opened, resolved, closed, updated):
        tickets.append(
            {
                "id": ticket_id, "number": number(prefix), "kind": kind, "short_description": title,
                "description": "A standard laptop", "caller_id": caller, "opened_by_id": caller,
                "assignment_group_id": team, "assigned_to_id": agent, "impact": 3, "urgency": 3, "priority": 4,
                "state_category": category, "active": category not in INACTIVE_CATEGORIES, "opened_at": opened,
                "resolved_at": resolved, "closed_at": closed, "updated_at": updated,
            }
        )  # fmt: skip

    def entries(ticket_id, steps, targets, categories, caller, agent, opened, end):
        before = ""
        for name, at in steps:
            journal.append(
                {
                    "ticket_id": ticket_id, "kind": "transition", "actor_id": caller if name == "create" else agent,
                    "created_at": at, "transition": name, "from_state": before, "to_state": targets[name],
                    "state_category": categories[targets[name]],
                }
            )  # fmt: skip
            before = targets[name]
        # Comments at uniform instants after the opening, by the caller or the agent (random() is cheaper than
        # choice(): a million incidents bring 1.5 million of these).
        span = max(2, (end - opened).total_seconds()) - 1
        for _ in range(max(0, JOURNAL_PER_TICKET - len(steps))):
            random_value = rng.random
            journal.append(
                {"ticket_id": ticket_id, "kind": "comment",
                 "actor_id": caller if agent is None or random_value() < 0.5 else agent,
                 "created_at": opened + timedelta(seconds=1 + random_value() * span),
                 "body": COMMENTS[int(random_value() * len(COMMENTS))]}
            )  # fmt: skip

    for _ in range(count):
        request_id, next_id = next_id, next_id + 1
        caller = rng.choice(callers)
        opened = reference - timedelta(seconds=rng.randrange(3600, 150 * 86400))
        span = (reference - opened).total_seconds()
        lines = 2 if rng.random() < 0.2 else 1
        ends = []  # (state, the instant it ended or was delivered) of each item
        for _line in range(lines):
            ritm_id, next_id = next_id, next_id + 1
            team_index = rng.randrange(len(teams))
            team = teams[team_index]
            agent = agents[team_index * AGENTS_PER_TEAM + rng.randrange(AGENTS_PER_TEAM)]
            _story, (_, names) = rng.choices(stories, story_weights)[0]
            # Creation, approval and the start of fulfilment happen in the same second, as request_create does.
            later = sorted(opened + timedelta(seconds=rng.uniform(60, span * 0.9)) for _ in range(2))
            times = [opened, opened, opened, *later]
            if names[1] == "request_approval":
                times = [opened, opened, *times[3:]]
            steps = list(zip(names, times, strict=False))
            reached = dict(steps)
            state = RITM_TARGETS[names[-1]]
            category = ritm_categories[state]
            resolved = reached.get("fulfil")
            closed = next((reached[n] for n in ("close", "reject", "cancel") if n in reached), None)
            ritm_end = closed or resolved or reference
            ends.append((state, resolved or closed))
            ticket(ritm_id, RequestedItem.KIND, "RITM", item_name, caller, team, None, category, opened, resolved,
                   closed, steps[-1][1])  # fmt: skip
            rows[RequestedItem].append(
                {
                    "ticket_ptr_id": ritm_id, "state": state, "request_id": request_id, "catalog_item_id": item_id,
                    "item_version_id": version_id, "quantity": 1, "variables": {}, "variable_display": {},
                    "rejection_reason": "Not in this year's budget." if state == "rejected" else "",
                    "close_code": "fulfilled" if resolved else "",
                }
            )  # fmt: skip
            entries(ritm_id, steps, RITM_TARGETS, ritm_categories, caller, None, opened, ritm_end)
            if "start_fulfilment" not in reached:
                continue
            # One or two tasks, one after the other; all closed complete once the item was fulfilled, else the
            # last one open or in progress.
            tasks = 2 if rng.random() < 0.4 else 1
            begin, finish = reached["start_fulfilment"], resolved or reference
            cuts = sorted(begin + timedelta(seconds=rng.uniform(1, max(2, (finish - begin).total_seconds())))
                          for _ in range(2 * tasks - 1))  # fmt: skip
            task_start = begin
            for position in range(1, tasks + 1):
                task_id, next_id = next_id, next_id + 1
                last = position == tasks
                if resolved:
                    started, done = cuts[2 * position - 2], resolved if last else cuts[2 * position - 1]
                    task_steps = [("create", task_start), ("start", started), ("close_complete", done)]
                elif last:
                    started = cuts[-1]
                    task_steps = [("create", task_start)] + ([("start", started)] if rng.random() < 0.6 else [])
                else:
                    started, done = cuts[2 * position - 2], cuts[2 * position - 1]
                    task_steps = [("create", task_start), ("start", started), ("close_complete", done)]
                targets = {"create": "open", "start": "work_in_progress", "close_complete": "closed_complete"}
                task_state = targets[task_steps[-1][0]]
                worker = agent if len(task_steps) > 1 else None
                task_closed = task_steps[-1][1] if task_state == "closed_complete" else None
                ticket(task_id, FulfilmentTask.KIND, "TASK", f"Fulfil: {item_name}", caller, team, worker,
                       task_categories[task_state], task_start, None, task_closed, task_steps[-1][1])  # fmt: skip
                rows[FulfilmentTask].append(
                    {"ticket_ptr_id": task_id, "state": task_state, "requested_item_id": ritm_id,
                     "position": position, "close_notes": "Done." if task_closed else ""}
                )  # fmt: skip
                entries(task_id, task_steps, targets, task_categories, caller, agent, task_start,
                        task_closed or reference)  # fmt: skip
                task_start = task_steps[-1][1]
        # The REQ closes when its last item is delivered or ended; canceled when none was delivered.
        settled = all(state not in ("submitted", "awaiting_approval", "approved", "in_fulfilment") for state, _ in ends)
        delivered = any(state in ("fulfilled", "closed") for state, _ in ends)
        request_steps = [("create", opened)]
        if settled:
            request_steps.append(("close" if delivered else "cancel", max(at for _, at in ends)))
        targets = {"create": "open", "close": "closed", "cancel": "canceled"}
        request_state = targets[request_steps[-1][0]]
        category = Request.STATE_CATEGORIES[request_state]
        closed = request_steps[-1][1] if settled else None
        title = item_name if lines == 1 else f"{item_name} and {lines - 1} more"
        ticket(request_id, Request.KIND, "REQ", title, caller, None, None, category, opened, None, closed,
               request_steps[-1][1])  # fmt: skip
        rows[Request].append({"ticket_ptr_id": request_id, "state": request_state})
        entries(request_id, request_steps, targets, Request.STATE_CATEGORIES, caller, None, opened, closed or reference)
    counts |= {"request": count, "requested_item": len(rows[RequestedItem]), "task": len(rows[FulfilmentTask])}
    return rows, next_id


def _practice_fields(key: str, steps, times, rng: random.Random, parents: dict, cis: list[int], reference) -> dict:
    """The practice's own columns, as its transitions would have set them."""
    reached = {name: at for (name, _), at in zip(steps, times, strict=True)}
    if key == "problem":
        return {
            "cause_notes": "The root cause was found in the logs." if "fix" in reached else "",
            "resolution_code": "fix_applied" if "resolve" in reached else "",
            "fix_notes": "Patched and verified." if "resolve" in reached else "",
            "close_notes": "Closed after review." if "close" in reached else "",
        }
    if key in ("problem_task", "change_task"):
        parent = "problem" if key == "problem_task" else "change"
        row = {f"{parent}_id": rng.choice(parents[parent]) if parents.get(parent) else None}
        row["close_notes"] = "Done." if "close" in reached or "cancel" in reached else ""
        return row
    # A normal change.
    planned_start = reached.get("schedule", reference) + timedelta(days=rng.randrange(1, 10))
    if "implement" in reached:
        planned_start = reached["implement"]
    row = {
        "change_type": "normal",
        "risk": rng.choice(("low", "moderate", "moderate", "high")),
        "justification": "Needed to keep the service supported.",
        "implementation_plan": "1. Announce. 2. Apply. 3. Verify.",
        "backout_plan": "Restore the snapshot taken before.",
        "test_plan": "Smoke test of the service.",
        "approval": "approved" if "schedule" in reached else "requested" if "request_approval" in reached else
        "not_requested",
        "planned_start": planned_start if "schedule" in reached else None,
        "planned_end": planned_start + timedelta(hours=4) if "schedule" in reached else None,
        "actual_start": reached.get("implement"),
    }  # fmt: skip
    if "review" in reached:
        row |= {"close_code": "successful", "close_notes": "Implemented as planned."}
    if "close" in reached:
        row["review_notes"] = "No issues found in the review."
    return row


def _copy_value(value) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str and "\\" not in value and "\t" not in value and "\n" not in value and "\r" not in value:
        return value
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy(cursor, table: str, model, rows: list) -> None:
    """COPY rows into a table: dicts by the model's own columns (defaults for the rest), or plain tuples."""
    if not rows:
        return
    buffer = io.StringIO()
    if model is None:
        columns = ""
        for row in rows:
            buffer.write("\t".join(map(_copy_value, row)) + "\n")
    else:
        from django.db import connection

        present = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        fields = [
            f
            for f in model._meta.local_concrete_fields
            if not (f.primary_key and f.attname not in rows[0]) and f.column in present
        ]
        # Each default written once (most journal rows set five of their twelve columns); ints and plain strings
        # skip the conversions (a million incidents bring 1.5 million of these rows).
        defaults = {f.attname: _copy_value(f.get_default()) for f in fields}
        names = [f.attname for f in fields]
        columns = "(" + ", ".join(f'"{f.column}"' for f in fields) + ")"
        for row in rows:
            buffer.write("\t".join(_copy_value(row[n]) if n in row else defaults[n] for n in names) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} {columns} FROM STDIN", buffer)


# --- validity -------------------------------------------------------------------------------------------------


def check(sample: int = 300, log=print) -> list[str]:
    """What is wrong with the loaded data set (empty when valid): states against categories, the active flag and
    timestamps, the journal's last transition against the state, numbering, and for `sample` incidents the clocks
    against a replay of their journal by the SLA engine (slas.replay)."""
    from django.db import connection

    from incidents.models import Incident
    from slas.replay import live_states, replay_ticket

    with connection.cursor() as cursor:
        figures = present(cursor)
        if not figures:
            return ["no bench data set"]
        wrong = []
        incident_categories = (
            "('new','new'),('in_progress','active'),('on_hold','pending_customer'),"
            "('on_hold','pending_third_party'),('resolved','resolved'),('closed','closed'),('canceled','cancelled')"
        )
        checks = {
            "active flag against the state category": "SELECT COUNT(*) FROM itsm_ticket"
            " WHERE active = (state_category IN ('closed', 'cancelled'))",
            "incident state against its category": "SELECT COUNT(*) FROM incidents_incident i JOIN itsm_ticket t"
            f" ON t.id = i.ticket_ptr_id WHERE (i.state, t.state_category) NOT IN ({incident_categories})",
            "incident resolved_at against its state": "SELECT COUNT(*) FROM incidents_incident i JOIN itsm_ticket t"
            " ON t.id = i.ticket_ptr_id WHERE (t.resolved_at IS NOT NULL) <> (i.state IN ('resolved', 'closed'))",
            "closed_at against the category": "SELECT COUNT(*) FROM itsm_ticket"
            " WHERE (closed_at IS NOT NULL) <> (state_category IN ('closed', 'cancelled'))",
            "times in order": "SELECT COUNT(*) FROM itsm_ticket WHERE resolved_at < opened_at OR closed_at < opened_at"
            " OR closed_at < resolved_at OR updated_at < opened_at",
            "last transition against the category": "SELECT COUNT(*) FROM itsm_ticket t JOIN LATERAL ("
            " SELECT state_category FROM itsm_journalentry j WHERE j.ticket_id = t.id AND j.kind = 'transition'"
            " ORDER BY created_at DESC, id DESC LIMIT 1) last ON true WHERE last.state_category <> t.state_category",
            "tickets without a creation entry": "SELECT COUNT(*) FROM itsm_ticket t WHERE NOT EXISTS (SELECT 1"
            " FROM itsm_journalentry j WHERE j.ticket_id = t.id AND j.transition = 'create')",
            "numbers past their sequence": "SELECT COUNT(*) FROM itsm_ticket t JOIN itsm_numbersequence s"
            " ON t.number LIKE s.prefix || '%%' AND substr(t.number, length(s.prefix) + 1) ~ '^[0-9]+$'"
            " WHERE substr(t.number, length(s.prefix) + 1)::bigint > s.last_value",
            "closed or resolved incidents with running clocks": "SELECT COUNT(*) FROM slas_slaclock c"
            " JOIN itsm_ticket t ON t.id = c.ticket_id WHERE t.state_category IN ('resolved', 'closed', 'cancelled')"
            " AND c.stage IN ('in_progress', 'paused')",
            "requests open against their items": "SELECT COUNT(*) FROM requests_app_request r WHERE (r.state = 'open')"
            " <> EXISTS (SELECT 1 FROM requests_app_requesteditem i WHERE i.request_id = r.ticket_ptr_id"
            " AND i.state IN ('submitted', 'awaiting_approval', 'approved', 'in_fulfilment'))",
            "open fulfilment tasks of items not in fulfilment": "SELECT COUNT(*) FROM requests_app_fulfilmenttask f"
            " JOIN requests_app_requesteditem i ON i.ticket_ptr_id = f.requested_item_id"
            " WHERE f.state IN ('open', 'work_in_progress') AND i.state <> 'in_fulfilment'",
            "items in fulfilment without an open task": "SELECT COUNT(*) FROM requests_app_requesteditem i"
            " WHERE i.state = 'in_fulfilment' AND NOT EXISTS (SELECT 1 FROM requests_app_fulfilmenttask f"
            " WHERE f.requested_item_id = i.ticket_ptr_id AND f.state IN ('open', 'work_in_progress'))",
        }
        for what, sql in checks.items():
            cursor.execute(sql)
            count = cursor.fetchone()[0]
            log(f"  {what}: {count} wrong")
            if count:
                wrong.append(f"{what}: {count}")
    reference = datetime.fromisoformat(figures["reference"])
    differing = 0
    incidents = Incident.objects.order_by("?")[:sample]
    for incident in incidents:
        replayed = sorted(r.state.comparable() for r in replay_ticket(ticket=incident, until=reference))
        live = sorted(state.comparable() for state in live_states(ticket=incident, until=reference))
        if replayed != live:
            differing += 1
            if differing <= 3:
                log(f"  {incident.number}: clocks {live} but the replay gives {replayed}")
    log(f"  clocks against a replay of the journal: {differing} of {sample} incidents differ")
    if differing:
        wrong.append(f"clocks differing from the replay: {differing} of {sample}")
    return wrong
