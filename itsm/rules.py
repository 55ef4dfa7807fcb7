"""Permission predicates (django-rules) shared by the state machines, the API, the views and the templates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import rules
from django.contrib.auth.models import AnonymousUser, User

from itsm.enums import Role


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    """The names of the role groups the user belongs to, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_itsm_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._itsm_roles = cached
    return cached


def user_roles_prefetch(users: Iterable[User]) -> None:
    """Fill `user_roles`' cache of many users in one query (those whose roles are not known yet), so that asking
    `is_agent` of each recipient of a batch of notifications is not a query per recipient."""
    missing = [user for user in users if user.is_authenticated and getattr(user, "_itsm_roles", None) is None]
    if not missing:
        return
    names: dict[int, set[str]] = defaultdict(set)
    pairs = User.groups.through.objects.filter(user_id__in={user.pk for user in missing}).values_list(
        "user_id", "group__name"
    )
    for user_id, name in pairs:
        names[user_id].add(name)
    for user in missing:
        user._itsm_roles = frozenset(names[user.pk])


# Agents and anyone above them: they work tickets in the workspace and see every ticket.
AGENT_ROLES = frozenset({Role.AGENT, Role.TEAM_MANAGER, Role.CHANGE_MANAGER, Role.ADMIN})


@rules.predicate
def is_agent(user: User) -> bool:
    """Agents (and anyone above them) work tickets in the workspace and see every ticket."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_roles(user) & AGENT_ROLES)


@rules.predicate
def is_admin(user: User) -> bool:
    """Admins configure the desk."""
    return user.is_authenticated and user.is_active and (user.is_superuser or Role.ADMIN in user_roles(user))
