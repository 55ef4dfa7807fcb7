"""Permission predicates of change enablement: changes are worked by agents; change managers override conflicts."""

from __future__ import annotations

from itsm.rules import is_agent


def can_work_changes(user) -> bool:
    """Changes and their templates are agents' work (CAB members decide through their approvals)."""
    return is_agent(user)


def can_override_conflicts(user) -> bool:
    """Change managers (and admins) may schedule a change despite its conflicts, giving a reason."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("changes.override_change_conflicts"))
    )
