"""What the SLA engine sees of a ticket (a snapshot), how conditions match it, and which definitions contradict
themselves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from itsm.enums import StateCategory

CONDITION_KEYS = {"state_category", "assigned"}
ALL_CATEGORIES = frozenset(StateCategory.values)


@dataclass(frozen=True)
class Snapshot:
    """The ticket fields SLA conditions bind to, at one instant."""

    category: str
    priority: int
    service_id: int | None
    configuration_item_id: int | None
    assignment_group_id: int | None
    assigned: bool
    # The ticket's own category and subcategory (`category` above is the state category), and for a requested item
    # the catalog item it was ordered from (it never changes).
    ticket_category_id: int | None = None
    ticket_subcategory_id: int | None = None
    catalog_item_id: int | None = None

    @classmethod
    def of(cls, ticket) -> Snapshot:
        return cls(
            category=ticket.state_category,
            priority=ticket.priority,
            service_id=ticket.service_id,
            configuration_item_id=ticket.configuration_item_id,
            assignment_group_id=ticket.assignment_group_id,
            assigned=ticket.assigned_to_id is not None,
            ticket_category_id=ticket.category_id,
            ticket_subcategory_id=ticket.subcategory_id,
            catalog_item_id=catalog_item_of(ticket),
        )

    def with_field(self, field: str, raw: str) -> Snapshot:
        """Apply one journaled field change (its raw value) to the snapshot."""
        value: Any = int(raw) if raw else None
        if field == "priority":
            return replace(self, priority=value)
        if field == "assigned_to":
            return replace(self, assigned=value is not None)
        if field in ("service", "configuration_item", "assignment_group"):
            return replace(self, **{f"{field}_id": value})
        if field in ("category", "subcategory"):
            return replace(self, **{f"ticket_{field}_id": value})
        return self


def catalog_item_of(ticket) -> int | None:
    """The catalog item a requested item was ordered from (one query when given the kernel Ticket row)."""
    from itsm.enums import TicketKind

    if ticket.kind != TicketKind.REQUESTED_ITEM:
        return None
    if hasattr(ticket, "catalog_item_id"):
        return ticket.catalog_item_id
    from requests_app.models import RequestedItem

    return RequestedItem.objects.filter(pk=ticket.pk).values_list("catalog_item_id", flat=True).first()


def condition_holds(condition: dict, snapshot: Snapshot) -> bool:
    """An empty condition never holds; otherwise every key given must hold."""
    if not condition:
        return False
    categories = condition.get("state_category")
    if categories is not None and snapshot.category not in categories:
        return False
    assigned = condition.get("assigned")
    return not (assigned is not None and snapshot.assigned != assigned)


def condition_categories(condition: dict) -> frozenset[str]:
    """The categories in which a condition can hold (all of them when it does not name any)."""
    if not condition:
        return frozenset()
    return frozenset(condition.get("state_category") or ALL_CATEGORIES)


def condition_problems(name: str, condition: Any, *, required: bool) -> list[str]:
    if not isinstance(condition, dict):
        return [f'The {name} condition must be an object like {{"state_category": ["new"]}}.']
    if required and not condition:
        return [f"The {name} condition is required."]
    problems = []
    unknown = set(condition) - CONDITION_KEYS
    if unknown:
        problems.append(f"The {name} condition has unknown keys: {', '.join(sorted(unknown))}.")
    categories = condition.get("state_category")
    if categories is not None and (
        not isinstance(categories, list) or not categories or set(categories) - ALL_CATEGORIES
    ):
        problems.append(
            f"The {name} condition's state_category must be a non-empty list of: {', '.join(StateCategory.values)}."
        )
    if "assigned" in condition and not isinstance(condition["assigned"], bool):
        problems.append(f"The {name} condition's 'assigned' must be true or false.")
    return problems


def match_problems(definition, *, categories=None, catalog_items=None) -> dict[str, str]:
    """Match sets that cannot fit the definition's practice: categories of another practice, catalog items on a
    practice other than requested items. `categories` / `catalog_items` are the values about to be saved (a form's);
    by default the saved ones are checked."""
    from itsm.enums import TicketKind

    if definition.pk:
        categories = definition.match_categories.all() if categories is None else categories
        catalog_items = definition.match_catalog_items.all() if catalog_items is None else catalog_items
    problems = {}
    foreign = sorted(str(c) for c in categories or () if c.practice != definition.practice)
    if foreign:
        problems["match_categories"] = f"Not categories of the {definition.practice} practice: {', '.join(foreign)}."
    if catalog_items and definition.practice != TicketKind.REQUESTED_ITEM:
        problems["match_catalog_items"] = "Catalog items only apply to the requested-item practice."
    return problems


def definition_problems(definition, *, categories=None, catalog_items=None) -> dict[str, list[str]]:
    """Everything wrong with a definition, by field; contradictions are explained (empty when it is sound).
    `categories` and `catalog_items` are match sets about to be saved (see match_problems)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    for field, required in (
        ("start_condition", True),
        ("stop_condition", True),
        ("pause_condition", False),
        ("reset_condition", False),
        ("cancel_condition", False),
    ):
        for message in condition_problems(
            field.removesuffix("_condition"), getattr(definition, field), required=required
        ):
            add(field, message)
    if not definition.duration_seconds or definition.duration_seconds <= 0:
        add("duration_seconds", "The duration must be positive.")
    thresholds = definition.thresholds
    if not isinstance(thresholds, list) or any(
        isinstance(t, bool) or not isinstance(t, int) or not 0 < t < 100 for t in thresholds
    ):
        add("thresholds", "Thresholds are whole percentages between 1 and 99, e.g. [50, 75, 90].")
    elif thresholds != sorted(set(thresholds)):
        add("thresholds", "Thresholds must be ascending and distinct.")
    priorities = definition.match_priorities
    if not isinstance(priorities, list) or any(p not in (1, 2, 3, 4) for p in priorities):
        add("match_priorities", "Priorities are a list of 1 to 4 (empty: any).")
    for field, message in match_problems(definition, categories=categories, catalog_items=catalog_items).items():
        add(field, message)
    reset = definition.reset_condition
    if isinstance(reset, dict) and reset and not reset.get("state_category"):
        add("reset_condition", "A reset fires on entering state categories; name them.")
    if problems:
        return problems

    start = condition_categories(definition.start_condition)
    stop = condition_categories(definition.stop_condition)
    pause = condition_categories(definition.pause_condition)
    same_assignment = definition.start_condition.get("assigned") == definition.stop_condition.get("assigned")
    if start <= stop and same_assignment:
        add("stop_condition", "Every state in which the clock would start also stops it, so it would never run.")
    if definition.pause_condition:
        outside = pause - start
        if outside:
            add(
                "pause_condition",
                "The clock would pause in states where its start condition no longer holds "
                f"({', '.join(sorted(outside))}), so it would be cancelled instead of paused.",
            )
        if pause <= stop and definition.pause_condition.get("assigned") == definition.stop_condition.get("assigned"):
            add("pause_condition", "Every state that pauses the clock also stops it; the pause never applies.")
    cancel = definition.cancel_condition
    if cancel and "assigned" not in cancel and condition_categories(cancel) >= start:
        add("cancel_condition", "The cancel condition holds wherever the clock starts; it would never run.")
    return problems
