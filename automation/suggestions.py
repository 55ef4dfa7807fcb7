"""The one-click category suggestion on the ticket page and in every practice's API: which suggestion is still
pending for a ticket, applying it and dismissing it. Registered with the kernel (itsm.registry.SuggestionProvider)
in AutomationConfig.ready, so the kernel's workspace and API use it without importing this app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from automation.models import CategorySuggestion
from itsm.enums import JournalKind
from itsm.errors import StateConflict
from itsm.models import Ticket
from itsm.services import ensure_agent, journal_add

NOTHING_PENDING = "This ticket has no category suggestion to apply."


def _pending(ticket: Ticket, suggestion: CategorySuggestion | None) -> dict[str, Any] | None:
    if suggestion is None or suggestion.category is None or not ticket.active:
        return None
    # Applied automatically on creation, accepted or dismissed by an agent: nothing left to offer.
    if suggestion.applied or suggestion.accepted_by_id or suggestion.dismissed_at:
        return None
    category = suggestion.category if ticket.category_id != suggestion.category_id else None
    # The group is applied only to a ticket without one (an agent's choice of team is never overwritten).
    group = suggestion.assignment_group if ticket.assignment_group_id is None else None
    if category is None and group is None:
        return None
    return {
        "category": suggestion.category,
        "assignment_group": group,
        "confidence": suggestion.confidence,
        "group_confidence": suggestion.group_confidence if group is not None else None,
    }


def suggestion_pending(ticket: Ticket) -> dict[str, Any] | None:
    """The suggestion an agent may still apply to this ticket (one query), or None."""
    suggestion = (
        CategorySuggestion.objects.select_related("category", "assignment_group").filter(ticket_id=ticket.pk).first()
    )
    return _pending(ticket, suggestion)


@transaction.atomic
def suggestion_apply(*, ticket: Ticket, by: User) -> Ticket:
    """Apply the pending suggestion (the category, and the group when the ticket has none), journaled by the agent
    as applied from the suggestion with its confidence; StateConflict (409) on `suggestion` when none is pending."""
    from automation.learning import suggestion_accept

    ensure_agent(by, "apply a suggestion")
    suggestion = CategorySuggestion.objects.select_for_update().filter(ticket_id=ticket.pk).first()
    if _pending(ticket, suggestion) is None:
        raise StateConflict(NOTHING_PENDING, field="suggestion")
    return suggestion_accept(ticket=ticket, by=by)


@transaction.atomic
def suggestion_dismiss(*, ticket: Ticket, by: User) -> CategorySuggestion:
    """Hide the pending suggestion from the ticket page (it stays stored, with who dismissed it), with a work note."""
    ensure_agent(by, "dismiss a suggestion")
    suggestion = CategorySuggestion.objects.select_for_update().filter(ticket_id=ticket.pk).first()
    if _pending(ticket, suggestion) is None:
        raise StateConflict(NOTHING_PENDING, field="suggestion")
    suggestion.dismissed_by = by
    suggestion.dismissed_at = timezone.now()
    suggestion.save(update_fields=["dismissed_by", "dismissed_at"])
    journal_add(
        ticket=ticket,
        actor=by,
        kind=JournalKind.WORK_NOTE,
        body=f"Dismissed the categoriser's suggestion {suggestion.category} (confidence {suggestion.confidence:.0%}).",
    )
    return suggestion
