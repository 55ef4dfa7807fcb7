"""List cells rendered in Python (format_html escapes every value): a template include per cell costs more than the
whole page's queries at 25-100 rows."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from itsm.workspace import Column


def cell_html(column: Column, value: Any, *, url: str, ticket: Any) -> SafeString:
    """One cell's HTML by the column's kind."""
    if column.kind == "number":
        return format_html('<a href="{}" class="num">{}</a>', url, value)
    if column.key == "short_description":
        major = getattr(ticket, "major_incident", False)
        badge = format_html(' <span class="badge badge-major">{}</span>', _("Major")) if major else ""
        return format_html('<a href="{}" class="row-link">{}</a>{}', url, value, badge)
    if column.kind in ("state", "priority", "kind"):
        css = {"state": "badge state-", "priority": "prio prio-", "kind": "kind kind-"}[column.kind]
        return format_html('<span class="{}{}">{}</span>', css, value[0], value[1])
    if column.kind == "user":
        if value is None:
            # Constant markup: nothing from a user or the database in it.
            return mark_safe('<span class="muted">—</span>')  # nosec B308
        return format_html("{}", value.get_full_name() or value.get_username())
    if column.kind == "team":
        return format_html("{}", value.name if value is not None else "—")
    if column.kind == "datetime":
        if value is None:
            # An empty string.
            return mark_safe("")  # nosec B308
        local = timezone.localtime(value)
        return format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M"))
    if column.kind == "bool":
        # Constant text: a check mark or nothing.
        return mark_safe("✓") if value else mark_safe("")  # nosec B308
    return format_html("{}", "" if value is None else value)
