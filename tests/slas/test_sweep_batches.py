"""The sweep's batched writes: several tickets per batch, group notifications, one message per recipient, the
outbox written in bulk (skipping keys already queued and recipients without e-mail)."""

from datetime import UTC, datetime

import pytest
import time_machine

from itsm.enums import JournalKind
from itsm.models import JournalEntry, OutboxMessage
from itsm.services import outbox_enqueue, outbox_enqueue_many
from slas.enums import SLAActionKind
from slas.models import SLAAction, SLAClock, SLADefinition, SLAMilestone
from slas.services import sla_sweep
from tests.factories import AgentFactory, TeamFactory, UserFactory, incident_factory

pytestmark = pytest.mark.django_db

OPEN = ["new", "active", "pending_customer", "pending_third_party"]


@pytest.fixture
def resolution_1h(db):
    """24x7, one hour: 50 % after 30 minutes, the breach after an hour."""
    definition = SLADefinition.objects.create(
        name="Resolution 1h",
        target="resolution",
        practice="incident",
        active=True,
        start_condition={"state_category": OPEN},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=3600,
        thresholds=[50],
    )
    SLAAction.objects.create(definition=definition, percent=50, kind=SLAActionKind.NOTIFY_GROUP)
    SLAAction.objects.create(definition=definition, percent=100, kind=SLAActionKind.NOTIFY_ASSIGNEE)
    SLAAction.objects.create(definition=definition, percent=100, kind=SLAActionKind.NOTIFY_GROUP_MANAGER)
    return definition


def test_batches_notify_each_recipient_once_per_milestone(resolution_1h):
    manager = AgentFactory(username="lead")
    team = TeamFactory(name="Desk", manager=manager)
    agent = AgentFactory(username="worker")
    silent = AgentFactory(username="silent", email="")
    team.members.add(manager, agent, silent)
    start = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        incidents = [
            incident_factory(by=agent, assignment_group=team, assigned_to=assignee)
            for assignee in (agent, manager, agent, None, agent)
        ]
    with time_machine.travel(datetime(2026, 5, 4, 9, 30, tzinfo=UTC), tick=False):
        assert sla_sweep(batch_size=2) == 10  # 50 % and the breach for each of five clocks, over three batches
        assert sla_sweep(batch_size=2) == 0
    assert SLAMilestone.objects.count() == 10
    assert set(SLAMilestone.objects.values_list("percent", "reached_at").distinct()) == {
        (50, datetime(2026, 5, 4, 8, 30, tzinfo=UTC)),
        (100, datetime(2026, 5, 4, 9, 0, tzinfo=UTC)),
    }
    assert JournalEntry.objects.filter(kind=JournalKind.SLA).count() == 10
    for incident in incidents:
        clock = SLAClock.objects.get(ticket=incident)
        warned = set(
            OutboxMessage.objects.filter(ticket=incident, event="sla.warning").values_list("to_email", flat=True)
        )
        assert warned == {manager.email, agent.email}  # the group's members with an address
        breached = list(
            OutboxMessage.objects.filter(ticket=incident, event="sla.breached").values_list("dedupe_key", flat=True)
        )
        # The assignee and the manager, once each (the manager once when assigned, no assignee when unassigned).
        expected = {manager.pk} | ({incident.assigned_to_id} if incident.assigned_to_id else set())
        assert sorted(breached) == sorted(f"sla.breached:clock{clock.pk}:100:{pk}" for pk in expected)


def test_outbox_enqueue_many_skips_queued_repeated_and_addressless(agent):
    incident = incident_factory(by=agent)
    other = UserFactory(username="other")
    nobody = UserFactory(username="nobody", email="")
    outbox_enqueue(event="sla.warning", ticket=incident, recipient=agent, subject="old", body="old", key="k1")

    def message(recipient, key, subject="new"):
        return {
            "event": "sla.warning",
            "ticket": incident,
            "recipient": recipient,
            "subject": subject,
            "body": "b",
            "key": key,
        }

    outbox_enqueue_many(
        [
            message(agent, "k1"),  # already queued: left as it was
            message(agent, "k2", subject="two\nlines"),
            message(agent, "k2"),  # repeated: the first one wins
            message(other, "k2"),
            message(nobody, "k2"),  # no address: nothing to queue
        ]
    )
    queued = dict(OutboxMessage.objects.filter(event="sla.warning").values_list("dedupe_key", "subject"))
    assert queued == {
        f"sla.warning:k1:{agent.pk}": "old",
        f"sla.warning:k2:{agent.pk}": "two lines",
        f"sla.warning:k2:{other.pk}": "new",
    }
    outbox_enqueue_many([])
    assert OutboxMessage.objects.filter(event="sla.warning").count() == 3


def test_sweep_queries_do_not_grow_with_milestones_or_recipients(resolution_1h):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from itsm.configcache import config_caches_clear

    manager = AgentFactory(username="lead")
    team = TeamFactory(name="Desk", manager=manager)
    members = [AgentFactory(username=f"member{n}") for n in range(3)]
    team.members.add(manager, *members)

    def sweep_with(count: int, day: int) -> int:
        SLAClock.objects.all().delete()  # only this round's clocks are due
        told = OutboxMessage.objects.filter(event="sla.warning").count()
        with time_machine.travel(datetime(2026, 5, day, 8, 0, tzinfo=UTC), tick=False):
            for n in range(count):
                incident_factory(by=members[0], assignment_group=team, assigned_to=members[n % 3])
        config_caches_clear()
        with (
            time_machine.travel(datetime(2026, 5, day, 8, 40, tzinfo=UTC), tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            assert sla_sweep() == count  # 50 %: every member of the group is told
        assert OutboxMessage.objects.filter(event="sla.warning").count() == told + 4 * count
        return len(queries)

    # The milestones' notifications read the recipients' preferences and roles once per batch, not per message.
    assert sweep_with(2, day=4) == sweep_with(6, day=5)
