"""The continual improvement register's use cases: record and change initiatives, move them through their states."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from automation.models import ImprovementInitiative
from itsm.enums import Role
from itsm.rules import is_admin, is_agent, user_roles
from itsm.services import transition_ensure_allowed

FIELDS = (
    "title",
    "owner",
    "problem_statement",
    "metric",
    "practice",
    "service",
    "team",
    "baseline_value",
    "target_value",
)
TRANSITIONS = ("approve", "start", "complete", "abandon")


def can_approve(user: User) -> bool:
    return is_admin(user) or Role.TEAM_MANAGER in user_roles(user)


def _save(initiative: ImprovementInitiative, problems, changes) -> ImprovementInitiative:
    try:
        initiative.full_clean(exclude=["problems", "changes", "state"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from error
    initiative.save()
    if problems is not None:
        initiative.problems.set(problems)
    if changes is not None:
        initiative.changes.set(changes)
    return initiative


@transaction.atomic
def initiative_create(*, by: User, problems=None, changes=None, **fields: Any) -> ImprovementInitiative:
    """Record an initiative (state Identified); agents propose, the owner defaults to them."""
    if not is_agent(by):
        raise PermissionDenied("Only agents can record improvement initiatives.")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    fields.setdefault("owner", by)
    return _save(ImprovementInitiative(**fields), problems, changes)


@transaction.atomic
def initiative_update(
    *, initiative: ImprovementInitiative, by: User, problems=None, changes=None, **fields: Any
) -> ImprovementInitiative:
    """Change an initiative's fields or links (its owner, team managers and admins); a closed one is frozen."""
    if not (initiative.owner_id == by.pk or can_approve(by)):
        raise PermissionDenied("Only the owner, team managers and admins change an initiative.")
    if initiative.state in ("done", "abandoned"):
        raise ValidationError({"state": f"A {initiative.get_state_display().lower()} initiative cannot be changed."})
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(initiative, name, value)
    return _save(initiative, problems, changes)


@transaction.atomic
def initiative_transition(*, initiative: ImprovementInitiative, by: User, name: str) -> ImprovementInitiative:
    """Approve (team managers and admins), start, complete or abandon (also the owner); 409 from a wrong state."""
    if name not in TRANSITIONS:
        raise ValidationError({"transition": f"Unknown transition '{name}'."})
    initiative = ImprovementInitiative.objects.select_for_update().get(pk=initiative.pk)
    method = getattr(initiative, name)
    transition_ensure_allowed(user=by, transition=method)
    if not (can_approve(by) or (name != "approve" and initiative.owner_id == by.pk)):
        raise PermissionDenied(f"You may not {name} this initiative.")
    method()
    initiative.save()
    return initiative
