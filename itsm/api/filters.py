"""Filter backends shared by every list endpoint."""

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
