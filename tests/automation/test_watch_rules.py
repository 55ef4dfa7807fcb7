"""The assignment rules' "add watchers" action: applied on creation through the kernel service, journaled as a
field change by the system with a work note naming the rule, predicted by the dry run; inactive people skipped."""

import pytest

from automation.models import AssignmentRule
from incidents.services import incident_create
from itsm.enums import JournalKind
from itsm.models import JournalEntry, TicketWatcher
from tests.conftest import client_for
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

VPN = [{"field": "text", "op": "contains", "value": "vpn"}]


@pytest.fixture
def rule(db):
    rule = AssignmentRule.objects.create(name="VPN watchers", conditions=VPN, work_note="Network wants to know.")
    rule.add_watchers.add(
        AgentFactory(username="net_lead"),
        UserFactory(username="it_liaison"),
        UserFactory(username="left_company", is_active=False),
    )
    return rule


def test_rule_adds_watchers_on_creation_journaled_with_the_rule(rule):
    incident = incident_create(by=UserFactory(), short_description="VPN drops every hour")
    watchers = TicketWatcher.objects.filter(ticket=incident)
    assert sorted(watchers.values_list("user__username", flat=True)) == ["it_liaison", "net_lead"]
    assert all(w.added_by is None for w in watchers)
    change = incident.journal.get(kind=JournalKind.FIELD_CHANGE, field="watchers")
    assert change.actor is None and (change.old_value, change.new_value) == ("", "it_liaison, net_lead")
    note = incident.journal.get(kind=JournalKind.WORK_NOTE, body__startswith="Assignment rule 'VPN watchers'")
    assert "watchers → +it_liaison, +net_lead" in note.body
    assert "Network wants to know." in note.body and "left_company (inactive)" in note.body


def test_rule_that_does_not_match_adds_nobody(rule):
    incident = incident_create(by=UserFactory(), short_description="Printer jammed")
    assert not TicketWatcher.objects.filter(ticket=incident).exists()
    assert not incident.journal.filter(field="watchers").exists()


def test_dry_run_predicts_the_watchers_and_adds_nobody(rule, agent):
    draft = {"short_description": "vpn slow"}
    response = client_for(agent).post("/api/v1/automation/dry-run/", {"draft": draft}, format="json")
    assert response.status_code == 200, response.content
    [step] = response.json()["rules"]
    assert {"field": "watchers", "old": "", "new": "+it_liaison, +net_lead"} in step["changes"]
    assert not TicketWatcher.objects.exists() and not JournalEntry.objects.filter(field="watchers").exists()


def test_watching_a_ticket_fires_no_updated_trigger(agent):
    from automation.models import Trigger, TriggerRun
    from itsm.services import ticket_watcher_remove, ticket_watchers_add

    Trigger.objects.create(name="Any update", event="updated", work_note="Updated.")
    incident = incident_create(by=agent, short_description="Printer jammed")
    watcher = UserFactory()
    ticket_watchers_add(ticket=incident, users=[watcher], by=agent)
    assert ticket_watcher_remove(ticket=incident, user=watcher, by=agent) is True
    assert not TriggerRun.objects.exists()
    from incidents.services import incident_update

    incident_update(incident=incident, by=agent, short_description="Printer jammed on floor 2")
    assert TriggerRun.objects.count() == 1  # a real field change still fires it
