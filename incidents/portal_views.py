"""The self-service portal for incidents: report an issue, follow my incidents, reply, accept or reject a solution.

The portal always shows the signed-in user's own incidents (even to agents) and only public comments.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import services
from incidents.enums import AWAITING_CALLER, OPEN_INCIDENT_STATES, IncidentState
from incidents.forms import PortalCommentForm, PortalReopenForm, PortalReportForm, apply_service_errors
from incidents.models import Incident
from incidents.selectors import incident_list_visible_to
from itsm.enums import Impact, JournalKind
from itsm.selectors import journal_visible_to

PORTAL_PAGE_SIZE = 20


def _my_incidents(request: HttpRequest):
    return incident_list_visible_to(user=request.user).filter(caller=request.user)


def _get_my_incident(request: HttpRequest, number: str) -> Incident:
    incident = _my_incidents(request).filter(number=number).first()
    if incident is None:
        raise Http404
    return incident


def _portal_url(incident: Incident) -> str:
    return reverse("incidents:portal_incident_detail", args=[incident.number])


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """Report an issue, and my incidents: open ones, or all of them."""
    show = request.GET.get("show", "open")
    incidents = _my_incidents(request)
    if show == "open":
        incidents = incidents.filter(state__in=[*OPEN_INCIDENT_STATES, IncidentState.RESOLVED])
    else:
        show = "all"
    page = Paginator(incidents.order_by("-opened_at", "-pk"), PORTAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/home.html", {"page": page, "show": show})


@login_required
def portal_report(request: HttpRequest) -> HttpResponse:
    """An end user reports an issue; they are its caller."""
    form = PortalReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(
                by=request.user,
                caller=request.user,
                short_description=form.cleaned_data["short_description"],
                description=form.cleaned_data["description"],
                urgency=form.cleaned_data["urgency"],
                impact=Impact.LOW,
                service=form.cleaned_data["service"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Thank you. We have logged your issue as %(number)s and will keep you informed.")
                % {"number": incident.number},
            )
            return redirect(_portal_url(incident))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/report.html", {"form": form}, status=status)


def _render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    comment_form: PortalCommentForm | None = None,
    reopen_form: PortalReopenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    comments = journal_visible_to(ticket=incident, user=request.user).filter(kind=JournalKind.COMMENT)
    context = {
        "incident": incident,
        "comments": comments,
        "comment_form": comment_form or PortalCommentForm(),
        "reopen_form": reopen_form or PortalReopenForm(),
        "reopen_open": reopen_form is not None,
        "awaiting_me": incident.state == IncidentState.ON_HOLD
        and incident.hold_reason is not None
        and incident.hold_reason.slug == AWAITING_CALLER,
        "is_resolved": incident.state == IncidentState.RESOLVED,
    }
    return render(request, "portal/incident_detail.html", context, status=status)


@login_required
def portal_incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One of my incidents, with its public conversation."""
    return _render_detail(request, _get_my_incident(request, number))


@login_required
@require_POST
def portal_comment(request: HttpRequest, number: str) -> HttpResponse:
    """The caller replies; a reply to an incident waiting for them puts it back in progress (the service does)."""
    incident = _get_my_incident(request, number)
    form = PortalCommentForm(request.POST)
    if not incident.active:
        messages.error(request, _("This incident is closed. Please report a new issue if you need more help."))
        return _render_detail(request, incident, status=409)
    if form.is_valid():
        try:
            services.incident_comment(
                incident=incident, by=request.user, body=form.cleaned_data["body"], kind=JournalKind.COMMENT
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied:
            raise Http404 from None
        except (TransitionNotAllowed, ConcurrentTransition):
            messages.error(request, _("Your reply could not be saved because the incident changed. Please try again."))
            return _render_detail(request, _get_my_incident(request, number), status=409)
        else:
            messages.success(request, _("Your reply has been sent."))
            return redirect(_portal_url(incident) + "#conversation")
    return _render_detail(request, _get_my_incident(request, number), comment_form=form, status=400)


@login_required
@require_POST
def portal_accept(request: HttpRequest, number: str) -> HttpResponse:
    """The caller confirms the solution: the incident is closed."""
    incident = _get_my_incident(request, number)
    try:
        services.incident_close(incident=incident, by=request.user)
    except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
        messages.error(request, _("This incident is no longer waiting for your confirmation."))
        return _render_detail(request, _get_my_incident(request, number), status=409)
    messages.success(request, _("Thank you for confirming. %(number)s is closed.") % {"number": number})
    return redirect(_portal_url(incident))


@login_required
@require_POST
def portal_reopen(request: HttpRequest, number: str) -> HttpResponse:
    """The caller says the solution did not work: the incident is reopened with their explanation."""
    incident = _get_my_incident(request, number)
    form = PortalReopenForm(request.POST)
    if form.is_valid():
        try:
            services.incident_reopen(incident=incident, by=request.user, comment=form.cleaned_data["comment"])
        except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
            messages.error(request, _("This incident can no longer be reopened. Please report a new issue."))
            return _render_detail(request, _get_my_incident(request, number), status=409)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("We have reopened %(number)s and will look at it again.") % {"number": number})
            return redirect(_portal_url(incident))
    return _render_detail(request, _get_my_incident(request, number), reopen_form=form, status=400)
