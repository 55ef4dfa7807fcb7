"""What the portal's pages share: my own tickets only (even for agents: the portal is everyone's own view), the
SLA promise in plain words, and the public conversation."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Incident
from itsm.enums import JournalKind, TicketKind
from itsm.models import Attachment, JournalEntry, Ticket
from requests_app.models import RequestedItem
from slas.enums import ClockStage, SLATarget
from slas.models import SLAClock

PORTAL_KINDS = (TicketKind.INCIDENT, TicketKind.REQUESTED_ITEM)


def my_ticket(request: HttpRequest, number: str) -> Ticket:
    """One of my incidents or requested items, by number; 404 for anyone else's (and for other kinds)."""
    ticket = Ticket.objects.filter(number=number, caller=request.user, kind__in=PORTAL_KINDS).first()
    if ticket is None:
        raise Http404
    return ticket


def my_incident(request: HttpRequest, number: str) -> Incident:
    incident = (
        Incident.objects.select_related("hold_reason", "close_code", "service")
        .filter(number=number, caller=request.user)
        .first()
    )
    if incident is None:
        raise Http404
    return incident


def my_requested_item(request: HttpRequest, number: str) -> RequestedItem:
    item = (
        RequestedItem.objects.select_related("item_version", "catalog_item__category", "request")
        .filter(number=number, caller=request.user)
        .first()
    )
    if item is None:
        raise Http404
    return item


def ticket_url(ticket: Ticket) -> str:
    from django.urls import reverse

    if ticket.kind == TicketKind.INCIDENT:
        return reverse("portal:incident_detail", args=[ticket.number])
    return reverse("portal:request_detail", args=[ticket.number])


def promise(ticket: Ticket) -> str:
    """'We aim to respond by ...' from the earliest running SLA clock, in the words of its target; '' when none."""
    clock = (
        SLAClock.objects.filter(ticket=ticket, stage=ClockStage.IN_PROGRESS, due_at__isnull=False)
        .select_related("definition")
        .order_by("due_at")
        .first()
    )
    if clock is None:
        return ""
    when = timezone.localtime(clock.due_at).strftime("%a %-d %b, %H:%M")
    if clock.definition.target == SLATarget.RESPONSE:
        return _("We aim to respond by %(when)s.") % {"when": when}
    if ticket.kind == TicketKind.REQUESTED_ITEM:
        return _("We aim to deliver this by %(when)s.") % {"when": when}
    return _("We aim to resolve this by %(when)s.") % {"when": when}


def conversation(ticket: Ticket):
    """The public comments, oldest first (never work notes, field changes or SLA entries)."""
    return (
        JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.COMMENT)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def public_files(ticket: Ticket):
    return Attachment.objects.filter(ticket=ticket, public=True).order_by("created_at", "id")
