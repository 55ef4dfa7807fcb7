"""The agent workspace's registry: each practice DECLARES how it shows up, and the generic views do the rest.

How to declare a practice (in `<app>/workspace.py`; the module is discovered on first use, like admin.py):

    from itsm.workspace import Column, Practice, Transition, register

    register(
        Practice(
            slug="problems",                       # URL segment: /workspace/problems/, /workspace/problems/PRB0001001/
            kind=TicketKind.PROBLEM,               # the Ticket.kind this practice's records carry
            model=Problem,
            label=_("Problem"), label_plural=_("Problems"),
            visible=problem_list_visible_to,       # selector(user=) -> QuerySet: the visibility rule
            filterset=ProblemFilterSet,            # the SAME django-filter FilterSet the API uses
            filters=["state", "priority", "assignment_group", "assigned_to", "known_error"],  # shown in the bar
            columns=[Column("number", _("Number"), kind="number", sort="number"), ...] + shared columns,
            default_columns=["number", "short_description", "state", ...],
            transitions_table=PROBLEM_TRANSITIONS, # the API's table: name -> (input serializer, service, mapper)
            record_argument="problem",             # the services' keyword for the record
            transitions=[Transition("assess", _("Assess"), style="primary"), ...],  # buttons, in display order
            update=services.problem_update,        # fields service: update(<record_argument>=, by=, **changes)
            comment=services.problem_comment,      # comment(<record_argument>=, by=, body=, kind=)
            edit_fields=["short_description", "description", "impact", "urgency", "assignment_group", ...],
            facts=[("Root cause", "cause_notes"), ...],  # read-only text blocks on the ticket page
            links=lambda ticket: [LinkGroup(...)],       # related tickets (parent/child, problem, change ...)
        )
    )

Transition buttons show only when the model's FSM says this user may take them now
(`get_available_user_state_transitions`); each one's input fields are its API input serializer's fields, rendered
as a small form, validated by that serializer and run through the table's service: one declaration serves the API
and the workspace. Columns sort only on non-null columns (`sort=`), so keyset paging stays exact and index-backed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules

# How a cell renders (templates/workspace/partials/cell.html) and how it is written to CSV.
CELL_KINDS = ("text", "number", "state", "priority", "user", "team", "datetime", "bool", "kind")


@dataclass(frozen=True)
class Column:
    """One list column: `attr` is a dotted path on the record, `sort` the (non-null) model field it orders by."""

    key: str
    label: Any
    attr: str = ""
    kind: str = "text"
    sort: str = ""
    select_related: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return self.attr or self.key


@dataclass(frozen=True)
class Transition:
    """A transition button: the FSM method `name`, its label, its style (primary, success, danger or "")."""

    name: str
    label: Any
    style: str = ""
    bulk: bool = False  # offered as a bulk action on the list (only for transitions without required input)


@dataclass(frozen=True)
class LinkGroup:
    """Related tickets shown on the ticket page under one heading (parent, children, problem, changes ...)."""

    label: Any
    tickets: list[Any]


@dataclass
class Practice:
    """What a practice declares to appear in the workspace; see the module docstring."""

    slug: str
    kind: str
    model: type
    label: Any
    label_plural: Any
    visible: Callable[..., Any]
    filterset: type
    columns: list[Column]
    default_columns: list[str]
    transitions_table: dict[str, tuple[type, Callable[..., Any], Callable[[dict], dict]]]
    record_argument: str
    transitions: list[Transition]
    update: Callable[..., Any]
    comment: Callable[..., Any]
    edit_fields: list[str]
    filters: list[str] = field(default_factory=lambda: ["state", "priority", "assignment_group", "assigned_to"])
    facts: list[tuple[Any, str]] = field(default_factory=list)
    links: Callable[[Any], Iterable[LinkGroup]] | None = None
    create_url: str = ""
    default_sort: str = "-opened"  # a column key, "-" for descending
    order: int = 100

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def state_label(self, value: str) -> str:
        choices = dict(self.model._meta.get_field("state").choices)
        return str(choices.get(value, value))


_PRACTICES: dict[str, Practice] = {}
_discovered = False


def register(practice: Practice) -> Practice:
    """Register (or replace) a practice's workspace declaration."""
    _PRACTICES[practice.slug] = practice
    return practice


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("workspace")


def practices() -> list[Practice]:
    """Every registered practice, in navigation order."""
    _discover()
    return sorted(_PRACTICES.values(), key=lambda p: (p.order, p.slug))


def practice_for_slug(slug: str) -> Practice | None:
    _discover()
    return _PRACTICES.get(slug)


def practice_for_kind(kind: str) -> Practice | None:
    _discover()
    return next((p for p in _PRACTICES.values() if p.kind == kind), None)


def shared_columns() -> list[Column]:
    """Columns every ticket has (the Ticket parent's fields); practices add their own."""
    from django.utils.translation import gettext_lazy as _

    return [
        Column("number", _("Number"), kind="number", sort="number"),
        Column("short_description", _("Short description"), sort="short_description"),
        Column("state", _("State"), kind="state", sort="state"),
        Column("priority", _("Priority"), kind="priority", sort="priority"),
        Column("caller", _("Caller"), kind="user", select_related=("caller",)),
        Column("assignment_group", _("Assignment group"), kind="team", select_related=("assignment_group",)),
        Column("assigned_to", _("Assigned to"), kind="user", select_related=("assigned_to",)),
        Column("service", _("Service"), attr="service.name", select_related=("service",)),
        Column(
            "configuration_item",
            _("Configuration item"),
            attr="configuration_item.name",
            select_related=("configuration_item",),
        ),
        Column("opened", _("Opened"), attr="opened_at", kind="datetime", sort="opened_at"),
        Column("updated", _("Updated"), attr="updated_at", kind="datetime", sort="updated_at"),
    ]


def category_columns() -> list[Column]:
    """The category and subcategory columns, for practices that have categories (itsm.Category of their kind)."""
    from django.utils.translation import gettext_lazy as _

    return [
        Column("category", _("Category"), attr="category.name", select_related=("category",)),
        Column("subcategory", _("Subcategory"), attr="subcategory.name", select_related=("subcategory",)),
    ]
