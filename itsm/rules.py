"""Permission predicates (django-rules) shared by the state machines, the API, the views and the templates."""

from __future__ import annotations

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
