"""Incident reads and the visibility rule."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from changes.models import Change
from incidents.models import Incident
from itsm.rules import is_agent
from problems.models import Problem
from slas.selectors import clocks_prefetch


def incident_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[Incident]:
    """Every incident for agents; an end user's own incidents (where they are the caller) otherwise."""
    incidents = Incident.objects.select_related(
        "caller",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
        "category_suggestion__category",
        "category_suggestion__assignment_group",
        "category_suggestion__accepted_by",
        "hold_reason",
        "close_code",
    ).prefetch_related(
        clocks_prefetch(),
        # Other tickets show as their numbers. Joined, each costs two tables (practice and ticket) in a SELECT whose
        # planning time grows with its joins; most incidents link none, and a prefetch with no ids runs no query.
        # The state comes too: django-fsm reads it as each instance is made (deferred, a query per linked ticket).
        Prefetch("parent", queryset=Incident.objects.only("number", "state")),
        Prefetch("problem", queryset=Problem.objects.only("number", "state")),
        Prefetch("caused_by_change", queryset=Change.objects.only("number", "state")),
    )
    if not user.is_authenticated:
        return incidents.none()
    if is_agent(user):
        return incidents
    return incidents.filter(caller=user)
