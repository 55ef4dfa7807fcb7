"""The incident filters, shared by the workspace list and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from catalog.models import ConfigurationItem, Service
from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.enums import Priority
from itsm.fields import NameOrIdChoiceField
from itsm.models import Team


class NameOrIdFilter(django_filters.ModelChoiceFilter):
    """Filter on a related record given by name (or username) or id."""

    field_class = NameOrIdChoiceField


class IncidentFilterSet(django_filters.FilterSet):
    """Filters for incident lists: state, priority, team, assignee, caller, service, CI and an opened-at range."""

    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    caller = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    service = NameOrIdFilter(queryset=Service.objects.all())
    configuration_item = NameOrIdFilter(queryset=ConfigurationItem.objects.all())
    opened_at = django_filters.IsoDateTimeFromToRangeFilter()
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull", label="Unassigned")
    active = django_filters.BooleanFilter()
    major_incident = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Incident
        fields = [
            "state",
            "priority",
            "assignment_group",
            "assigned_to",
            "caller",
            "service",
            "configuration_item",
            "opened_at",
            "unassigned",
            "active",
            "major_incident",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        """Free text over number and short description; a full number matches exactly (and uses its index)."""
        text = value.strip()
        if not text:
            return queryset
        if len(text) == 10 and text.upper().startswith("INC") and text[3:].isdigit():
            return queryset.filter(number=text.upper())
        return queryset.filter(Q(number__icontains=text) | Q(short_description__icontains=text))
