"""The incident practice's own workspace view: logging a new incident for a caller. Lists, the incident page,
transitions and comments are the generic workspace's (itsm/workspace/), declared in incidents/workspace.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents import services
from incidents.forms import IncidentCreateForm, apply_service_errors
from itsm.workspace.views import agent_required


@agent_required
def incident_create(request: HttpRequest) -> HttpResponse:
    """Log a new incident for a caller."""
    form = IncidentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(number)s created.") % {"number": incident.number})
            return redirect(reverse("workspace:detail", args=["incidents", incident.number]))
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/incident_create.html", {"form": form}, status=status)
