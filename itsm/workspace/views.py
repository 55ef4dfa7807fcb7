"""The generic agent workspace: lists, the ticket page, transitions, the composer, attachments, bulk actions, CSV
export and saved filters, for every practice registered in itsm.workspace.

Views read through the practices' selectors and FilterSets and write through their services only.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from itsm.csvsafe import csv_safe
from itsm.enums import JournalKind
from itsm.errors import StateConflict
from itsm.models import SavedFilter, Team, Ticket
from itsm.registry import suggestion_provider
from itsm.rules import is_agent
from itsm.selectors import attachment_list_visible_to, journal_visible_to, ticket_list_visible_to, watchers_of
from itsm.services import attachment_add, ticket_watcher_remove, ticket_watchers_add
from itsm.workspace import Column, Practice, practice_for_kind, practice_for_slug, practices, shared_columns
from itsm.workspace.cells import cell_html
from itsm.workspace.filtersets import TicketFilterSet
from itsm.workspace.forms import (
    AttachmentForm,
    CommentForm,
    SavedFilterForm,
    agents_queryset,
    apply_service_errors,
    fields_form_class,
    serializer_data,
    transition_form_class,
)
from itsm.workspace.paging import capped_count, keyset_page
from itsm.workspace.timeline import journal_timeline
from slas.selectors import clocks_for_display

PAGE_SIZES = (25, 50, 100)

QUEUES = {
    "mine": gettext_lazy("My work"),
    "my_teams": gettext_lazy("My teams' queue"),
    "unassigned": gettext_lazy("Unassigned in my teams"),
}


# The sidebar is narrow: the unassigned queue reads "Unassigned" there (its title says the rest).
SHORT_QUEUE_LABELS = {"unassigned": gettext_lazy("Unassigned")}


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users who are not agents get 404, as if nothing were here."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise Http404
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            # My own changes show in my sidebar counts at once (others' within NAV_COUNTS_SECONDS).
            cache.delete(nav_cache_key(request.user))
        return response

    return wrapper


# --- the cross-practice list (my work, my teams' queues) ---------------------------------------------------------


def _tickets_practice() -> Practice:
    columns = [
        Column("number", gettext_lazy("Number"), kind="number", sort="number"),
        Column("kind", gettext_lazy("Type"), kind="kind"),
        *[c for c in shared_columns() if c.key not in ("number", "state")],
        Column("state", gettext_lazy("State"), attr="state_category", kind="state", sort="state_category"),
    ]
    return Practice(
        slug="tickets",
        kind="",
        model=Ticket,
        label=gettext_lazy("Ticket"),
        label_plural=gettext_lazy("All tickets"),
        visible=ticket_list_visible_to,
        filterset=TicketFilterSet,
        filters=["kind", "state", "priority", "assignment_group", "assigned_to"],
        columns=columns,
        default_columns=[
            "number",
            "kind",
            "short_description",
            "state",
            "priority",
            "assignment_group",
            "assigned_to",
            "opened",
        ],
        transitions_table={},
        record_argument="ticket",
        transitions=[],
        update=lambda **kwargs: None,
        comment=lambda **kwargs: None,
        edit_fields=[],
        default_sort="-opened",
    )


TICKETS = _tickets_practice()


def get_practice(slug: str) -> Practice:
    if slug == TICKETS.slug:
        return TICKETS
    practice = practice_for_slug(slug)
    if practice is None:
        raise Http404
    return practice


def ticket_url(ticket: Ticket) -> str:
    """The ticket page of any ticket (by its practice when unambiguous, else through the number redirect)."""
    candidates = [p for p in practices() if p.kind == ticket.kind]
    if len(candidates) == 1:
        return reverse("workspace:detail", args=[candidates[0].slug, ticket.number])
    return reverse("workspace:goto", args=[ticket.number])


def team_agents(user):
    """Agents in my teams: whom I assign to from lists (a desk can have thousands of agents)."""
    return agents_queryset().filter(teams__in=my_team_ids(user))


def my_team_ids(user) -> list[int]:
    cache = getattr(user, "_ws_team_ids", None)
    if cache is None:
        cache = list(Team.objects.filter(members=user).values_list("pk", flat=True))
        user._ws_team_ids = cache
    return cache


def queue_filter(queryset, user, queue: str):
    """The quick queues, on any ticket queryset."""
    if queue == "mine":
        return queryset.filter(assigned_to=user, active=True)
    if queue == "my_teams":
        return queryset.filter(assignment_group__in=my_team_ids(user), active=True)
    if queue == "unassigned":
        return queryset.filter(assignment_group__in=my_team_ids(user), assigned_to__isnull=True, active=True)
    return queryset


NAV_COUNTS_SECONDS = 20


def nav_cache_key(user) -> str:
    return f"workspace:nav:{user.pk}"


def _nav_counts(user) -> dict[str, tuple[int, bool]]:
    """The sidebar's counts for this user, each an index-backed COUNT over at most COUNT_CAP + 1 rows; kept for
    NAV_COUNTS_SECONDS so paging through a list does not recount (a change shows within that time)."""
    key = nav_cache_key(user)
    counts = cache.get(key)
    if counts is None:
        counts = {f"queue:{name}": capped_count(queue_filter(Ticket.objects.all(), user, name)) for name in QUEUES}
        for team_id in my_team_ids(user):
            counts[f"team:{team_id}"] = capped_count(Ticket.objects.filter(assignment_group=team_id, active=True))
        for declared in practices():
            visible = declared.visible(user=user).select_related(None).prefetch_related(None)
            counts[f"practice:{declared.slug}"] = capped_count(visible.filter(kind=declared.kind, active=True))
        cache.set(key, counts, NAV_COUNTS_SECONDS)
    return counts


def nav_context(
    request: HttpRequest, *, practice: Practice | None = None, queue: str = "", dashboard: str = ""
) -> dict:
    """The sidebar: my queues across practices, my teams' queues and each practice's open tickets, with counts."""
    user = request.user
    counts = _nav_counts(user)
    tickets_url = reverse("workspace:list", args=[TICKETS.slug])
    on_tickets = practice is not None and practice.slug == TICKETS.slug
    queues = [
        {
            "key": key,
            "label": SHORT_QUEUE_LABELS.get(key, label),
            "title": label,
            "url": f"{tickets_url}?queue={key}",
            "count": counts[f"queue:{key}"][0],
            "more": counts[f"queue:{key}"][1],
            "active": on_tickets and queue == key,
        }
        for key, label in QUEUES.items()
    ]
    teams = [
        {
            "key": f"team-{team.pk}",
            "label": team.name,
            "url": f"{tickets_url}?{urlencode({'assignment_group': team.name, 'active': 'true'})}",
            "count": counts.get(f"team:{team.pk}", (0, False))[0],
            "more": counts.get(f"team:{team.pk}", (0, False))[1],
            "active": on_tickets and not queue and request.GET.get("assignment_group") == team.name,
        }
        for team in Team.objects.filter(pk__in=my_team_ids(user)).only("id", "name")
    ]
    entries = [
        {
            "slug": declared.slug,
            "label": declared.label_plural,
            "url": reverse("workspace:list", args=[declared.slug]) + "?active=true",
            "count": counts.get(f"practice:{declared.slug}", (0, False))[0],
            "more": counts.get(f"practice:{declared.slug}", (0, False))[1],
            "active": practice is not None and practice.slug == declared.slug,
        }
        for declared in practices()
    ]
    return {"queues": queues, "teams": teams, "practices": entries, "dashboard": dashboard}


# --- the list ---------------------------------------------------------------------------------------------------


def _chosen_columns(practice: Practice, request: HttpRequest) -> list[Column]:
    keys = [k for k in request.GET.get("cols", "").split(",") if practice.column(k)]
    return [practice.column(k) for k in (keys or practice.default_columns)]


def _sort(practice: Practice, request: HttpRequest) -> tuple[str, Column]:
    sort = request.GET.get("sort", "")
    column = practice.column(sort.lstrip("-"))
    if column is None or not column.sort:
        sort = practice.default_sort
        column = practice.column(sort.lstrip("-"))
    return sort, column


def list_queryset(practice: Practice, request: HttpRequest):
    """The filtered list (visibility, queue, the practice's FilterSet): shared by the page, the CSV and bulk actions."""
    queue = request.GET.get("queue", "")
    base = queue_filter(practice.visible(user=request.user), request.user, queue if queue in QUEUES else "")
    if practice.kind:
        # Redundant with the practice's table, but it lets PostgreSQL walk the Ticket (kind, ...) indexes in order.
        base = base.filter(kind=practice.kind)
    data = request.GET.copy()
    for name in ("sort", "cursor", "cols", "per_page", "queue", "saved"):
        data.pop(name, None)
    filterset = practice.filterset(data or None, queryset=base)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    return filterset, queryset


def _cells(practice: Practice, row: Any, columns: list[Column]) -> list[tuple[Column, Any]]:
    cells = []
    for column in columns:
        if column.kind == "state":
            if practice.model is Ticket:
                value = (row.state_category, row.get_state_category_display())
            else:
                value = (row.state, row.get_state_display())
        elif column.kind == "priority":
            value = (row.priority, row.get_priority_display())
        elif column.kind == "kind":
            value = (row.kind, row.get_kind_display())
        else:
            value = resolve(row, column.path)
        cells.append((column, value))
    return cells


def resolve(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def _sort_links(practice: Practice, columns: list[Column], sort: str, request: HttpRequest) -> list[dict]:
    links = []
    for column in columns:
        entry = {"column": column, "direction": "", "url": ""}
        if column.sort:
            if sort == column.key:
                entry["direction"], nxt = "asc", f"-{column.key}"
            elif sort == f"-{column.key}":
                entry["direction"], nxt = "desc", column.key
            else:
                nxt = f"-{column.key}" if column.kind == "datetime" else column.key
            entry["url"] = _query(request, sort=nxt, cursor=None)
        links.append(entry)
    return links


def _query(request: HttpRequest, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    data = request.GET.copy()
    for key, value in changes.items():
        data.pop(key, None)
        if value not in (None, ""):
            data[key] = value
    encoded = data.urlencode()
    return f"?{encoded}" if encoded else "?"


def _list_context(practice: Practice, request: HttpRequest) -> dict:
    filterset, queryset = list_queryset(practice, request)
    columns = _chosen_columns(practice, request)
    sort, sort_column = _sort(practice, request)
    related = sorted({name for c in columns for name in c.select_related})
    # Only the joins the chosen columns need (the selectors join what the API shows; planning a twenty-table join
    # costs more than running it).
    queryset = queryset.select_related(None).prefetch_related(None)
    if related:
        queryset = queryset.select_related(*related)
    try:
        per_page = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        per_page = PAGE_SIZES[0]
    if per_page not in PAGE_SIZES:
        per_page = PAGE_SIZES[0]
    page = keyset_page(
        queryset,
        field=sort_column.sort,
        descending=sort.startswith("-"),
        per_page=per_page,
        cursor=request.GET.get("cursor", ""),
    )
    count, more = capped_count(queryset)
    queue = request.GET.get("queue", "")
    rows = []
    for row in page.rows:
        url = _row_url(practice, row)
        cells = [(c, cell_html(c, v, url=url, ticket=row)) for c, v in _cells(practice, row, columns)]
        rows.append({"ticket": row, "url": url, "cells": cells})
    return {
        "practice": practice,
        "practices": practices(),
        "rows": rows,
        "page": page,
        "count": count,
        "count_more": more,
        "filterset": filterset,
        "filter_fields": _filter_fields(practice, filterset, request),
        "queue": queue if queue in QUEUES else "",
        "queues": QUEUES,
        "sort": sort,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "columns": columns,
        "all_columns": practice.columns,
        "chosen_keys": [c.key for c in columns],
        "sort_links": _sort_links(practice, columns, sort, request),
        "next_url": _query(request, cursor=page.next_cursor) if page.next_cursor else "",
        "prev_url": _query(request, cursor=page.prev_cursor) if page.prev_cursor else "",
        "export_url": reverse("workspace:export", args=[practice.slug]) + _query(request, cursor=None),
        "list_url": reverse("workspace:list", args=[practice.slug]),
        "saved_filters": SavedFilter.objects.filter(user=request.user, practice=practice.slug),
        "bulk_transitions": _bulk_transitions(practice),
        "agents": team_agents(request.user).only("id", "username", "first_name", "last_name"),
        "query_string": request.GET.urlencode(),
        "nav": nav_context(request, practice=practice, queue=queue),
    }


def _bulk_transitions(practice: Practice) -> list:
    """The list's bulk transition buttons; across practices, each name once (taken where a ticket's practice has it)."""
    if practice.model is not Ticket:
        return [t for t in practice.transitions if t.bulk]
    by_name = {}
    for declared in practices():
        for transition in declared.transitions:
            if transition.bulk:
                by_name.setdefault(transition.name, transition)
    return list(by_name.values())


def _filter_fields(practice: Practice, filterset, request: HttpRequest) -> list[dict]:
    """The declared filters of the practice's FilterSet, described for the filter bar."""
    from django import forms as django_forms
    from django.contrib.auth import get_user_model

    described = []
    for name in practice.filters:
        if name not in filterset.form.fields:
            continue
        field = filterset.form.fields[name]
        selected = request.GET.getlist(name)
        entry = {"name": name, "label": field.label or name.replace("_", " ").capitalize(), "selected": selected}
        if isinstance(field, django_forms.MultipleChoiceField):
            entry |= {"kind": "multi", "options": [(str(v), label) for v, label in field.choices]}
        elif isinstance(field, django_forms.NullBooleanField | django_forms.BooleanField):
            entry |= {"kind": "bool"}
        elif isinstance(field, django_forms.ModelMultipleChoiceField):
            # Several records by id (categories): labels may name a parent, read in the same query.
            queryset = field.queryset
            if any(f.name == "parent" for f in queryset.model._meta.fields):
                queryset = queryset.select_related("parent")
            entry |= {"kind": "multi", "options": [(str(o.pk), str(o)) for o in queryset[:200]]}
        elif isinstance(field, django_forms.ModelChoiceField):
            queryset = field.queryset
            if queryset.model is get_user_model():
                options = [(u.username, u.get_full_name() or u.username) for u in team_agents(request.user)[:200]]
            else:
                label_field = getattr(field, "name_field", "name")
                options = [(str(getattr(o, label_field)), str(o)) for o in queryset.order_by(label_field)[:200]]
            entry |= {"kind": "select", "options": options}
        else:
            entry |= {"kind": "text"}
        described.append(entry)
    return described


def _row_url(practice: Practice, row: Any) -> str:
    if practice.model is Ticket:
        return ticket_url(row)
    return reverse("workspace:detail", args=[practice.slug, row.number])


@agent_required
def ticket_list(request: HttpRequest, practice: str) -> HttpResponse:
    """A practice's list (or all tickets): quick queues, its FilterSet, chosen columns, sorting, keyset pages."""
    declared = get_practice(practice)
    context = _list_context(declared, request)
    htmx = getattr(request, "htmx", None)
    template = "workspace/list.html"
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        template = "workspace/partials/table.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches and the back button must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _csv_value(column: Column, value: Any) -> str:
    if isinstance(value, tuple):
        return str(value[1])
    if column.kind == "user" and value is not None:
        return value.get_username()
    if column.kind == "datetime" and value is not None:
        return value.isoformat()
    return "" if value is None else str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


@agent_required
def ticket_export(request: HttpRequest, practice: str) -> StreamingHttpResponse:
    """The filtered, sorted list as CSV (every row, streamed), with formula cells neutralised."""
    declared = get_practice(practice)
    _filterset, queryset = list_queryset(declared, request)
    columns = _chosen_columns(declared, request)
    sort, sort_column = _sort(declared, request)
    related = sorted({name for c in columns for name in c.select_related})
    order = [f"-{sort_column.sort}", "-id"] if sort.startswith("-") else [sort_column.sort, "id"]
    rows = queryset.select_related(None).prefetch_related(None).select_related(*related).order_by(*order)
    rows = rows.iterator(chunk_size=2000)
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([csv_safe(c.label) for c in columns])
        for row in rows:
            yield writer.writerow([csv_safe(_csv_value(c, v)) for c, v in _cells(declared, row, columns)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{declared.slug}.csv"'
    return response


@agent_required
@require_POST
def ticket_bulk(request: HttpRequest, practice: str) -> HttpResponse:
    """Assign, or take a transition on, the selected tickets, one service call each, each in its own transaction.

    On a practice's list every ticket goes through that practice; on the cross-practice queues (my work, my teams'
    queues, unassigned) each goes through its own practice's services, and a transition is taken where that
    practice declares it as a bulk action. Each ticket's result is reported after: done, 409 (not allowed in its
    state or practice), 400 (bad input) or 404 (not found or not visible, numbers not shown)."""
    declared = get_practice(practice)
    back = reverse("workspace:list", args=[declared.slug]) + "?" + request.POST.get("back", "")
    ids = list(dict.fromkeys(int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 19))[:100]
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("Select at least one ticket."))
        return redirect(_safe_next(request) or back)
    results = [(number, *_bulk_try(declared_for, request, ticket, action)) for number, declared_for, ticket in
               _bulk_targets(declared, request, ids)]  # fmt: skip
    done = [number for number, status, _reason in results if status == 200]
    refused = [f"{number} ({status}: {reason})" for number, status, reason in results if status != 200]
    missing = len(ids) - len(results)
    if done:
        messages.success(request, _("Done on %(n)d: %(numbers)s.") % {"n": len(done), "numbers": ", ".join(done)})
    if refused:
        messages.error(request, _("Not done: %(list)s.") % {"list": "; ".join(refused)})
    if missing:
        messages.error(request, _("Not done on %(n)d selected (404: not found).") % {"n": missing})
    return redirect(_safe_next(request) or back)


def _bulk_targets(declared: Practice, request: HttpRequest, ids: list[int]) -> list[tuple[str, Practice, Any]]:
    """(number, practice, record) for each selected ticket this agent may see, in number order; one query per
    practice involved. On the cross-practice list each ticket is read through its own practice's selector."""
    if declared.model is not Ticket:
        groups = [(declared, ids)]
    else:
        kinds: dict[str, list[int]] = {}
        for pk, kind in ticket_list_visible_to(user=request.user).filter(pk__in=ids).values_list("pk", "kind"):
            kinds.setdefault(kind, []).append(pk)
        groups = [(practice_for_kind(kind), pks) for kind, pks in kinds.items()]
    found = []
    for owner, pks in groups:
        if owner is None:
            continue  # a kind no practice shows in the workspace: not found here
        visible = owner.visible(user=request.user).select_related(None).prefetch_related(None)
        found += [(t.number, owner, t) for t in visible.filter(pk__in=pks)]
    return sorted(found, key=lambda found_one: found_one[0])


def _bulk_try(practice: Practice, request: HttpRequest, ticket: Any, action: str) -> tuple[int, str]:
    """Run one bulk action on one ticket in its own transaction: (200, "") or (status, reason)."""
    try:
        with transaction.atomic():
            _bulk_one(practice, request, ticket, action)
    except _NotInPractice:
        return 409, str(_("not a step of its practice"))
    except ValidationError as error:
        return 400, _reason(error)
    except (PermissionDenied, TransitionNotAllowed, ConcurrentTransition) as error:
        return 409, _reason(error)
    return 200, ""


class _NotInPractice(Exception):
    """The transition asked for is not a bulk action of this ticket's practice."""


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/workspace/") and "//" not in target and "\\" not in target else ""


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    if isinstance(error, TransitionNotAllowed | ConcurrentTransition):
        return _("not allowed in its state")
    return str(error) or _("not permitted")


def _bulk_one(practice: Practice, request: HttpRequest, ticket: Any, action: str) -> None:
    kwargs = {practice.record_argument: ticket, "by": request.user}
    if action == "assign_me":
        practice.update(**kwargs, assigned_to=request.user)
    elif action == "assign":
        username = request.POST.get("assigned_to", "")
        agent = agents_queryset().filter(username=username).first()
        if agent is None:
            raise ValidationError({"assigned_to": _("Choose an agent.")})
        practice.update(**kwargs, assigned_to=agent)
    elif action.startswith("transition:"):
        declared = practice.transition(action.split(":", 1)[1])
        if declared is None or not declared.bulk:
            raise _NotInPractice
        _input, service, mapper = practice.transitions_table[declared.name]
        service(**kwargs, **mapper({}))
    else:
        raise ValidationError(_("Unknown action."))


@agent_required
@require_POST
def saved_filter_save(request: HttpRequest, practice: str) -> HttpResponse:
    declared = get_practice(practice)
    form = SavedFilterForm(request.POST)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("cursor", None)
    if form.is_valid():
        SavedFilter.objects.update_or_create(
            user=request.user,
            practice=declared.slug,
            name=form.cleaned_data["name"].strip(),
            defaults={"query": query.urlencode()[:2000]},
        )
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
    else:
        messages.error(request, _("Give the filter a name."))
    return redirect(reverse("workspace:list", args=[declared.slug]) + "?" + query.urlencode())


@agent_required
@require_POST
def saved_filter_delete(request: HttpRequest, practice: str, pk: int) -> HttpResponse:
    deleted, _rows = SavedFilter.objects.filter(user=request.user, practice=practice, pk=pk).delete()
    if not deleted:
        raise Http404
    messages.success(request, _("Filter deleted."))
    return redirect(reverse("workspace:list", args=[practice]))


# --- the ticket page ----------------------------------------------------------------------------------------------


@dataclass
class TransitionAction:
    """One transition button on the ticket page, with its input form."""

    name: str
    label: str
    style: str
    form: Any
    open: bool = False


DETAIL_RELATED = ("caller", "assignment_group", "assigned_to", "service", "configuration_item")


def get_ticket(practice: Practice, request: HttpRequest, number: str):
    # The selectors join everything the API shows; the page needs a few of them (the rest load lazily), and a
    # twenty-table join costs more to plan than to run.
    ticket = (
        practice.visible(user=request.user)
        .select_related(None)
        .prefetch_related(None)
        .select_related(*DETAIL_RELATED)
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def _transition_form(practice: Practice, name: str, data=None):
    input_class = practice.transitions_table[name][0]
    return transition_form_class(input_class)(data, auto_id=f"id_{name}_%s")


def _available_transitions(practice: Practice, ticket: Any, user, bound: TransitionAction | None) -> list:
    available = {t.name for t in ticket.get_available_user_state_transitions(user)}
    actions = []
    for declared in practice.transitions:
        if declared.name not in available:
            continue
        if bound is not None and bound.name == declared.name:
            actions.append(bound)
        else:
            actions.append(
                TransitionAction(
                    declared.name, declared.label, declared.style, _transition_form(practice, declared.name)
                )
            )
    return actions


def _links(practice: Practice, ticket: Any) -> list:
    return [group for group in (practice.links(ticket) if practice.links else []) if group.tickets]


def _related_on_ci(ticket: Any) -> list:
    if not ticket.configuration_item_id:
        return []
    related = (
        Ticket.objects.filter(configuration_item_id=ticket.configuration_item_id, active=True)
        .exclude(pk=ticket.pk)
        .order_by("-opened_at", "-id")[:8]
    )
    return [{"ticket": t, "url": ticket_url(t)} for t in related]


def render_detail(
    request: HttpRequest,
    practice: Practice,
    ticket: Any,
    *,
    fields_form=None,
    comment_form=None,
    bound: TransitionAction | None = None,
    conflict: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    entries = list(journal_visible_to(ticket=ticket, user=request.user))
    timeline = journal_timeline(entries, practice=practice)
    timeline.reverse()  # newest first under the composer
    context = {
        "practice": practice,
        "practices": practices(),
        "ticket": ticket,
        "fields_form": fields_form or _fields_form(practice, ticket),
        "editable": ticket.active,
        "comment_form": comment_form or CommentForm(auto_id="id_c_%s"),
        "attachment_form": AttachmentForm(auto_id="id_a_%s"),
        "attachments": list(attachment_list_visible_to(user=request.user, ticket=ticket)),
        "transitions": _available_transitions(practice, ticket, request.user, bound),
        "timeline": timeline,
        "facts": [(label, resolve(ticket, path)) for label, path in practice.facts if resolve(ticket, path)],
        "links": _links(practice, ticket),
        "related": _related_on_ci(ticket),
        "sla_clocks": clocks_for_display(ticket=ticket),
        "conflict": conflict,
        "list_url": reverse("workspace:list", args=[practice.slug]),
        **_watchers_context(request, ticket),
        "suggestion": _suggestion(ticket),
    }
    return render(request, "workspace/detail.html", context, status=status)


def _watchers_context(request: HttpRequest, ticket: Any, *, error: str = "") -> dict:
    """The watchers panel: the list (one query), whether the current agent is on it, and an add-by-username error."""
    watchers = list(watchers_of(ticket=ticket))
    return {
        "watchers": watchers,
        "watching": any(w.user_id == request.user.pk for w in watchers),
        "watcher_error": error,
    }


def _suggestion(ticket: Any) -> dict | None:
    provider = suggestion_provider()
    return provider.pending(ticket) if provider is not None else None


def _fields_form(practice: Practice, ticket: Any, data=None):
    form = fields_form_class(practice.model, practice.edit_fields).for_ticket(ticket, data=data)
    if data is None and "assigned_to" in form.fields and ticket.assignment_group_id:
        # The assignee must be a member of the group (the service checks it on save): offer only them.
        form.fields["assigned_to"].queryset = agents_queryset().filter(
            Q(teams=ticket.assignment_group_id) | Q(pk=ticket.assigned_to_id or 0)
        )
    return form


def detail_url(practice: Practice, ticket: Any) -> str:
    return reverse("workspace:detail", args=[practice.slug, ticket.number])


def _changes_since(ticket: Any, version: int) -> dict:
    """Who changed the ticket since `version`, and what (field changes and transitions), for the conflict notice."""
    entries = (
        ticket.journal.filter(ticket_version__gt=version, kind__in=[JournalKind.FIELD_CHANGE, JournalKind.TRANSITION])
        .select_related("actor")
        .order_by("created_at", "id")[:50]
    )
    entries = list(entries)
    who = sorted({(e.actor.get_full_name() or e.actor.get_username()) if e.actor else _("System") for e in entries})
    return {"who": ", ".join(who) or _("someone"), "entries": entries}


@agent_required
def ticket_detail(request: HttpRequest, practice: str, number: str) -> HttpResponse:
    """The ticket page (GET) and its fields form (POST saves through the practice's update service, unless the
    ticket changed since the page was loaded: then nothing is saved and the changes are shown)."""
    declared = get_practice(practice)
    if declared.model is Ticket:
        raise Http404
    ticket = get_ticket(declared, request, number)
    if request.method != "POST":
        return render_detail(request, declared, ticket)
    form = _fields_form(declared, ticket, data=request.POST)
    if form.is_valid():
        loaded = form.cleaned_data.get("version")
        try:
            with transaction.atomic():
                # The version lives on the Ticket row: lock that row, so a concurrent save waits and then sees the
                # version the first one wrote.
                version = Ticket.objects.select_for_update().values_list("version", flat=True).get(pk=ticket.pk)
                if loaded is not None and loaded != version:
                    raise _Conflict(loaded)
                current = declared.model.objects.get(pk=ticket.pk)
                declared.update(**{declared.record_argument: current, "by": request.user}, **form.changes())
        except _Conflict as conflict:
            current = get_ticket(declared, request, number)
            messages.error(
                request, _("Not saved: %(number)s was changed since you loaded the page.") % {"number": number}
            )
            return render_detail(
                request,
                declared,
                current,
                fields_form=form,
                conflict=_changes_since(current, conflict.version),
                status=409,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(number)s saved.") % {"number": ticket.number})
            return redirect(detail_url(declared, ticket))
    messages.error(request, _("Not saved: please correct the highlighted fields."))
    return render_detail(request, declared, get_ticket(declared, request, number), fields_form=form, status=400)


class _Conflict(Exception):
    def __init__(self, version: int):
        self.version = version


@agent_required
@require_POST
def ticket_transition(request: HttpRequest, practice: str, number: str, name: str) -> HttpResponse:
    """Run one transition with its required fields; a refused transition answers 409 and changes nothing."""
    declared = get_practice(practice)
    transition_decl = declared.transition(name)
    if transition_decl is None or name not in declared.transitions_table:
        raise Http404
    ticket = get_ticket(declared, request, number)
    input_class, service, mapper = declared.transitions_table[name]
    form = _transition_form(declared, name, request.POST)
    form.is_valid()
    action = TransitionAction(name, transition_decl.label, transition_decl.style, form, open=True)
    serializer = input_class(data=serializer_data(input_class, request.POST), context={"request": request})
    if not serializer.is_valid():
        apply_service_errors(form, serializer.errors)
        return render_detail(request, declared, ticket, bound=action, status=400)
    try:
        with transaction.atomic():
            service(**{declared.record_argument: ticket, "by": request.user}, **mapper(dict(serializer.validated_data)))
    except (TransitionNotAllowed, ConcurrentTransition):
        messages.error(
            request,
            _("“%(action)s” is not possible now: %(number)s has changed meanwhile or is in another state.")
            % {"action": transition_decl.label, "number": number},
        )
        return render_detail(request, declared, get_ticket(declared, request, number), status=409)
    except PermissionDenied:
        messages.error(request, _("You may not do “%(action)s” on this ticket.") % {"action": transition_decl.label})
        return render_detail(request, declared, get_ticket(declared, request, number), status=403)
    except ValidationError as error:
        apply_service_errors(form, error)
        return render_detail(request, declared, get_ticket(declared, request, number), bound=action, status=400)
    messages.success(request, _("%(number)s: %(action)s done.") % {"number": number, "action": transition_decl.label})
    return redirect(detail_url(declared, ticket))


@agent_required
@require_POST
def ticket_comment(request: HttpRequest, practice: str, number: str) -> HttpResponse:
    """Add a public comment or a work note to the journal."""
    declared = get_practice(practice)
    ticket = get_ticket(declared, request, number)
    form = CommentForm(request.POST, auto_id="id_c_%s")
    if form.is_valid():
        try:
            declared.comment(
                **{declared.record_argument: ticket, "by": request.user},
                body=form.cleaned_data["body"],
                kind=form.cleaned_data["kind"],
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
            return redirect(detail_url(declared, ticket) + "#journal")
    return render_detail(request, declared, get_ticket(declared, request, number), comment_form=form, status=400)


@agent_required
@require_POST
def ticket_attach(request: HttpRequest, practice: str, number: str) -> HttpResponse:
    """Attach a file (validated by the kernel: size, type, content)."""
    declared = get_practice(practice)
    ticket = get_ticket(declared, request, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(
                ticket=ticket, by=request.user, uploaded=form.cleaned_data["file"], public=form.cleaned_data["public"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("File attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect(detail_url(declared, ticket) + "#attachments")


@agent_required
@require_POST
def ticket_watchers(request: HttpRequest, practice: str, number: str) -> HttpResponse:
    """The watchers panel: "watch" / "unwatch" for the current agent, "add" / "remove" someone by username. With htmx
    the panel is swapped in place; otherwise back to the ticket page. An unknown username is a 400 naming it."""
    declared = get_practice(practice)
    ticket = get_ticket(declared, request, number)
    action = request.POST.get("action", "")
    username = (request.POST.get("username") or "").strip()
    error, status = "", 200
    try:
        if action in ("watch", "unwatch"):
            user = request.user
        elif action in ("add", "remove"):
            # A NUL byte or an over-long name can be no username (and NUL would fail in PostgreSQL's driver).
            users = User.objects.filter(username=username) if "\x00" not in username and len(username) <= 150 else None
            user = None if users is None else (users.filter(is_active=True) if action == "add" else users).first()
            if user is None:
                raise ValidationError({"username": _("No active user “%(name)s”.") % {"name": username}})
        else:
            raise ValidationError({"action": _("Unknown action.")})
        if action in ("watch", "add"):
            ticket_watchers_add(ticket=ticket, users=[user], by=request.user)
        else:
            ticket_watcher_remove(ticket=ticket, user=user, by=request.user)
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 400
    if getattr(request, "htmx", None):
        context = {"practice": declared, "ticket": ticket, **_watchers_context(request, ticket, error=error)}
        return render(request, "workspace/partials/watchers.html", context, status=status)
    if error:
        messages.error(request, error)
    return redirect(detail_url(declared, ticket) + "#watchers")


@agent_required
@require_POST
def ticket_suggestion(request: HttpRequest, practice: str, number: str) -> HttpResponse:
    """Apply (through the categoriser's service, journaled with its confidence) or dismiss the pending category
    suggestion; 409 when none is pending any more."""
    declared = get_practice(practice)
    ticket = get_ticket(declared, request, number)
    provider = suggestion_provider()
    action = request.POST.get("action", "")
    if provider is None:
        raise Http404
    if action not in ("apply", "dismiss"):
        messages.error(request, _("Choose apply or dismiss."))
        return render_detail(request, declared, ticket, status=400)
    try:
        with transaction.atomic():
            if action == "apply":
                provider.apply(ticket=ticket, by=request.user)
            else:
                provider.dismiss(ticket=ticket, by=request.user)
    except StateConflict:
        messages.error(request, _("%(number)s has no suggestion to apply any more.") % {"number": number})
        return render_detail(request, declared, get_ticket(declared, request, number), status=409)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render_detail(request, declared, get_ticket(declared, request, number), status=400)
    if action == "apply":
        messages.success(request, _("Suggestion applied."))
    else:
        messages.success(request, _("Suggestion dismissed."))
    return redirect(detail_url(declared, ticket))


@agent_required
def ticket_goto(request: HttpRequest, number: str) -> HttpResponse:
    """/workspace/t/<number>/: the ticket page of any visible ticket by its number."""
    text = number.strip().upper()
    for declared in practices():
        if declared.visible(user=request.user).filter(number=text).exists():
            return redirect(reverse("workspace:detail", args=[declared.slug, text]))
    raise Http404


@agent_required
def workspace_home(request: HttpRequest) -> HttpResponse:
    """Agents land on their work across practices."""
    return redirect(reverse("workspace:list", args=[TICKETS.slug]) + "?" + urlencode({"queue": "mine"}))


SEARCH_LIMIT = 10


@agent_required
def workspace_search(request: HttpRequest) -> HttpResponse:
    """Global search: a full ticket number opens that ticket; other text searches every practice's list through
    its own FilterSet's `q` (number and short description), a few rows each, with a link to the full list."""
    query = request.GET.get("q", "").strip()[:200]
    groups = []
    if query:
        for declared in practices():
            visible = declared.visible(user=request.user)
            exact = visible.filter(number=query.upper()).values_list("number", flat=True).first()
            if exact is not None:
                return redirect(reverse("workspace:detail", args=[declared.slug, exact]))
        for declared in practices():
            visible = declared.visible(user=request.user).select_related(None).prefetch_related(None)
            filterset = declared.filterset({"q": query}, queryset=visible)
            if not filterset.is_valid():
                continue
            found = list(filterset.qs.select_related("assigned_to").order_by("-opened_at", "-id")[: SEARCH_LIMIT + 1])
            if found:
                groups.append(
                    {
                        "practice": declared,
                        "rows": [{"ticket": t, "url": detail_url(declared, t)} for t in found[:SEARCH_LIMIT]],
                        "more": len(found) > SEARCH_LIMIT,
                        "list_url": reverse("workspace:list", args=[declared.slug]) + "?" + urlencode({"q": query}),
                    }
                )
    context = {"search_query": query, "groups": groups, "nav": nav_context(request)}
    return render(request, "workspace/search.html", context)


# --- dashboards -----------------------------------------------------------------------------------------------------

DASHBOARD_DAYS = (7, 14, 30, 90)


def dashboard_teams(request: HttpRequest) -> tuple[list[int], list]:
    """The teams a dashboard covers: the one asked for (any active team), else the teams I manage, else mine."""
    teams = list(Team.objects.filter(active=True).only("id", "name", "manager"))
    asked = request.GET.get("team", "")
    if asked.isdigit() and any(t.pk == int(asked) for t in teams):
        return [int(asked)], teams
    managed = [t.pk for t in teams if t.manager_id == request.user.pk]
    return managed or my_team_ids(request.user), teams


def dashboard_days(request: HttpRequest) -> int:
    days = request.GET.get("days", "14")
    return int(days) if days.isdigit() and int(days) in DASHBOARD_DAYS else 14


@agent_required
def agent_dashboard_view(request: HttpRequest) -> HttpResponse:
    """My open tickets by priority, SLA clocks due soon, breached ones."""
    from itsm.workspace.dashboards import agent_dashboard, bar_chart

    data = agent_dashboard(user=request.user)
    chart = bar_chart([(row["label"], row["count"]) for row in data["my_open_by_priority"]])
    for rows in (data["due_soon"], data["breached"]):
        for row in rows:
            row["url"] = reverse("workspace:goto", args=[row["number"]])
    context = {"data": data, "chart": chart, "nav": nav_context(request, dashboard="agent")}
    return render(request, "workspace/dashboard.html", context)


@agent_required
def team_dashboard_view(request: HttpRequest) -> HttpResponse:
    """The team manager's view: backlog by age, created vs resolved, MTTR, SLA compliance, reopen rate."""
    from itsm.workspace.dashboards import bar_chart, line_chart, team_dashboard

    team_ids, teams = dashboard_teams(request)
    days = dashboard_days(request)
    data = team_dashboard(team_ids=team_ids, days=days)
    context = {
        "data": data,
        "teams": teams,
        "team_ids": team_ids,
        "days": days,
        "day_choices": DASHBOARD_DAYS,
        "backlog_chart": bar_chart([(b["label"], b["count"]) for b in data["backlog_by_age"]]),
        "mttr_chart": bar_chart([(m["label"], m["hours"] or 0) for m in data["mttr_by_priority"]]),
        "flow_chart": line_chart(data["created_vs_resolved"], ("created", "resolved")),
        "nav": nav_context(request, dashboard="team"),
    }
    return render(request, "workspace/team_dashboard.html", context)
