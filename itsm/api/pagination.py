"""Cursor pagination: constant cost at any depth, so page 1,000 is as fast as page 1.

DRF's cursor holds the value of the first ordering column only and counts rows past it when several share it; that
count is capped at 1,000 (`offset_cutoff`), so a list ordered by priority, with 5,000 incidents of one priority,
served page 41 again and again. Here a cursor holds the value of every ordering column of the last row, and the
ordering always ends with a unique column (StableOrderingFilter adds the primary key), so the next page is the rows
after that one: a keyset. DRF's links, reversing and response stay as they are (they see unique positions, so their
offsets stay 0)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, _reverse_ordering


def _scalar(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _nullable(model, name: str) -> bool:
    try:
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    except FieldDoesNotExist:
        return True
    return field.null


def keyset_order(model, ordering) -> list:
    """`ordering` for order_by(), with NULLs where PostgreSQL puts them by default (last ascending, first descending)
    on every database, so the keyset below matches the order the rows come in."""
    terms = []
    for field in ordering:
        name = field.lstrip("-")
        if not _nullable(model, name):
            terms.append(field)
        else:
            terms.append(F(name).desc(nulls_first=True) if field.startswith("-") else F(name).asc(nulls_last=True))
    return terms


def keyset_after(model, ordering, values: list) -> Q:
    """Rows after the row with `values` in `ordering` (each column ascending, or descending with '-'):
    (a > x) or (a = x and b > y) or ..., NULLs placed as keyset_order() places them, bounded by a >= x where that
    lets an index on the first column be walked from there."""
    alternatives, equal = [], Q()
    for field, value in zip(ordering, values, strict=True):
        name, descending = field.lstrip("-"), field.startswith("-")
        if value is None:
            if descending:  # NULLs came first: every value follows
                alternatives.append(equal & Q(**{f"{name}__isnull": False}))
            equal &= Q(**{f"{name}__isnull": True})
            continue
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        if not descending and _nullable(model, name):  # NULLs come last
            step |= Q(**{f"{name}__isnull": True})
        alternatives.append(equal & step)
        equal &= Q(**{name: value})
    if not alternatives:
        return Q(pk__in=[])
    first, value = ordering[0], values[0]
    name = first.lstrip("-")
    if value is None or _nullable(model, name):
        return reduce(or_, alternatives)
    return Q(**{f"{name}__{'lte' if first.startswith('-') else 'gte'}": value}) & reduce(or_, alternatives)


class StrictCursorPagination(CursorPagination):
    """Keyset paging over the whole ordering; bad paging input is a 400 naming the parameter (DRF answers 404 to a bad
    cursor and ignores a bad size)."""

    page_size_query_param = "page_size"

    def _bad_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise self._bad_cursor() from exc

    def _position_values(self, model, ordering, position: str) -> list:
        """The cursor's values, one per ordering column and each one its column can hold (else a 400: a cursor is
        the client's to send)."""
        try:
            values = json.loads(position)
        except ValueError:
            raise self._bad_cursor() from None
        if not isinstance(values, list) or len(values) != len(ordering):  # or made for another ordering
            raise self._bad_cursor()
        for field, value in zip(ordering, values, strict=True):
            if (
                isinstance(value, list | dict)
                or (isinstance(value, float) and not math.isfinite(value))
                or (isinstance(value, str) and "\x00" in value)
            ):
                raise self._bad_cursor()
            name = field.lstrip("-")
            try:
                column = model._meta.pk if name == "pk" else model._meta.get_field(name)
                if value is not None:
                    column.get_db_prep_value(column.to_python(value), connection)
            except (FieldDoesNotExist, ValueError, TypeError, OverflowError, DjangoValidationError):
                raise self._bad_cursor() from None
        return values

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1:
                raise ValidationError({self.page_size_query_param: ["A whole number of at least 1."]})
        return super().get_page_size(request)

    def _get_position_from_instance(self, instance, ordering):
        values = [
            instance[f.lstrip("-")] if isinstance(instance, dict) else getattr(instance, f.lstrip("-"))
            for f in ordering
        ]
        return json.dumps([_scalar(v) for v in values], separators=(",", ":"))

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        # DRF's method with the position filter replaced by the keyset (the rest as DRF does it).
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        offset, reverse, current_position = self.cursor if self.cursor is not None else (0, False, None)

        walk = _reverse_ordering(self.ordering) if reverse else self.ordering
        queryset = queryset.order_by(*keyset_order(queryset.model, walk))
        if current_position is not None:
            values = self._position_values(queryset.model, walk, current_position)
            queryset = queryset.filter(keyset_after(queryset.model, walk, values))

        results = list(queryset[offset : offset + self.page_size + 1])
        self.page = results[: self.page_size]
        has_following = len(results) > len(self.page)
        following = self._get_position_from_instance(results[-1], self.ordering) if has_following else None
        if reverse:
            self.page.reverse()
            self.has_next = current_position is not None or offset > 0
            self.has_previous = has_following
            if self.has_next:
                self.next_position = current_position
            if self.has_previous:
                self.previous_position = following
        else:
            self.has_next = has_following
            self.has_previous = current_position is not None or offset > 0
            if self.has_next:
                self.next_position = following
            if self.has_previous:
                self.previous_position = current_position
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page


class TicketCursorPagination(StrictCursorPagination):
    """Newest first by default; `?ordering=` from the OrderingFilter is honoured; `?page_size=` up to 100."""

    ordering = "-opened_at"
    max_page_size = 100


class IdCursorPagination(StrictCursorPagination):
    """For append-only lists such as the journal: oldest first."""

    ordering = "id"
    max_page_size = 200
