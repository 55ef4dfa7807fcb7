"""Permission predicates of problem management: problems and their tasks are worked by agents only."""

from __future__ import annotations

from itsm.rules import is_agent


def can_work_problems(user) -> bool:
    """Problems, their tasks and unpublished known errors are agents' work."""
    return is_agent(user)
