"""The agent workspace for incidents: the queue list, the incident page, transitions, comments and create.

Views read through the selectors and write through incidents.services only; nothing here changes state itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from incidents import services
from incidents.enums import AWAITING_CALLER, IncidentState
from incidents.filtersets import IncidentFilterSet
from incidents.forms import (
    CancelForm,
    CommentForm,
    EmptyForm,
    HoldForm,
    IncidentCreateForm,
    IncidentForm,
    ReopenForm,
    ResolveForm,
    agents_queryset,
    apply_service_errors,
)
from incidents.models import Incident
from incidents.selectors import incident_list_visible_to
from itsm.enums import Impact, JournalKind, Priority, Urgency
from itsm.models import JournalEntry, Team
from itsm.rules import is_agent
from itsm.selectors import journal_visible_to
from slas.selectors import clocks_for_display

PAGE_SIZES = (25, 50, 100)

# Sortable columns: the URL key and the ordering it means (ties broken by id so pages never overlap).
SORTS = {
    "number": "number",
    "short_description": "short_description",
    "state": "state",
    "priority": "priority",
    "caller": "caller__username",
    "assignment_group": "assignment_group__name",
    "assigned_to": "assigned_to__username",
    "opened": "opened_at",
}
DEFAULT_SORT = "-opened"

QUEUES = {
    "mine": gettext_lazy("My work"),
    "my_teams": gettext_lazy("My teams' queue"),
    "unassigned": gettext_lazy("Unassigned"),
}


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users who are not agents get 404, as if nothing were here."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _get_incident(request: HttpRequest, number: str) -> Incident:
    incident = incident_list_visible_to(user=request.user).filter(number=number).first()
    if incident is None:
        raise Http404
    return incident


# --- the list ---------------------------------------------------------------------------------------------------


def _queue_queryset(request: HttpRequest, queue: str):
    incidents = incident_list_visible_to(user=request.user)
    if queue == "mine":
        return incidents.filter(assigned_to=request.user, active=True)
    if queue == "my_teams":
        return incidents.filter(assignment_group__in=Team.objects.filter(members=request.user), active=True)
    if queue == "unassigned":
        return incidents.filter(assigned_to__isnull=True, active=True)
    return incidents


def _columns(sort: str) -> list[dict[str, str]]:
    """The list's columns, each with the sort a click on its header asks for and its current direction."""
    labels = [
        ("number", _("Number")),
        ("short_description", _("Short description")),
        ("state", _("State")),
        ("priority", _("Priority")),
        ("caller", _("Caller")),
        ("assignment_group", _("Assignment group")),
        ("assigned_to", _("Assigned to")),
        ("opened", _("Opened")),
    ]
    columns = []
    for key, label in labels:
        if sort == key:
            columns.append({"key": key, "label": label, "next": f"-{key}", "direction": "asc"})
        elif sort == f"-{key}":
            columns.append({"key": key, "label": label, "next": key, "direction": "desc"})
        else:
            # Dates read best newest first; everything else starts ascending.
            columns.append({"key": key, "label": label, "next": f"-{key}" if key == "opened" else key, "direction": ""})
    return columns


