"""Kernel reads: the priority matrix, journal visibility, team lookups."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from itsm.configcache import ConfigCache
from itsm.enums import JournalKind, Priority
from itsm.models import Attachment, JournalEntry, PriorityRule, Ticket
from itsm.rules import AGENT_ROLES, is_agent

# The impact x urgency matrix, per process for a few seconds (itsm.configcache): every ticket created or re-rated
# asked the database for its cell.
PRIORITY_MATRIX = ConfigCache(
    lambda: {(i, u): p for i, u, p in PriorityRule.objects.values_list("impact", "urgency", "priority")},
    model="itsm.PriorityRule",
)


def priority_for(*, impact: int, urgency: int) -> int:
    """The priority the matrix gives for this impact and urgency; Low where an admin removed the cell."""
    return PRIORITY_MATRIX.get().get((impact, urgency), Priority.LOW)


def journal_visible_to(*, ticket: Ticket, user: User) -> QuerySet[JournalEntry]:
    """The ticket's journal as this user may read it: everything for agents, public comments for everyone else."""
    entries = JournalEntry.objects.filter(ticket=ticket).select_related("actor").order_by("created_at", "id")
    if not is_agent(user):
        entries = entries.filter(kind=JournalKind.COMMENT)
    return entries


def ticket_list_visible_to(*, user: User) -> QuerySet[Ticket]:
    """Tickets of any practice this user may see: all for agents, those they called otherwise."""
    if not user.is_authenticated:
        return Ticket.objects.none()
    if is_agent(user):
        return Ticket.objects.all()
    return Ticket.objects.filter(caller=user)


def attachment_list_visible_to(*, user: User, ticket: Ticket | None = None) -> QuerySet[Attachment]:
    """Attachments on visible tickets; end users never see files attached to work notes."""
    attachments = Attachment.objects.filter(ticket__in=ticket_list_visible_to(user=user)).select_related("uploaded_by")
    if ticket is not None:
        attachments = attachments.filter(ticket=ticket)
    if not is_agent(user):
        attachments = attachments.filter(public=True)
    return attachments


def approval_list_visible_to(*, user: User):
    """Approvals this user may see: all for admins, those on visible tickets or addressed to them for agents, only
    their own for everyone else."""
    from django.db.models import Q

    from itsm.models import Approval
    from itsm.rules import is_admin

    approvals = Approval.objects.select_related("ticket", "approver", "policy")
    if not user.is_authenticated:
        return approvals.none()
    if is_admin(user):
        return approvals
    if is_agent(user):
        return approvals.filter(Q(approver=user) | Q(ticket__in=ticket_list_visible_to(user=user)))
    return approvals.filter(approver=user)


def watchers_of(*, ticket: Ticket, user: User | None = None) -> QuerySet:
    """The ticket's watch list with who added each person, by username, as `user` may read it (the views check the
    ticket first): all of it for agents (and without a user); for a caller, the people on their side only (no agent,
    as the request serializers hide the agents working it)."""
    from itsm.models import TicketWatcher

    watchers = TicketWatcher.objects.filter(ticket=ticket).select_related("user", "added_by").order_by("user__username")
    if user is not None and not is_agent(user):
        watchers = watchers.filter(user__is_superuser=False).exclude(user__groups__name__in=AGENT_ROLES)
    return watchers
