"""Change filters, shared by the (later) workspace lists and the API."""

import django_filters
from django.contrib.auth import get_user_model

from catalog.models import ConfigurationItem, Service
from changes.enums import ChangeApproval, ChangeCloseCode, ChangeRisk, ChangeState, ChangeTaskState, ChangeType
from changes.models import Change, ChangeTask
from itsm.enums import Priority
from itsm.filtersets import NameOrIdFilter, category_filter, search_text
from itsm.models import Team


class ChangeFilterSet(django_filters.FilterSet):
    """Filters for change lists: state, type, risk, approval, team, assignee, service, CI, planned window, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeState.choices)
    change_type = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeType.choices)
    risk = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeRisk.choices)
    approval = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeApproval.choices)
    close_code = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeCloseCode.choices)
    priority = django_filters.MultipleChoiceFilter(distinct=False, choices=Priority.choices)
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    service = NameOrIdFilter(queryset=Service.objects.all())
    configuration_item = NameOrIdFilter(queryset=ConfigurationItem.objects.all())
    category = category_filter("change")
    subcategory = category_filter("change", sub=True)
    active = django_filters.BooleanFilter()
    planned_start = django_filters.IsoDateTimeFromToRangeFilter()
    opened_at = django_filters.IsoDateTimeFromToRangeFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Change
        fields = [
            "state",
            "change_type",
            "risk",
            "approval",
            "close_code",
            "priority",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "category",
            "subcategory",
            "active",
            "planned_start",
            "opened_at",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "CHG", value)


class ChangeTaskFilterSet(django_filters.FilterSet):
    """Filters for change-task lists: state, change (number), team, assignee, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ChangeTaskState.choices)
    change = django_filters.CharFilter(field_name="change__number", lookup_expr="iexact")
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    category = category_filter("change_task")
    subcategory = category_filter("change_task", sub=True)
    active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = ChangeTask
        fields = ["state", "change", "assignment_group", "assigned_to", "category", "subcategory", "active", "q"]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "CTASK", value)
