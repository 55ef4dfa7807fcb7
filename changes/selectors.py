"""Change reads and the visibility rule: changes and their templates are agents' records; the data conflict detection
works on, gathered with a few indexed queries around one change's window and CIs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import ConfigurationItem, Service
from changes.conflicts import Conflict, Slot, WindowRule, find_conflicts, occurrences
from changes.enums import PLANNED_CHANGE_STATES, ChangeState, ChangeWindowKind, ChangeWindowRecurrence
from changes.models import Change, ChangeConflict, ChangeRiskAnswer, ChangeTask, ChangeTemplate, ChangeWindow
from itsm.rules import is_agent
from slas.selectors import clocks_prefetch

_CLOCKS = clocks_prefetch()
_CONFLICTS = Prefetch(
    "conflicts",
    queryset=ChangeConflict.objects.select_related("other_change", "window", "configuration_item").order_by(
        "kind", "id"
    ),
)


def change_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[Change]:
    """Every change for agents, none for anyone else."""
    if not is_agent(user):
        return Change.objects.none()
    return Change.objects.select_related(
        "caller",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
        "template",
    ).prefetch_related(
        _CLOCKS,
        Prefetch("affected_cis", queryset=ConfigurationItem.objects.only("id", "name")),
        Prefetch("affected_services", queryset=Service.objects.only("id", "name")),
        Prefetch("risk_answers", queryset=ChangeRiskAnswer.objects.select_related("question", "option")),
        _CONFLICTS,
    )


def change_template_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[ChangeTemplate]:
    """Active standard-change templates, for agents."""
    if not is_agent(user):
        return ChangeTemplate.objects.none()
    return ChangeTemplate.objects.filter(active=True).select_related(
        "assignment_group", "service", "configuration_item"
    )


def change_task_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[ChangeTask]:
    """Every change task for agents, none for anyone else."""
    if not is_agent(user):
        return ChangeTask.objects.none()
    return ChangeTask.objects.select_related(
        "change",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
    ).prefetch_related(_CLOCKS)


# --- conflict detection ---------------------------------------------------------------------------------------

_CI_EDGES = ConfigurationItem.depends_on.through
_AFFECTED = Change.affected_cis.through


def _change_cis(change_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each change's CIs: its affected CIs and its own CI (one query for the affected ones)."""
    ids = list(change_ids)
    cis: dict[int, set[int]] = {pk: set() for pk in ids}
    for change_id, ci_id in _AFFECTED.objects.filter(change_id__in=ids).values_list(
        "change_id", "configurationitem_id"
    ):
        cis[change_id].add(ci_id)
    for change_id, ci_id in Change.objects.filter(pk__in=ids, configuration_item__isnull=False).values_list(
        "pk", "configuration_item_id"
    ):
        cis[change_id].add(ci_id)
    return cis


def ci_graph_around(ci_ids: Iterable[int], depth: int) -> dict[int, set[int]]:
    """The `depends_on` edges within `depth` hops of the CIs, both ways: one query per hop and direction."""
    edges: dict[int, set[int]] = {}
    for downstream in (True, False):
        frontier, seen = set(ci_ids), set(ci_ids)
        for _hop in range(depth):
            if not frontier:
                break
            lookup = "from_configurationitem_id__in" if downstream else "to_configurationitem_id__in"
            rows = _CI_EDGES.objects.filter(**{lookup: frontier}).values_list(
                "from_configurationitem_id", "to_configurationitem_id"
            )
            following = set()
            for source, target in rows:
                edges.setdefault(source, set()).add(target)
                following.add(target if downstream else source)
            frontier = following - seen
            seen |= following
    return edges


def window_rule(window: ChangeWindow) -> WindowRule:
    """A window as conflict detection sees it (its CIs and services prefetched)."""
    return WindowRule(
        id=window.pk,
        kind=window.kind,
        name=window.name,
        once=window.recurrence == ChangeWindowRecurrence.ONCE,
        start=window.start,
        end=window.end,
        weekdays=frozenset(window.weekday_numbers) if window.weekdays else frozenset(),
        start_time=window.start_time,
        end_time=window.end_time,
        time_zone=window.time_zone,
        valid_from=window.valid_from,
        valid_until=window.valid_until,
        ci_ids=frozenset(ci.pk for ci in window.configuration_items.all()),
        service_ids=frozenset(service.pk for service in window.services.all()),
        description=window.describe(),
    )


def change_windows_in(*, start: datetime, end: datetime, kinds: Iterable[str] | None = None) -> list[ChangeWindow]:
    """Active windows that may have occurrences in [start, end): one-off ones overlapping it, every weekly one."""
    query = ChangeWindow.objects.filter(active=True).filter(
        Q(recurrence=ChangeWindowRecurrence.ONCE, start__lt=end, end__gt=start)
        | Q(recurrence=ChangeWindowRecurrence.WEEKLY)
    )
    if kinds is not None:
        query = query.filter(kind__in=list(kinds))
    ci_only = ConfigurationItem.objects.only("id", "name")
    service_only = Service.objects.only("id", "name")
    return list(
        query.prefetch_related(
            Prefetch("configuration_items", queryset=ci_only), Prefetch("services", queryset=service_only)
        ).order_by("kind", "name", "pk")
    )


