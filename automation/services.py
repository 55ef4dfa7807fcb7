"""Automation use cases: assignment rules and team routing on creation (every channel reaches them through the
practice's create service), the learned category suggestion, and the dry run that predicts all of it.

Every automatic change is journaled as a field change by the system followed by a work note naming what made it.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from automation.conditions import conditions_hold
from automation.enums import RoutingMode
from automation.models import AssignmentRule, TeamRouting
from itsm.configcache import ConfigCache
from itsm.enums import CALLER_VISIBLE_KINDS, JournalKind
from itsm.models import Team, Ticket
from itsm.rules import is_agent
from itsm.services import journal_add, journal_display, journal_field_changes, ticket_watchers_add

# While rules apply to a new ticket, their field changes are part of its creation, not "updated" events.
_CREATING: ContextVar[bool] = ContextVar("automation_creating", default=False)


@dataclass
class Step:
    """What one rule (or the team routing, or the categoriser) does to a ticket: field changes and a note."""

    source: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    note: str = ""
    watchers: list[User] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        changes = [
            {"field": name, "old": journal_display(old), "new": journal_display(new)} for name, old, new in self.changes
        ]
        if self.watchers:
            changes.append({"field": "watchers", "old": "", "new": self.watchers_display()})
        return {"source": self.source, "changes": changes, "note": self.note}

    def watchers_display(self) -> str:
        return ", ".join(f"+{user.get_username()}" for user in self.watchers)


def _set(ticket: Ticket, step: Step, name: str, value: Any) -> None:
    old = getattr(ticket, name)
    if old != value:
        step.changes.append((name, old, value))
        setattr(ticket, name, value)


def _rule_step(rule: AssignmentRule, ticket: Ticket) -> Step:
    """Apply one matching rule's actions to the (unsaved) ticket object; values that do not fit it are skipped."""
    step = Step(source=f"Assignment rule '{rule.name}'")
    skipped = []
    category = rule.set_category
    if category is not None:
        if category.practice == ticket.kind and category.parent_id is None:
            _set(ticket, step, "category", category)
            if ticket.subcategory is not None and ticket.subcategory.parent_id != category.pk:
                _set(ticket, step, "subcategory", None)
        else:
            skipped.append(f"category {category} (not a {ticket.kind} category)")
    if rule.set_subcategory is not None and rule.set_subcategory.parent_id == ticket.category_id:
        _set(ticket, step, "subcategory", rule.set_subcategory)
    if rule.set_assignment_group is not None:
        _set(ticket, step, "assignment_group", rule.set_assignment_group)
        assignee = ticket.assigned_to
        if assignee is not None and not rule.set_assignment_group.members.filter(pk=assignee.pk).exists():
            _set(ticket, step, "assigned_to", None)
    assignee = rule.set_assigned_to
    if assignee is not None:
        group = ticket.assignment_group
        if is_agent(assignee) and (group is None or group.members.filter(pk=assignee.pk).exists()):
            _set(ticket, step, "assigned_to", assignee)
        else:
            skipped.append(f"assignee {assignee} (not an agent of {group})")
    if rule.set_priority is not None and rule.set_priority != ticket.priority:
        _set(ticket, step, "priority", rule.set_priority)
        step.note = f"Priority overridden: {rule.priority_reason}"
    if rule.work_note:
        step.note = f"{step.note}\n{rule.work_note}".strip()
    for user in rule.add_watchers.order_by("username"):
        if not user.is_active:
            skipped.append(f"watcher {user} (inactive)")
        elif ticket.kind not in CALLER_VISIBLE_KINDS and not is_agent(user):
            skipped.append(f"watcher {user} (not an agent; a {ticket.get_kind_display()} is agents' work)")
        else:
            step.watchers.append(user)
    if skipped:
        step.note = f"{step.note}\nSkipped: {'; '.join(skipped)}.".strip()
    return step


def _away_ids(users: list[User]) -> set[int]:
    now = timezone.now()
    return {
        user.pk
        for user in users
        if getattr(user, "automation_profile", None) is not None and user.automation_profile.is_away(now)
    }


def team_candidates(team: Team) -> list[User]:
    """The team's active agents who are not away, by id (the round-robin order)."""
    members = list(team.members.filter(is_active=True).select_related("automation_profile").order_by("id"))
    away = _away_ids(members)
    return [member for member in members if member.pk not in away and is_agent(member)]


def team_pick(*, team: Team, advance: bool) -> User | None:
    """The member a team's routing gives its next ticket (None for manual teams or nobody present).

    Round robin takes the next present member after the last one given (the routing row is locked, so concurrent
    creations take turns); least open work takes whoever has the fewest active tickets (ties: lowest id).
    `advance=False` predicts without moving the round-robin cursor (the dry run).
    """
    routing = TeamRouting.objects.filter(team=team)
    if advance:
        routing = routing.select_for_update()
    routing = routing.first()
    if routing is None or routing.mode == RoutingMode.MANUAL:
        return None
    candidates = team_candidates(team)
    if not candidates:
        return None
    if routing.mode == RoutingMode.ROUND_ROBIN:
        last = routing.last_assigned_id or 0
        chosen = next((member for member in candidates if member.pk > last), candidates[0])
        if advance:
            routing.last_assigned = chosen
            routing.save(update_fields=["last_assigned"])
        return chosen
    load = dict(
        Ticket.objects.filter(active=True, assigned_to__in=candidates)
        .values_list("assigned_to")
        .annotate(open=Count("id"))
        .values_list("assigned_to", "open")
    )
    return min(candidates, key=lambda member: (load.get(member.pk, 0), member.pk))


