"""Races on real PostgreSQL: conflicting transitions, and numbering under concurrent creation."""

import threading

import pytest
from django.db import connection
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import services
from incidents.models import Incident
from itsm.models import JournalEntry
from tests.conftest import client_for
from tests.factories import close_code, incident_in_state

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

WORKERS = 8


def _race(target, n=WORKERS):
    """Run target(i) in n threads released together; return what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            results[i] = target(i, barrier)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_conflicting_transitions_exactly_one_wins(postgres, agent):
    incident = incident_in_state("in_progress", by=agent)
    code = close_code()

    def attempt(i, barrier):
        mine = Incident.objects.get(pk=incident.pk)  # every racer loads the same In Progress row first
        barrier.wait()
        if i % 2:
            return services.incident_cancel(incident=mine, by=agent, reason=f"racer {i}")
        return services.incident_resolve(incident=mine, by=agent, close_code=code, close_notes=f"racer {i}")

    results = _race(attempt)
    winners = [r for r in results if isinstance(r, Incident)]
    losers = [r for r in results if isinstance(r, ConcurrentTransition)]
    assert len(winners) == 1, results
    assert len(losers) == WORKERS - 1, results
    final = Incident.objects.get(pk=incident.pk)
    assert final.state == winners[0].state
    entries = JournalEntry.objects.filter(ticket=incident, transition__in=["resolve", "cancel"])
    assert entries.count() == 1


def test_conflicting_api_transitions_one_200_rest_409(postgres, agent):
    incident = incident_in_state("in_progress", by=agent)
    url = f"/api/v1/incidents/{incident.number}/resolve/"

    def attempt(i, barrier):
        client = client_for(agent)
        barrier.wait()
        return client.post(url, {"close_code": "solution_provided", "close_notes": f"racer {i}"}, format="json")

    statuses = sorted(r.status_code for r in _race(attempt))
    assert statuses == [200] + [409] * (WORKERS - 1)
    assert JournalEntry.objects.filter(ticket=incident, transition="resolve").count() == 1


def test_numbering_unique_under_concurrent_creation(postgres, agent):
    def attempt(i, barrier):
        barrier.wait()
        return services.incident_create(by=agent, short_description=f"parallel {i}").number

    numbers = _race(attempt)
    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == WORKERS
    values = sorted(int(n[3:]) for n in numbers)
    assert values == list(range(values[0], values[0] + WORKERS))


def test_illegal_after_commit_is_transition_not_allowed(postgres, agent):
    incident = incident_in_state("closed", by=agent)
    with pytest.raises(TransitionNotAllowed):
        services.incident_cancel(incident=Incident.objects.get(pk=incident.pk), by=agent)
