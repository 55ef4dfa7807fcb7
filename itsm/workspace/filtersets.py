"""Filters of the cross-practice ticket lists (my work, my teams' queues): the Ticket parent's fields only."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from itsm.enums import NUMBER_PREFIXES, Priority, StateCategory, TicketKind
from itsm.fields import NameOrIdChoiceField
from itsm.models import Team, Ticket


class _NameOrIdFilter(django_filters.ModelChoiceFilter):
    field_class = NameOrIdChoiceField


def ticket_search(queryset, value: str):
    """A full number matches exactly (its unique index); other text searches number and short description."""
    text = value.strip()
    if not text:
        return queryset
    upper = text.upper()
    for prefix in NUMBER_PREFIXES.values():
        if upper.startswith(prefix) and upper[len(prefix) :].isdigit() and len(upper) == len(prefix) + 7:
            return queryset.filter(number=upper)
    return queryset.filter(Q(number__icontains=text) | Q(short_description__icontains=text))


class TicketFilterSet(django_filters.FilterSet):
    """Filters for lists across practices: practice, state category, priority, team, assignee, open, text."""

    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices, label="Type")
    state = django_filters.MultipleChoiceFilter(
        field_name="state_category", choices=StateCategory.choices, label="State"
    )
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignment_group = _NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = _NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull", label="Unassigned")
    active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Ticket
        fields = ["kind", "state", "priority", "assignment_group", "assigned_to", "unassigned", "active", "q"]

    def filter_q(self, queryset, name, value):
        return ticket_search(queryset, value)
