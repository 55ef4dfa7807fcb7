"""What the concurrency and property suites hold every ticket to: its SLA clocks are what its journal says."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from itsm.enums import TicketKind
from itsm.models import Ticket
from slas.models import SLAClock, SLADefinition

OPEN = ["new", "active"]
PENDING = ["pending_customer", "pending_third_party"]
DONE = ["resolved", "closed", "cancelled"]


def sla_definitions_for_every_practice() -> list[SLADefinition]:
    """A 24x7 response and a resolution SLA (paused while pending) for every practice the kernel knows."""
    definitions = []
    for kind in TicketKind.values:
        definitions.append(
            SLADefinition.objects.create(
                name=f"{kind} resolution",
                target="resolution",
                practice=kind,
                active=True,
                start_condition={"state_category": OPEN + PENDING},
                pause_condition={"state_category": PENDING},
                stop_condition={"state_category": DONE},
                duration_seconds=8 * 3600,
            )
        )
        definitions.append(
            SLADefinition.objects.create(
                name=f"{kind} response",
                target="response",
                practice=kind,
                active=True,
                start_condition={"state_category": ["new"]},
                stop_condition={"state_category": ["active", *PENDING, *DONE]},
                duration_seconds=3600,
            )
        )
    return definitions


def assert_clocks_match_journal(ticket: Ticket, *, until: datetime | None = None) -> int:
    """The stored clocks equal a replay of the journal, and none runs on a finished ticket; returns the clock count."""
    from slas.replay import live_states, replay_ticket

    until = until or timezone.now()
    ticket = Ticket.objects.get(pk=ticket.pk)
    live = sorted(state.comparable() for state in live_states(ticket=ticket, until=until))
    replayed = sorted(record.state.comparable() for record in replay_ticket(ticket=ticket, until=until))
    assert live == replayed, f"{ticket.number}: stored clocks {live} != journal replay {replayed}"
    if ticket.state_category in DONE:
        running = SLAClock.objects.filter(ticket=ticket, stage__in=["in_progress", "paused"])
        assert not running.exists(), f"{ticket.number} is {ticket.state_category} but has running clocks"
    return len(live)
