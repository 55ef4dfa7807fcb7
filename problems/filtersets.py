"""Problem, problem task and knowledge article filters, shared by the (later) workspace lists and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from catalog.models import ConfigurationItem, Service
from itsm.enums import Priority
from itsm.filtersets import NameOrIdFilter, category_filter, search_text
from itsm.models import Team
from problems.enums import ProblemResolutionCode, ProblemState, ProblemTaskState
from problems.models import KnowledgeArticle, Problem, ProblemTask


class ProblemFilterSet(django_filters.FilterSet):
    """Filters for problem lists: state, priority, team, assignee, known error, service, CI, resolution, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ProblemState.choices)
    priority = django_filters.MultipleChoiceFilter(distinct=False, choices=Priority.choices)
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    service = NameOrIdFilter(queryset=Service.objects.all())
    configuration_item = NameOrIdFilter(queryset=ConfigurationItem.objects.all())
    category = category_filter("problem")
    subcategory = category_filter("problem", sub=True)
    resolution_code = django_filters.MultipleChoiceFilter(distinct=False, choices=ProblemResolutionCode.choices)
    known_error = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter()
    opened_at = django_filters.IsoDateTimeFromToRangeFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Problem
        fields = [
            "state",
            "priority",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "category",
            "subcategory",
            "resolution_code",
            "known_error",
            "active",
            "opened_at",
            "q",
        ]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "PRB", value)


class ProblemTaskFilterSet(django_filters.FilterSet):
    """Filters for problem task lists: state, problem, team, assignee, text."""

    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ProblemTaskState.choices)
    problem = NameOrIdFilter(queryset=Problem.objects.all(), name_field="number")
    assignment_group = NameOrIdFilter(queryset=Team.objects.all())
    assigned_to = NameOrIdFilter(queryset=get_user_model().objects.all(), name_field="username")
    category = category_filter("problem_task")
    subcategory = category_filter("problem_task", sub=True)
    active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = ProblemTask
        fields = ["state", "problem", "assignment_group", "assigned_to", "category", "subcategory", "active", "q"]

    def filter_q(self, queryset, name, value):
        return search_text(queryset, "PTASK", value)


class KnowledgeArticleFilterSet(django_filters.FilterSet):
    """Find articles by the configuration item or service they concern, or by text (no problem filter: end users
    read articles too, and must not learn which problem numbers exist)."""

    configuration_item = NameOrIdFilter(queryset=ConfigurationItem.objects.all())
    service = NameOrIdFilter(queryset=Service.objects.all())
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = KnowledgeArticle
        fields = ["configuration_item", "service", "q"]

    def filter_q(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(Q(title__icontains=text) | Q(body__icontains=text)) if text else queryset
