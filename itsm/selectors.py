"""Kernel reads: the priority matrix, journal visibility, team lookups."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from itsm.enums import JournalKind, Priority
from itsm.models import JournalEntry, PriorityRule, Ticket
from itsm.rules import is_agent


def priority_for(*, impact: int, urgency: int) -> int:
    """The priority the matrix gives for this impact and urgency; Low where an admin removed the cell."""
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    return rule if rule is not None else Priority.LOW


def journal_visible_to(*, ticket: Ticket, user: User) -> QuerySet[JournalEntry]:
    """The ticket's journal as this user may read it: everything for agents, public comments for everyone else."""
    entries = JournalEntry.objects.filter(ticket=ticket).select_related("actor").order_by("created_at", "id")
    if not is_agent(user):
        entries = entries.filter(kind=JournalKind.COMMENT)
    return entries