def _maintenance_windows() -> list[ChangeWindow]:
    """Every active maintenance window (a CI 'has' maintenance windows whatever their dates)."""
    return list(
        ChangeWindow.objects.filter(active=True, kind=ChangeWindowKind.MAINTENANCE).prefetch_related(
            Prefetch("configuration_items", queryset=ConfigurationItem.objects.only("id")),
            Prefetch("services", queryset=Service.objects.only("id")),
        )
    )


def change_conflicts_find(*, change: Change) -> list[Conflict]:
    """The change's conflicts now; none unless it is planned (New to Implement, with both planned dates).

    Reads only what can matter: the CI graph around its CIs (`ITSM_CHANGE_CONFLICT_DEPTH` hops), the planned changes
    overlapping its window (indexed on planned start and end) that touch those CIs or share its assignee, and the
    windows that can fall in it.
    """
    if change.state not in PLANNED_CHANGE_STATES or not change.planned_start or not change.planned_end:
        return []
    start, end = change.planned_start, change.planned_end
    depth = getattr(settings, "ITSM_CHANGE_CONFLICT_DEPTH", 3)  # settings: default 3
    own_cis = _change_cis([change.pk])[change.pk] if change.pk else set()
    graph = ci_graph_around(own_cis, depth) if own_cis else {}
    related = own_cis | set(graph) | {target for targets in graph.values() for target in targets}
    candidates = Q(affected_cis__in=related) | Q(configuration_item__in=related) if related else Q(pk__in=[])
    if change.assigned_to_id:
        candidates |= Q(assigned_to_id=change.assigned_to_id)
    others = list(
        Change.objects.filter(candidates, state__in=PLANNED_CHANGE_STATES, planned_start__lt=end, planned_end__gt=start)
        .exclude(pk=change.pk)
        .distinct()
        .values("pk", "number", "planned_start", "planned_end", "assigned_to_id")
    )
    other_cis = _change_cis(row["pk"] for row in others)
    ci_rows = ConfigurationItem.objects.filter(pk__in=related).values_list("pk", "name", "service_id")
    names = {pk: name for pk, name, _service in ci_rows}
    ci_services = {pk: service for pk, _name, service in ci_rows}
    services = {ci_services[ci] for ci in own_cis if ci_services.get(ci)}
    if change.service_id:
        services.add(change.service_id)
    services |= set(_AFFECTED_SERVICES.objects.filter(change_id=change.pk).values_list("service_id", flat=True))
    assignee = change.assigned_to
    slot = Slot(
        id=change.pk,
        number=change.number,
        start=start,
        end=end,
        ci_ids=frozenset(own_cis),
        service_ids=frozenset(services),
        assignee_id=change.assigned_to_id,
        assignee_name=assignee.get_username() if assignee else "",
    )
    slots = [
        Slot(
            id=row["pk"],
            number=row["number"],
            start=row["planned_start"],
            end=row["planned_end"],
            ci_ids=frozenset(other_cis[row["pk"]]),
            assignee_id=row["assigned_to_id"],
        )
        for row in others
    ]
    windows = [window_rule(w) for w in change_windows_in(start=start, end=end, kinds=[ChangeWindowKind.BLACKOUT])]
    windows += [window_rule(w) for w in _maintenance_windows()] if own_cis else []
    return find_conflicts(
        change=slot,
        others=slots,
        depends_on=graph,
        depth=depth,
        windows=windows,
        ci_services=ci_services,
        names=names,
        tz=timezone.get_current_timezone(),
    )


_AFFECTED_SERVICES = Change.affected_services.through


# --- the calendar ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowOccurrence:
    """One occurrence of a blackout or maintenance window in a calendar range."""

    window: ChangeWindow
    start: datetime
    end: datetime
    configuration_items: list[str]
    services: list[str]


def change_calendar(*, user: User | AnonymousUser, start: datetime, end: datetime) -> dict:
    """Changes planned in [start, end) (any state but canceled; agents only) and the windows' occurrences in it.

    A constant number of queries: the changes overlapping the range (indexed on planned start and end) with their
    team, assignee, CIs and conflicts, and the windows that can fall in it, expanded in Python.
    """
    changes = Change.objects.none()
    windows: list[WindowOccurrence] = []
    if is_agent(user):
        changes = (
            Change.objects.filter(planned_start__lt=end, planned_end__gt=start)
            .exclude(state=ChangeState.CANCELED)
            .select_related("assignment_group", "assigned_to")
            .prefetch_related(
                Prefetch("affected_cis", queryset=ConfigurationItem.objects.only("id", "name")), _CONFLICTS
            )
            .order_by("planned_start", "number")
        )
        for window in change_windows_in(start=start, end=end):
            rule = window_rule(window)
            cis = sorted(ci.name for ci in window.configuration_items.all())
            services = sorted(service.name for service in window.services.all())
            windows += [
                WindowOccurrence(window, occ_start, occ_end, cis, services)
                for occ_start, occ_end in occurrences(rule, start, end)
            ]
        windows.sort(key=lambda occ: (occ.start, occ.window.kind, occ.window.name))
    return {"start": start, "end": end, "changes": list(changes), "windows": windows}
