from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.models import AssignmentRule, TeamRouting, UserProfile
from changes.services import change_create
from incidents.services import incident_create
from itsm.enums import JournalKind
from problems.services import problem_create
from requests_app.models import Profile
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = [{"field": "text", "op": "keywords", "value": ["password reset", "locked out"]}]


def test_rule_routes_and_categorises_on_create_journaled_with_its_name(agent, identity, access):
    top, sub = access
    AssignmentRule.objects.create(
        name="Password resets",
        conditions=PASSWORD,
        set_category=top,
        set_subcategory=sub,
        set_assignment_group=identity,
        work_note="Routed to identity.",
    )
    caller = UserFactory()
    incident = incident_create(by=caller, short_description="Please: PASSWORD  reset for my account")
    incident.refresh_from_db()
    assert (incident.assignment_group, incident.category, incident.subcategory) == (identity, top, sub)
    changes = incident.journal.filter(kind=JournalKind.FIELD_CHANGE, actor=None)
    assert {e.field for e in changes} == {"assignment_group", "category", "subcategory"}
    note = incident.journal.get(kind=JournalKind.WORK_NOTE)
    assert note.body.startswith("Assignment rule 'Password resets':") and "Routed to identity." in note.body


def test_rule_does_not_fire_on_other_text_nor_partial_words(agent, identity):
    AssignmentRule.objects.create(name="Password resets", conditions=PASSWORD, set_assignment_group=identity)
    incident = incident_create(by=agent, short_description="password resetting tool is slow")
    assert incident.assignment_group is None
    assert not incident.journal.filter(kind=JournalKind.WORK_NOTE).exists()


def test_rules_in_order_first_stop_wins_and_priority_override_needs_reason(agent, identity, team):
    AssignmentRule.objects.create(
        name="b", order=2, conditions=[{"field": "urgency", "op": "equals", "value": 1}], set_assignment_group=team
    )
    AssignmentRule.objects.create(
        name="a",
        order=1,
        conditions=[{"field": "urgency", "op": "in", "value": [1, 2]}],
        set_assignment_group=identity,
        set_priority=1,
        priority_reason="VIP service",
    )
    incident = incident_create(by=agent, short_description="x", urgency=1, impact=3)
    assert incident.assignment_group == identity and incident.priority == 1
    assert "Priority overridden: VIP service" in incident.journal.get(kind=JournalKind.WORK_NOTE).body
    with pytest.raises(ValidationError) as error:
        AssignmentRule(name="c", set_priority=1).full_clean()
    assert "priority_reason" in error.value.message_dict


def test_rule_conditions_on_caller_department_and_location(identity):
    caller = UserFactory()
    Profile.objects.create(user=caller, department="Finance")
    UserProfile.objects.create(user=caller, location="Lisbon")
    AssignmentRule.objects.create(
        name="Finance in Lisbon",
        conditions=[
            {"field": "caller_department", "op": "equals", "value": "finance"},
            {"field": "caller_location", "op": "in", "value": ["Lisbon", "Porto"]},
        ],
        set_assignment_group=identity,
    )
    assert incident_create(by=caller, short_description="x").assignment_group == identity
    assert incident_create(by=UserFactory(), short_description="x").assignment_group is None


@pytest.mark.parametrize(
    "conditions, field_hint",
    [
        ("nope", "list"),
        ([{"field": "colour", "op": "equals", "value": 1}], "unknown field"),
        ([{"field": "text", "op": "like", "value": "x"}], "unknown operator"),
        ([{"field": "text", "op": "regex", "value": "(unclosed"}], "invalid pattern"),
        ([{"field": "text", "op": "keywords", "value": []}], "non-empty list"),
    ],
)
def test_rule_conditions_validated_at_save(conditions, field_hint):
    with pytest.raises(ValidationError) as error:
        AssignmentRule(name="bad", conditions=conditions).full_clean()
    assert field_hint in " ".join(error.value.message_dict["conditions"])


def test_regex_condition_that_runs_too_long_does_not_match(agent, identity):
    AssignmentRule.objects.create(
        name="catastrophic",
        conditions=[{"field": "text", "op": "regex", "value": "^(a+)+$"}],
        set_assignment_group=identity,
    )
    incident = incident_create(by=agent, short_description="a" * 40 + "!")
    assert incident.assignment_group is None
    matched = incident_create(by=agent, short_description="aaa")
    assert matched.assignment_group == identity


def test_round_robin_300_tickets_100_each_skipping_the_away_agent(identity):
    away = AgentFactory(username="id_away")
    identity.members.add(away)
    UserProfile.objects.create(user=away, away_until=timezone.now() + timedelta(days=1))
    TeamRouting.objects.create(team=identity, mode="round_robin")
    caller = UserFactory()
    AssignmentRule.objects.create(name="all", set_assignment_group=identity)
    counts = Counter(
        incident_create(by=caller, short_description=f"ticket {n}").assigned_to.username for n in range(300)
    )
    assert counts == {"id_agent_0": 100, "id_agent_1": 100, "id_agent_2": 100}


def test_least_open_work_and_manual(agent, identity):
    routing = TeamRouting.objects.create(team=identity, mode="least_open")
    busy = identity.members.get(username="id_agent_0")
    for _ in range(2):
        incident_create(by=agent, short_description="x", assignment_group=identity, assigned_to=busy)
    free = incident_create(by=agent, short_description="y", assignment_group=identity)
    assert free.assigned_to.username == "id_agent_1"
    note = free.journal.get(kind=JournalKind.WORK_NOTE)
    assert note.body.startswith("Team routing of Identity") and "least open work" in note.body
    routing.mode = "manual"
    routing.save()
    assert incident_create(by=agent, short_description="z", assignment_group=identity).assigned_to is None


def test_rules_apply_to_problems_changes_and_requests_per_practice(agent, identity):
    AssignmentRule.objects.create(name="problems", practice="problem", set_assignment_group=identity)
    AssignmentRule.objects.create(
        name="changes",
        practice="change",
        conditions=[{"field": "text", "op": "contains", "value": "firewall"}],
        set_assignment_group=identity,
    )
    assert problem_create(by=agent, short_description="x").assignment_group == identity
    assert change_create(by=agent, short_description="Open firewall port").assignment_group == identity
    assert change_create(by=agent, short_description="Patch").assignment_group is None
    assert incident_create(by=agent, short_description="firewall").assignment_group is None
