"""The incident filters, shared by the workspace list and the API."""

import django_filters
from django.contrib.auth import get_user_model

from catalog.models import ConfigurationItem, Service
from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.enums import Priority
from itsm.filtersets import NameOrIdFilter, category_filter, search_text
from itsm.models import Team


class IncidentFilterSet(django_filters.FilterSet):
    """Filters for incident lists: state, priority, team, assignee, caller, service, CI and an opened-at range."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=IncidentState.choices)
    priority = django_filters.MultipleChoiceFilter(distinct=False, choices=Priority.choices)
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    caller = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    service = NameOrIdFilter(queryset=Service.objects.all())
    configuration_item = NameOrIdFilter(queryset=ConfigurationItem.objects.all())
    category = category_filter("incident")
    subcategory = category_filter("incident", sub=True)
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
            "category",
            "subcategory",
            "opened_at",
            "unassigned",
            "active",
            "major_incident",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "INC", value)
