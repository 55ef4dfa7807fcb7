"""Suite 7: concurrency on real PostgreSQL. For every practice, racers on separate connections (threads) load the
same record, wait at a barrier and fire conflicting transitions through the API: exactly one answers 200, every
other one 409, the record ends in the winner's state, the journal and django-fsm-log record exactly one transition,
and the SLA clocks equal a replay of the journal.

Then concurrent edits of other fields: with the ticket `version` (If-Match/ETag) in place, two agents editing the
same version cannot both succeed; without it the test is skipped and says so.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django_fsm_log.models import StateLog

from itsm.enums import JournalKind
from itsm.models import JournalEntry, Ticket
from tests.conftest import client_for
from tests.factories import change_in_state, incident_in_state, problem_in_state, problem_task_in_state
from tests.security.conftest import report
from tests.security.sla_check import assert_clocks_match_journal, sla_definitions_for_every_practice

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

RACERS = 6
ROUNDS = 2  # per practice; each round is a fresh record
_RACED: dict[str, int] = {}


@dataclass(frozen=True)
class Race:
    practice: str
    prefix: str  # API path
    make: Callable  # (by) -> record in the contested state
    moves: tuple[tuple[str, dict], ...]  # conflicting transitions and their bodies


# Each set of moves conflicts: whichever lands first, the state it leads to allows none of them (a racer whose
# request loads the record after the winner committed gets a plain 409, one that loaded it before gets
# ConcurrentTransition's 409). Self-loops such as putting a held incident on hold again are left out: they are
# legal one after the other.
RACES = [
    Race(
        "incident",
        "incidents",
        lambda by: incident_in_state("in_progress", by=by),
        (
            ("resolve", {"close_code": "solution_provided", "close_notes": "Fixed."}),
            ("cancel", {"reason": "Duplicate."}),
        ),
    ),
    Race(
        "problem",
        "problems",
        lambda by: problem_in_state("assess", by=by),
        (
            ("resolve", {"resolution_code": "fix_applied", "cause_notes": "A driver bug.", "fix_notes": "Pinned."}),
            ("cancel", {"reason": "Not a problem."}),
        ),
    ),
    Race(
        "problem task",
        "problem-tasks",
        lambda by: problem_task_in_state("new", by=by),
        (("close", {"close_notes": "Done."}),),
    ),
    Race(
        "change",
        "changes",
        lambda by: change_in_state("scheduled", by=by),
        (("implement", {}), ("revert_to_new", {"reason": "Replan."})),
    ),
    Race(
        "change task",
        "change-tasks",
        lambda by: change_task_in_state(by),
        (("close", {"close_notes": "Done."}), ("cancel", {"reason": "Not needed."})),
    ),
    Race(
        "requested item",
        "requested-items",
        lambda by: requested_item_in_fulfilment(by),
        (("cancel", {"reason": "No longer needed."}),),
    ),
    Race(
        "fulfilment task",
        "fulfilment-tasks",
        lambda by: fulfilment_task_at_work(by),
        (
            ("close_complete", {"close_notes": "Delivered."}),
            ("close_incomplete", {"close_notes": "Out of stock."}),
            ("skip", {"close_notes": "Not needed."}),
        ),
    ),
]


def requested_item_in_fulfilment(by):
    """A requested item being fulfilled (an end user's order, approved by their manager)."""
    from tests.factories import UserFactory
    from tests.factories.requests import ritm_in_state

    return ritm_in_state("in_fulfilment", requester=UserFactory(), manager=UserFactory(), agent=by)


def fulfilment_task_at_work(by):
    """A fulfilment task in Work in Progress, of an order that needs no approval."""
    from requests_app.services import fulfilment_task_start
    from tests.factories import UserFactory
    from tests.factories.requests import laptop_item, order, ritm_of

    item = laptop_item(approval=False, parallel=True, name=f"Laptop {UserFactory().username}")
    task = ritm_of(order(UserFactory(), item)).tasks.order_by("position").first()
    return fulfilment_task_start(task=task, by=by)


def change_task_in_state(by):
    """A new change task on a new change."""
    from changes.services import change_task_create

    return change_task_create(change=change_in_state("new", by=by), by=by, short_description="Swap the disk")


def race(target: Callable[[int, threading.Barrier], object], n: int = RACERS) -> list:
    """Run target(i, barrier) in n threads, each on its own database connection; what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = target(i, barrier)
        except Exception as exc:  # reported to the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


@pytest.mark.parametrize("spec", RACES, ids=[r.practice for r in RACES])
def test_conflicting_transitions_one_wins_rest_409(spec: Race, agent):
    sla_definitions_for_every_practice()
    trials = 0
    for _ in range(ROUNDS):
        record = spec.make(agent)
        ticket = Ticket.objects.get(pk=record.pk)
        before_journal = JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.TRANSITION).count()
        before_log = StateLog.objects.filter(object_id=record.pk).count()
        clients = [client_for(agent) for _ in range(RACERS)]

        def attempt(i: int, barrier: threading.Barrier, record=record, clients=clients):
            name, body = spec.moves[i % len(spec.moves)]
            barrier.wait()
            response = clients[i].post(f"/api/v1/{spec.prefix}/{record.number}/{name}/", body, format="json")
            return name, response.status_code, response.json()

        results = race(attempt)
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors
        statuses = Counter(status for _, status, _ in results)
        assert statuses == Counter({200: 1, 409: RACERS - 1}), results
        (winner,) = [(name, body) for name, status, body in results if status == 200]
        fresh = type(record).objects.get(pk=record.pk)
        assert fresh.state == winner[1]["state"]
        journal = JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.TRANSITION).order_by("id")
        assert journal.count() == before_journal + 1
        assert journal.last().transition == winner[0] and journal.last().to_state == fresh.state
        assert StateLog.objects.filter(object_id=record.pk).count() - before_log in (0, 1)
        assert_clocks_match_journal(ticket)
        trials += 1
    print(f"\nconcurrency: {spec.practice}: {trials} rounds x {RACERS} racers, one winner each, the rest 409")
    _RACED[spec.practice] = trials
    report(
        "7 concurrency",
        f"{sum(_RACED.values())} races of {RACERS} racers over {', '.join(_RACED)}: one winner each, the rest 409",
    )


def test_racing_services_lose_with_concurrent_transition(agent):
    """The same race below the API: the losers' services raise ConcurrentTransition and write nothing."""
    from django_fsm import ConcurrentTransition

    from incidents import services
    from incidents.models import Incident
    from tests.factories import close_code

    sla_definitions_for_every_practice()
    incident = incident_in_state("in_progress", by=agent)
    code = close_code()

    def attempt(i: int, barrier: threading.Barrier):
        mine = Incident.objects.get(pk=incident.pk)
        barrier.wait()
        if i % 2:
            return services.incident_cancel(incident=mine, by=agent, reason=f"racer {i}")
        return services.incident_resolve(incident=mine, by=agent, close_code=code, close_notes=f"racer {i}")

    results = race(attempt)
    assert sum(isinstance(r, Incident) for r in results) == 1, results
    assert sum(isinstance(r, ConcurrentTransition) for r in results) == RACERS - 1, results
    assert JournalEntry.objects.filter(ticket=incident, transition__in=["resolve", "cancel"]).count() == 1
    assert_clocks_match_journal(incident)


def _versioned() -> bool:
    return any(f.name == "version" for f in Ticket._meta.get_fields())


def test_concurrent_field_edits_never_silently_overwrite(agent, other_agent):
    """Two agents PATCH the same version of an incident; with If-Match one of them must be refused (412/409)."""
    incident = incident_in_state("in_progress", by=agent)
    first = client_for(agent).get(f"/api/v1/incidents/{incident.number}/")
    etag = first.headers.get("ETag")
    if not _versioned() or not etag:
        pytest.skip("no ticket `version` with an ETag in the API yet (If-Match/ETag is being added by another change)")
    clients = [client_for(agent), client_for(agent)]
    bodies = [{"short_description": "Edited by A"}, {"description": "Edited by B"}]

    def attempt(i: int, barrier: threading.Barrier):
        barrier.wait()
        response = clients[i].patch(
            f"/api/v1/incidents/{incident.number}/", bodies[i], format="json", HTTP_IF_MATCH=etag
        )
        return response.status_code

    statuses = sorted(race(attempt, n=2))
    assert statuses[0] == 200 and statuses[1] in (409, 412), statuses
    stale = clients[0].patch(
        f"/api/v1/incidents/{incident.number}/", {"short_description": "late"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code in (409, 412)
