"""Permission predicates of change enablement: changes are worked by agents only."""

from __future__ import annotations

from itsm.rules import is_agent


def can_work_changes(user) -> bool:
    """Changes and their templates are agents' work (CAB members decide through their approvals)."""
    return is_agent(user)