def _routing_step(ticket: Ticket, *, advance: bool) -> Step | None:
    if ticket.assignment_group is None or ticket.assigned_to_id is not None:
        return None
    chosen = team_pick(team=ticket.assignment_group, advance=advance)
    if chosen is None:
        return None
    step = Step(source=f"Team routing of {ticket.assignment_group}")
    _set(ticket, step, "assigned_to", chosen)
    step.note = f"Assigned by {ticket.assignment_group.routing.get_mode_display().lower()}."
    return step


# The practices with an active assignment rule ("" for every practice), per process for a few seconds
# (itsm.configcache): every ticket created asked for its rules, and most practices have none. With a rule, the rules
# are read fresh.
ACTIVE_RULE_PRACTICES = ConfigCache(
    lambda: frozenset(AssignmentRule.objects.filter(active=True).values_list("practice", flat=True)),
    model="automation.AssignmentRule",
)


def rules_for(ticket: Ticket) -> list[AssignmentRule]:
    if not ACTIVE_RULE_PRACTICES.get() & {"", ticket.kind}:
        return []
    return list(
        AssignmentRule.objects.filter(active=True, practice__in=["", ticket.kind])
        .select_related("set_category", "set_subcategory", "set_assignment_group", "set_assigned_to")
        .order_by("order", "name")
    )


def creation_plan(ticket: Ticket, *, advance: bool) -> list[Step]:
    """Run the rules, then the categoriser (when no rule set a category), then the team routing over the ticket
    object (changing it, not saving it)."""
    from automation.learning import suggestion_step

    steps = []
    for rule in rules_for(ticket):
        if conditions_hold(rule.conditions, ticket):
            steps.append(_rule_step(rule, ticket))
            if rule.stop:
                break
    suggested = suggestion_step(ticket, save=advance)
    if suggested is not None:
        steps.append(suggested)
    routed = _routing_step(ticket, advance=advance)
    if routed is not None:
        steps.append(routed)
    return steps


@contextmanager
def creating():
    token = _CREATING.set(True)
    try:
        yield
    finally:
        _CREATING.reset(token)


def is_creating() -> bool:
    return _CREATING.get()


def steps_journal(*, ticket: Ticket, steps: list[Step]) -> None:
    """Save and journal the steps' changes: each step's field changes by the system, then a note naming its source.

    The plan changed the ticket object for all steps at once; each step is saved with the ticket as that step left
    it, journaled (one ticket version) and its SLA clocks evaluated at its journal instant, as the replay of the
    journal evaluates each version (docs/sla-engine.md, "Several changes at one instant")."""
    from slas.services import sla_evaluate

    for step in reversed(steps):
        for name, old, _new in step.changes:
            setattr(ticket, name, old)
    for step in steps:
        if step.changes:
            for name, _old, new in step.changes:
                setattr(ticket, name, new)
            ticket.save(update_fields=[*{name for name, _old, _new in step.changes}, "updated_at"])
            entries = journal_field_changes(ticket=ticket, actor=None, changes=step.changes)
            sla_evaluate(ticket=ticket, at=entries[0].created_at)
        if step.watchers:
            step.watchers = ticket_watchers_add(ticket=ticket, users=step.watchers, by=None)
        if step.changes or step.note or step.watchers:
            what = "; ".join(
                f"{name.replace('_', ' ')} → {journal_display(new) or 'none'}" for name, _old, new in step.changes
            )
            if step.watchers:
                what = f"{what}; watchers → {step.watchers_display()}".lstrip("; ")
            body = f"{step.source}: {what or 'no field changed'}." + (f"\n{step.note}" if step.note else "")
            journal_add(ticket=ticket, actor=None, kind=JournalKind.WORK_NOTE, body=body)


# No savepoint of its own (two round trips per ticket created): the creating service's transaction rolls it back.
@transaction.atomic(savepoint=False)
def apply_rules_on_create(*, ticket: Ticket, by: User | None = None) -> list[Step]:
    """Apply the assignment rules, the team's routing and the category suggestion to a ticket just created, then
    fire the 'created' triggers. Called once by each practice's create service, right after the ticket is created
    (journaled and SLA-evaluated); the SLA clocks are evaluated again after each step that changed the ticket.
    `by` is who created it; the changes are the system's, each journaled with the rule that made it."""
    from automation.triggers import triggers_fire

    with creating():
        steps = creation_plan(ticket, advance=True)
        steps_journal(ticket=ticket, steps=steps)
    triggers_fire(ticket=ticket, event="created", key=f"created:{ticket.pk}")
    return steps


def dry_run(*, ticket: Ticket, event: str | None = None) -> dict[str, Any]:
    """Which rules would fire were this ticket (saved, or a draft) created now, which triggers would fire on each
    event (or the one named) after them, and what each would change; nothing is written (it runs on a copy, inside
    a transaction that is rolled back)."""
    from automation.triggers import trigger_plans

    draft = copy.copy(ticket)
    with transaction.atomic():
        steps = creation_plan(draft, advance=False)
        triggers = trigger_plans(ticket=draft, event=event)
        transaction.set_rollback(True)
    return {"rules": [step.as_dict() for step in steps], "triggers": triggers}
