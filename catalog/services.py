"""Catalog writes: publishing a catalog item as a frozen, numbered version of its definition."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from catalog.models import CatalogItem, CatalogItemVersion


def _number(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def catalog_item_definition(*, item: CatalogItem) -> dict:
    """The item as an order sees it: form questions, approval policy, fulfilment tasks, team and service."""
    return {
        "item": item.pk,
        "name": item.name,
        "short_description": item.short_description,
        "service": item.service_id,
        "fulfilment_group": item.fulfilment_group_id,
        "approval_policy": item.approval_policy_id,
        "tasks_in_parallel": item.tasks_in_parallel,
        "max_quantity": item.max_quantity,
        "variables": [
            {
                "name": var.name,
                "label": var.label,
                "type": var.type,
                "required": var.required,
                "help_text": var.help_text,
                "choices": var.choice_list(),
                "default": var.default,
                "min": _number(var.min_value),
                "max": _number(var.max_value),
                "max_length": var.max_length,
                "pattern": var.pattern,
                "pattern_message": var.pattern_message,
                "show_when": {"variable": var.show_when_variable, "equals": var.show_when_value}
                if var.show_when_variable
                else None,
            }
            for var in item.variables.order_by("order", "id")
        ],
        "tasks": [
            {
                "order": index,
                "short_description": task.short_description,
                "instructions": task.instructions,
                "team": task.team_id,
            }
            for index, task in enumerate(item.task_templates.order_by("order", "id"), start=1)
        ],
    }


@transaction.atomic
def catalog_item_publish(*, item: CatalogItem, by: User | None = None) -> CatalogItemVersion:
    """Publish the item's current definition as a new version, unless it equals the latest one (then return that).

    Requests keep the version they were ordered from, so editing an item never changes what was already submitted.
    """
    CatalogItem.objects.select_for_update().filter(pk=item.pk).first()  # one publisher at a time per item
    definition = catalog_item_definition(item=item)
    latest = item.versions.order_by("-number").first()
    if latest is not None and latest.definition == definition:
        return latest
    number = (item.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    return CatalogItemVersion.objects.create(item=item, number=number, definition=definition, published_by=by)
