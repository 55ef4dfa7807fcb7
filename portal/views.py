"""Portal pages: home, search, my tickets, ratings and files, my incident, approvals waiting for me."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from catalog.selectors import catalog_categories_with_items, catalog_items_search
from incidents.forms import apply_service_errors
from incidents.models import Incident
from itsm.enums import ApprovalState, TicketKind
from itsm.models import Approval, Ticket
from itsm.services import approval_approve, approval_reject, attachment_add
from knowledge.selectors import knowledge_search, major_incidents_open
from portal.common import my_ticket, ticket_url
from portal.forms import AttachmentForm, DecisionForm, RatingForm
from requests_app.models import RequestedItem
from requests_app.services import ticket_rate

PAGE_SIZE = 20


def _my_tickets(user, *, open_only: bool):
    tickets = Ticket.objects.filter(caller=user, kind__in=(TicketKind.INCIDENT, TicketKind.REQUESTED_ITEM))
    if open_only:
        tickets = tickets.filter(active=True)
    return tickets.order_by("-opened_at", "-pk")


def _with_details(tickets) -> list[dict]:
    """Each ticket with its practice record (for the state in plain words), in two queries whatever the count."""
    tickets = list(tickets)
    incidents = Incident.objects.select_related("hold_reason").in_bulk([t.pk for t in tickets if t.kind == "incident"])
    items = RequestedItem.objects.in_bulk([t.pk for t in tickets if t.kind == "requested_item"])
    return [
        {"ticket": t, "incident": incidents.get(t.pk), "item": items.get(t.pk), "url": ticket_url(t)}
        for t in tickets
        if t.pk in incidents or t.pk in items
    ]


def _waiting_approvals(user):
    return (
        Approval.objects.filter(approver=user, state=ApprovalState.REQUESTED)
        .select_related("ticket", "ticket__caller")
        .order_by("requested_at", "pk")
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Search, the catalog by category, report an issue, my open tickets, approvals for me, major incidents."""
    my_services = Ticket.objects.filter(caller=request.user, service__isnull=False).values("service")
    context = {
        "categories": catalog_categories_with_items(user=request.user),
        "open_tickets": _with_details(_my_tickets(request.user, open_only=True)[:5]),
        "approvals": list(_waiting_approvals(request.user)[:5]),
        "approval_count": _waiting_approvals(request.user).count(),
        "major_incidents": list(major_incidents_open(services=my_services)[:5]),
    }
    return render(request, "portal/index.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """One search box over the catalog and the knowledge base."""
    query = request.GET.get("q", "").strip()[:200]
    context = {
        "q": query,
        "items": catalog_items_search(user=request.user, query=query) if query else [],
        "hits": knowledge_search(query=query) if query else [],
    }
    return render(request, "portal/search.html", context)


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    """My incidents and requests with their state in plain words: open ones, or all."""
    show = "all" if request.GET.get("show") == "all" else "open"
    page = Paginator(_my_tickets(request.user, open_only=show == "open"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/tickets.html", {"page": page, "rows": _with_details(page), "show": show})


@login_required
@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    """Rate my resolved incident or delivered request: 1-5 and a comment, once."""
    ticket = my_ticket(request, number)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            ticket_rate(ticket=ticket, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you for your rating."))
    else:
        messages.error(request, _("Choose a score from 1 to 5."))
    return redirect(ticket_url(ticket) + "#rating")


@login_required
@require_POST
def attach(request: HttpRequest, number: str) -> HttpResponse:
    """Add a file to my incident or request (visible to me and the desk)."""
    ticket = my_ticket(request, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(ticket=ticket, by=request.user, uploaded=form.cleaned_data["file"], public=True)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your file has been added."))
    else:
        messages.error(request, _("Choose a file to add."))
    return redirect(ticket_url(ticket) + "#files")


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Approvals waiting for me, and the ones I decided lately."""
    decided = (
        Approval.objects.filter(approver=request.user, state__in=(ApprovalState.APPROVED, ApprovalState.REJECTED))
        .select_related("ticket", "ticket__caller")
        .order_by("-decided_at", "-pk")[:10]
    )
    return render(
        request, "portal/approvals.html", {"waiting": list(_waiting_approvals(request.user)), "decided": list(decided)}
    )


@login_required
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One approval addressed to me: what is asked (for a request: the item and the answers), approve or reject."""
    approval = Approval.objects.select_related("ticket", "ticket__caller").filter(pk=pk, approver=request.user).first()
    if approval is None:
        raise Http404
    item = RequestedItem.objects.select_related("item_version").filter(pk=approval.ticket_id).first()
    form = DecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            service = approval_approve if form.cleaned_data["decision"] == "approve" else approval_reject
            try:
                service(approval=approval, by=request.user, comment=form.cleaned_data["comment"])
            except ValidationError as error:
                apply_service_errors(form, error)
            except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
                messages.error(request, _("This approval has already been decided."))
                return redirect("portal:approvals")
            else:
                verb = _("approved") if form.cleaned_data["decision"] == "approve" else _("rejected")
                messages.success(
                    request, _("You %(verb)s %(number)s.") % {"verb": verb, "number": approval.ticket.number}
                )
                return redirect("portal:approvals")
        status = 400
    context = {"approval": approval, "item": item, "form": form, "pending": approval.state == ApprovalState.REQUESTED}
    return render(request, "portal/approval_detail.html", context, status=status)
