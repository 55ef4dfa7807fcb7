"""Filter pieces shared by every practice's FilterSet (the workspace lists and the API use the same FilterSets).

Multiple-choice filters on a ticket's own columns (state, priority, category ...) are declared with
`distinct=False`: no join multiplies rows there, and django-filter's default DISTINCT would make PostgreSQL sort
every selected column of a million-row list instead of walking an index.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from itsm.fields import NameOrIdChoiceField


class NameOrIdFilter(django_filters.ModelChoiceFilter):
    """Filter on a related record given by name (or username) or id."""

    field_class = NameOrIdChoiceField


def search_text(queryset: QuerySet, prefix: str, value: str) -> QuerySet:
    """Free text over number and short description; a full number (prefix + 7 digits) matches exactly and uses its
    index."""
    text = value.strip()
    if not text:
        return queryset
    if text.upper().startswith(prefix) and text[len(prefix) :].isdigit() and len(text) == len(prefix) + 7:
        return queryset.filter(number=text.upper())
    return queryset.filter(Q(number__icontains=text) | Q(short_description__icontains=text))


def category_filter(practice: str, *, sub: bool = False) -> django_filters.ModelMultipleChoiceFilter:
    """A practice's `category` filter (its top-level categories, by id, several allowed) or, with `sub`, its
    `subcategory` filter."""
    from itsm.models import Category

    return django_filters.ModelMultipleChoiceFilter(
        distinct=False, queryset=Category.objects.filter(practice=practice, parent__isnull=not sub)
    )
