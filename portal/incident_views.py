"""Portal pages of my incidents: the page itself, and the caller's reply, acceptance of the solution and reopening
(the incident services decide; the portal shows only my own incidents, even to agents, and only public comments)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import services
from incidents.enums import AWAITING_CALLER, IncidentState
from incidents.forms import PortalCommentForm, PortalReopenForm, apply_service_errors
from incidents.models import Incident
from itsm.enums import JournalKind
from portal.common import conversation, my_incident, promise, public_files
from portal.forms import AttachmentForm, RatingForm
from requests_app.models import SatisfactionRating


def _url(incident: Incident) -> str:
    return reverse("portal:incident_detail", args=[incident.number])


def _render(request: HttpRequest, incident: Incident, *, comment_form=None, reopen_form=None, status: int = 200):
    resolved = incident.state in (IncidentState.RESOLVED, IncidentState.CLOSED)
    rating = SatisfactionRating.objects.filter(ticket=incident).first()
    context = {
        "incident": incident,
        "comments": conversation(incident),
        "files": public_files(incident),
        "promise": promise(incident) if incident.active and not resolved else "",
        "comment_form": comment_form or PortalCommentForm(),
        "reopen_form": reopen_form or PortalReopenForm(),
        "reopen_open": reopen_form is not None,
        "attachment_form": AttachmentForm(),
        "awaiting_me": incident.state == IncidentState.ON_HOLD
        and incident.hold_reason is not None
        and incident.hold_reason.slug == AWAITING_CALLER,
        "is_resolved": incident.state == IncidentState.RESOLVED,
        "rating": rating,
        "rating_form": RatingForm() if resolved and rating is None else None,
    }
    return render(request, "portal/incident_detail.html", context, status=status)


@login_required
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    """My incident: state in plain words, the promise, the conversation, files, and a rating once resolved."""
    return _render(request, my_incident(request, number))


@login_required
@require_POST
def incident_comment(request: HttpRequest, number: str) -> HttpResponse:
    """The caller replies; a reply to an incident waiting for them puts it back in progress (the service does)."""
    incident = my_incident(request, number)
    form = PortalCommentForm(request.POST)
    if not incident.active:
        messages.error(request, _("This incident is closed. Please report a new issue if you need more help."))
        return _render(request, incident, status=409)
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
            return _render(request, my_incident(request, number), status=409)
        else:
            messages.success(request, _("Your reply has been sent."))
            return redirect(_url(incident) + "#conversation")
    return _render(request, my_incident(request, number), comment_form=form, status=400)


@login_required
@require_POST
def incident_accept(request: HttpRequest, number: str) -> HttpResponse:
    """The caller confirms the solution: the incident is closed."""
    incident = my_incident(request, number)
    try:
        services.incident_close(incident=incident, by=request.user)
    except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
        messages.error(request, _("This incident is no longer waiting for your confirmation."))
        return _render(request, my_incident(request, number), status=409)
    messages.success(request, _("Thank you for confirming. %(number)s is closed.") % {"number": number})
    return redirect(_url(incident))


@login_required
@require_POST
def incident_reopen(request: HttpRequest, number: str) -> HttpResponse:
    """The caller says the solution did not work: the incident is reopened with their explanation."""
    incident = my_incident(request, number)
    form = PortalReopenForm(request.POST)
    if form.is_valid():
        try:
            services.incident_reopen(incident=incident, by=request.user, comment=form.cleaned_data["comment"])
        except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
            messages.error(request, _("This incident can no longer be reopened. Please report a new issue."))
            return _render(request, my_incident(request, number), status=409)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("We have reopened %(number)s and will look at it again.") % {"number": number})
            return redirect(_url(incident))
    return _render(request, my_incident(request, number), reopen_form=form, status=400)
