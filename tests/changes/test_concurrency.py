"""Approvers deciding at the same instant, on real PostgreSQL with one connection per thread: whatever the order,
the change ends in exactly one consistent state (scheduled once, or back to New once), and no approval is left
waiting."""

import threading
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_fsm import TransitionNotAllowed

from changes import services
from changes.enums import ChangeState as S
from changes.models import Change, ChangeConflict
from itsm.models import Approval, JournalEntry
from itsm.services import approval_approve, approval_reject
from tests.factories import (
    AgentFactory,
    ConfigurationItemFactory,
    approval_policy_factory,
    change_factory,
    planned_window,
)

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

ROUNDS = 4


def _race(*calls):
    """Run each call in its own thread (its own connection), released together; return what each returned/raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the loser's refusal is part of the outcome
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _in_authorize(agent, cab):
    change = change_factory(by=agent)
    services.change_assess(change=change, by=agent)
    services.change_request_approval(change=change, by=agent)
    return change, {a.approver_id: a for a in Approval.objects.filter(ticket=change)}


def _transitions(change) -> list[str]:
    return list(
        JournalEntry.objects.filter(ticket=change, kind="transition")
        .order_by("id")
        .values_list("transition", flat=True)
    )


@pytest.fixture
def cab(postgres, db):
    return [AgentFactory(username=f"cab{i}") for i in (1, 2, 3)]


def test_two_approvals_at_once_meet_two_of_three_exactly_once(agent, cab):
    approval_policy_factory(approvers=cab, rule="n_of_m", required=2, name="CAB", ticket_type="normal")
    for _round in range(ROUNDS):
        change, approvals = _in_authorize(agent, cab)
        first, second = approvals[cab[0].pk], approvals[cab[1].pk]
        results = _race(
            partial(approval_approve, approval=first, by=cab[0], comment="ok"),
            partial(approval_approve, approval=second, by=cab[1], comment="ok"),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        change = Change.objects.get(pk=change.pk)
        assert change.state == S.SCHEDULED and change.approval == "approved"
        assert _transitions(change) == ["create", "assess", "request_approval", "schedule"]
        states = sorted(Approval.objects.filter(ticket=change).values_list("state", flat=True))
        assert states == ["approved", "approved", "skipped"]


def test_approve_and_reject_at_once_end_back_in_new_once(agent, cab):
    approval_policy_factory(approvers=cab, rule="n_of_m", required=2, name="CAB", ticket_type="normal")
    for _round in range(ROUNDS):
        change, approvals = _in_authorize(agent, cab)
        results = _race(
            partial(approval_approve, approval=approvals[cab[0].pk], by=cab[0], comment="ok"),
            partial(approval_reject, approval=approvals[cab[1].pk], by=cab[1], comment="Too risky"),
        )
        change = Change.objects.get(pk=change.pk)
        assert change.state == S.NEW and change.approval == "rejected"
        assert _transitions(change).count("revert_to_new") == 1 and "schedule" not in _transitions(change)
        states = dict(Approval.objects.filter(ticket=change).values_list("approver_id", "state"))
        assert states[cab[1].pk] == "rejected" and "requested" not in states.values()
        # The approval either counted before the rejection, or came after it and was refused (its approval withdrawn).
        if isinstance(results[0], Exception):
            assert isinstance(results[0], TransitionNotAllowed) and states[cab[0].pk] == "withdrawn"
        else:
            assert states[cab[0].pk] == "approved"
        assert not isinstance(results[1], Exception), results


def test_any_of_two_approving_at_once_schedules_once_and_refuses_the_late_one(agent, cab):
    approval_policy_factory(approvers=cab[:2], rule="any", name="Any manager", ticket_type="normal")
    for _round in range(ROUNDS):
        change, approvals = _in_authorize(agent, cab)
        results = _race(
            partial(approval_approve, approval=approvals[cab[0].pk], by=cab[0]),
            partial(approval_approve, approval=approvals[cab[1].pk], by=cab[1]),
        )
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], TransitionNotAllowed | ValidationError), results
        change = Change.objects.get(pk=change.pk)
        assert change.state == S.SCHEDULED and _transitions(change).count("schedule") == 1
        assert sorted(Approval.objects.filter(ticket=change).values_list("state", flat=True)) == ["approved", "skipped"]


def test_conflicts_recomputed_at_once_are_stored_once(agent):
    """Two plan edits of changes on the same CI, committed at once, each recompute both changes' conflicts: the
    stored conflicts end up once each (no duplicate rows from two delete-and-insert passes crossing)."""
    ci = ConfigurationItemFactory(name="mail-01")
    for _round in range(ROUNDS):
        window = planned_window()
        first = change_factory(by=agent, affected_cis=[ci], **window)
        second = change_factory(by=agent, affected_cis=[ci], **window)
        third = change_factory(by=agent, affected_cis=[ci], **window)
        ChangeConflict.objects.all().delete()  # stale: every pass below finds the conflicts missing and writes them
        results = _race(
            *(partial(services.change_conflicts_refresh, change=c) for c in (first, second, third, first, second))
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        for change in (first, second, third):
            rows = list(ChangeConflict.objects.filter(change=change).values_list("kind", "other_change_id"))
            assert len(rows) == len(set(rows)) == 2, rows
        Change.objects.filter(pk__in=[first.pk, second.pk, third.pk]).update(state=S.CANCELED)
