"""Filter backends shared by every list endpoint."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter


class StableOrderingFilter(OrderingFilter):
    """Any requested ordering ends with the primary key, so equal values never make pages skip or repeat rows."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        fields = [field.lstrip("-") for field in ordering]
        if "pk" in fields or "id" in fields or "number" in fields:
            return ordering
        descending = ordering[0].startswith("-")
        return [*ordering, "-pk" if descending else "pk"]


class FilterSetBackend(DjangoFilterBackend):
    """django-filter's backend, except that a request naming none of the FilterSet's filters is left unfiltered
    without building the FilterSet and its form (a tenth of a list's first page: a form field per filter, each with
    its queryset copied). A parameter that only starts like a filter's name (`opened_at_after`) takes the full path."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(param.startswith(names) for param in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
