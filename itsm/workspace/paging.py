"""Keyset (cursor) paging for workspace lists: a page is "the next N rows after (sort value, id)", so page 10,000
costs what page 1 costs, with an index on (filter columns, sort column, id). Counts are capped for the same reason."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

COUNT_CAP = 1000


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counting at most `cap` + 1 (SELECT COUNT(*) FROM (... LIMIT cap+1)); (count, more)."""
    count = queryset.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


def _encode(value: Any, pk: int, direction: str) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([direction, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, Any, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, value, pk = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if direction not in ("n", "p") or not isinstance(pk, int) or isinstance(value, list | dict):
        return None
    return direction, value, pk


@dataclass
class KeysetPage:
    rows: list[Any]
    next_cursor: str = ""
    prev_cursor: str = ""
    first: bool = True


def keyset_page(queryset: QuerySet, *, field: str, descending: bool, per_page: int, cursor: str = "") -> KeysetPage:
    """One page of `queryset` ordered by (field, id) in the given direction, after or before the cursor's row.

    `field` must be a non-null column; `id` is the Ticket id (the parent's column, so the index's tie-breaker).
    A cursor that does not decode gives the first page.
    """
    decoded = _decode(cursor) if cursor else None
    backwards = decoded is not None and decoded[0] == "p"
    # Going backwards walks the opposite order and flips the rows afterwards.
    walk_descending = descending != backwards
    order = [f"-{field}", "-id"] if walk_descending else [field, "id"]
    rows_qs = queryset.order_by(*order)
    if decoded is not None:
        _direction, value, pk = decoded
        if walk_descending:
            rows_qs = rows_qs.filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk}), **{f"{field}__lte": value}
            )
        else:
            rows_qs = rows_qs.filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}), **{f"{field}__gte": value}
            )
    rows = list(rows_qs[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    page = KeysetPage(rows=rows, first=decoded is None or (backwards and not more))
    if rows:
        last, first = rows[-1], rows[0]
        if more or backwards:
            page.next_cursor = _encode(_value(last, field), last.id, "n")
        if decoded is not None and (more or not backwards):
            page.prev_cursor = _encode(_value(first, field), first.id, "p")
    return page


def _value(row: Any, field: str) -> Any:
    value = row
    for part in field.split("__"):
        value = getattr(value, part)
    return value