@agent_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """The incident queue: quick queues, the shared IncidentFilterSet, sortable columns and pages."""
    queue = request.GET.get("queue", "")
    if queue not in QUEUES:
        queue = ""
    filterset = IncidentFilterSet(request.GET or None, queryset=_queue_queryset(request, queue))
    incidents = filterset.qs if filterset.is_bound else filterset.queryset

    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    order = SORTS[sort.lstrip("-")]
    incidents = incidents.order_by(f"-{order}" if descending else order, "-pk" if descending else "pk")

    try:
        per_page = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        per_page = PAGE_SIZES[0]
    if per_page not in PAGE_SIZES:
        per_page = PAGE_SIZES[0]
    page = Paginator(incidents, per_page).get_page(request.GET.get("page"))

    context = {
        "page": page,
        "filterset": filterset,
        "queue": queue,
        "queues": QUEUES,
        "sort": sort,
        "sort_field": sort.lstrip("-"),
        "sort_descending": descending,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "states": IncidentState.choices,
        "priorities": Priority.choices,
        "selected_states": request.GET.getlist("state"),
        "selected_priorities": request.GET.getlist("priority"),
        "teams": Team.objects.filter(active=True).only("id", "name"),
        "agents": agents_queryset().only("id", "username", "first_name", "last_name"),
        "columns": _columns(sort),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        response = render(request, "incidents/partials/incident_table.html", context)
    else:
        response = render(request, "incidents/incident_list.html", context)
    # The same URL answers with a fragment or a page: caches and the back button must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the incident page ------------------------------------------------------------------------------------------


@dataclass
class TransitionAction:
    """One transition button on the incident page, with its form and the service it calls."""

    name: str
    label: str
    form_class: type
    style: str = ""
    help: str = ""
    form: Any = None
    open: bool = False


TRANSITION_ORDER = ("start", "resume", "hold", "resolve", "reopen", "close", "cancel")
TRANSITION_FORMS = {
    "start": EmptyForm,
    "resume": EmptyForm,
    "hold": HoldForm,
    "resolve": ResolveForm,
    "reopen": ReopenForm,
    "close": EmptyForm,
    "cancel": CancelForm,
}


def _transition_label(name: str, incident: Incident) -> tuple[str, str]:
    labels = {
        "start": (_("Start work"), "primary"),
        "resume": (_("Resume"), "primary"),
        "hold": (_("Change hold reason") if incident.state == IncidentState.ON_HOLD else _("Put on hold"), ""),
        "resolve": (_("Resolve"), "success"),
        "reopen": (_("Reopen"), ""),
        "close": (_("Close"), ""),
        "cancel": (_("Cancel incident"), "danger"),
    }
    return labels[name]


def _run_transition(name: str, incident: Incident, by, data: dict) -> Incident:
    """Call the service for transition `name` with the form's cleaned data."""
    if name == "start":
        return services.incident_start(incident=incident, by=by)
    if name == "resume":
        return services.incident_resume(incident=incident, by=by)
    if name == "hold":
        return services.incident_hold(incident=incident, by=by, reason=data["hold_reason"], comment=data["comment"])
    if name == "resolve":
        return services.incident_resolve(
            incident=incident, by=by, close_code=data["close_code"], close_notes=data["close_notes"]
        )
    if name == "reopen":
        return services.incident_reopen(incident=incident, by=by, comment=data["comment"])
    if name == "close":
        return services.incident_close(incident=incident, by=by)
    if name == "cancel":
        return services.incident_cancel(incident=incident, by=by, reason=data["reason"])
    raise Http404


def _available_transitions(incident: Incident, user, bound: TransitionAction | None = None) -> list[TransitionAction]:
    available = {t.name for t in incident.get_available_user_state_transitions(user)}
    actions = []
    for name in TRANSITION_ORDER:
        if name not in available:
            continue
        if bound is not None and bound.name == name:
            actions.append(bound)
            continue
        label, style = _transition_label(name, incident)
        form_class = TRANSITION_FORMS[name]
        actions.append(
            TransitionAction(
                name=name, label=label, style=style, form_class=form_class, form=form_class(auto_id=f"id_{name}_%s")
            )
        )
    return actions


@dataclass
class TimelineItem:
    """One row of the journal timeline; consecutive field changes by one actor at one moment form one row."""

    kind: str
    actor: Any
    created_at: Any
    body: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    transition: str = ""
    from_state: str = ""
    to_state: str = ""
    from_value: str = ""
    to_value: str = ""


_CHOICE_FIELDS = {"impact": Impact, "urgency": Urgency, "priority": Priority}


def _field_label(name: str) -> str:
    try:
        return str(Incident._meta.get_field(name).verbose_name).capitalize()
    except Exception:
        return name


def _value_label(name: str, value: str) -> str:
    choices = _CHOICE_FIELDS.get(name)
    if choices is not None and value.isdigit() and int(value) in choices.values:
        return str(choices(int(value)).label)
    if name == "major_incident":
        return _("Yes") if value == "True" else _("No")
    return value


def _state_label(value: str) -> str:
    return str(IncidentState(value).label) if value in IncidentState.values else value


def journal_timeline(entries: list[JournalEntry]) -> list[TimelineItem]:
    """Present journal entries for the timeline, oldest first."""
    items: list[TimelineItem] = []
    for entry in entries:
        if entry.kind == JournalKind.FIELD_CHANGE:
            change = (
                _field_label(entry.field),
                _value_label(entry.field, entry.old_value),
                _value_label(entry.field, entry.new_value),
            )
            last = items[-1] if items else None
            if (
                last is not None
                and last.kind == JournalKind.FIELD_CHANGE
                and last.actor == entry.actor
                and last.created_at == entry.created_at
            ):
                last.changes.append(change)
                continue
            items.append(
                TimelineItem(kind=entry.kind, actor=entry.actor, created_at=entry.created_at, changes=[change])
            )
        elif entry.kind == JournalKind.TRANSITION:
            items.append(
                TimelineItem(
                    kind=entry.kind,
                    actor=entry.actor,
                    created_at=entry.created_at,
                    body=entry.body,
                    transition=entry.transition,
                    from_state=_state_label(entry.from_state) if entry.from_state else "",
                    to_state=_state_label(entry.to_state),
                    from_value=entry.from_state,
                    to_value=entry.to_state,
                )
            )
        else:
            items.append(TimelineItem(kind=entry.kind, actor=entry.actor, created_at=entry.created_at, body=entry.body))
    return items


def _render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    fields_form: IncidentForm | None = None,
    comment_form: CommentForm | None = None,
    bound_transition: TransitionAction | None = None,
    status: int = 200,
) -> HttpResponse:
    timeline = journal_timeline(list(journal_visible_to(ticket=incident, user=request.user)))
    timeline.reverse()  # newest first under the composer
    context = {
        "incident": incident,
        "fields_form": fields_form or IncidentForm.for_incident(incident),
        "editable": incident.active,
        "comment_form": comment_form or CommentForm(auto_id="id_c_%s"),
        "transitions": _available_transitions(incident, request.user, bound_transition),
        "timeline": timeline,
        "children": list(incident.children.select_related("assigned_to").order_by("number")),
        "awaiting_caller": incident.hold_reason is not None and incident.hold_reason.slug == AWAITING_CALLER,
        "sla_clocks": clocks_for_display(ticket=incident),
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


@agent_required
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The incident page (GET) and its fields form (POST saves through incident_update)."""
    incident = _get_incident(request, number)
    if request.method != "POST":
        return _render_detail(request, incident)
    form = IncidentForm.for_incident(incident, data=request.POST)
    if form.is_valid():
        try:
            services.incident_update(incident=incident, by=request.user, **form.changes())
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(number)s saved.") % {"number": incident.number})
            return redirect(incident_url(incident))
    messages.error(request, _("Not saved: please correct the highlighted fields."))
    # The service may have changed the object before refusing: show what is stored.
    return _render_detail(request, _get_incident(request, number), fields_form=form, status=400)


def incident_url(incident: Incident) -> str:
    return reverse("incidents:incident_detail", args=[incident.number])


@agent_required
@require_POST
def incident_transition(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """Run one transition with its required fields; a refused transition answers 409 and changes nothing."""
    if name not in TRANSITION_FORMS:
        raise Http404
    incident = _get_incident(request, number)
    label, style = _transition_label(name, incident)
    form_class = TRANSITION_FORMS[name]
    form = form_class(request.POST, auto_id=f"id_{name}_%s")
    action = TransitionAction(name=name, label=label, style=style, form_class=form_class, form=form, open=True)
    if form.is_valid():
        try:
            _run_transition(name, incident, request.user, form.cleaned_data)
        except (TransitionNotAllowed, ConcurrentTransition):
            messages.error(
                request,
                _("“%(action)s” is not possible now: %(number)s has changed meanwhile or is in another state.")
                % {"action": label, "number": number},
            )
            return _render_detail(request, _get_incident(request, number), status=409)
        except PermissionDenied:
            messages.error(request, _("You may not do “%(action)s” on this incident.") % {"action": label})
            return _render_detail(request, _get_incident(request, number), status=403)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%(number)s: %(action)s done.") % {"number": number, "action": label})
            return redirect(incident_url(incident))
    return _render_detail(request, _get_incident(request, number), bound_transition=action, status=400)


@agent_required
@require_POST
def incident_comment(request: HttpRequest, number: str) -> HttpResponse:
    """Add a public comment or a work note to the journal."""
    incident = _get_incident(request, number)
    form = CommentForm(request.POST, auto_id="id_c_%s")
    if form.is_valid():
        try:
            services.incident_comment(
                incident=incident, by=request.user, body=form.cleaned_data["body"], kind=form.cleaned_data["kind"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            if form.cleaned_data["kind"] == JournalKind.WORK_NOTE:
                messages.success(request, _("Work note added."))
            else:
                messages.success(request, _("Comment added; the caller will be notified."))
            return redirect(incident_url(incident) + "#journal")
    return _render_detail(request, _get_incident(request, number), comment_form=form, status=400)


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
            return redirect(incident_url(incident))
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/incident_create.html", {"form": form}, status=status)
