"""Requested item and fulfilment task filters, shared by the workspace lists and the API."""

import django_filters
from django.contrib.auth import get_user_model

from catalog.models import CatalogItem, Service
from itsm.enums import Priority
from itsm.filtersets import NameOrIdFilter, category_filter, search_text
from itsm.models import Team
from requests_app.enums import FulfilmentTaskState, RequestedItemState
from requests_app.models import FulfilmentTask, RequestedItem


class RequestedItemFilterSet(django_filters.FilterSet):
    """Filters for requested item lists: state, catalog item, team, assignee, service, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=RequestedItemState.choices)
    priority = django_filters.MultipleChoiceFilter(distinct=False, choices=Priority.choices)
    catalog_item = NameOrIdFilter(queryset=CatalogItem.objects.all())
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    service = NameOrIdFilter(queryset=Service.objects.all())
    category = category_filter("requested_item")
    subcategory = category_filter("requested_item", sub=True)
    active = django_filters.BooleanFilter()
    opened_at = django_filters.IsoDateTimeFromToRangeFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = RequestedItem
        fields = [
            "state",
            "priority",
            "catalog_item",
            "assignment_group",
            "assigned_to",
            "service",
            "category",
            "subcategory",
            "active",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "RITM", value)


class FulfilmentTaskFilterSet(django_filters.FilterSet):
    """Filters for fulfilment task lists: state, requested item, team, assignee, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=FulfilmentTaskState.choices)
    requested_item = NameOrIdFilter(queryset=RequestedItem.objects.all(), name_field="number")
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    category = category_filter("task")
    subcategory = category_filter("task", sub=True)
    active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = FulfilmentTask
        fields = [
            "state",
            "requested_item",
            "assignment_group",
            "assigned_to",
            "category",
            "subcategory",
            "active",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "TASK", value)
