"""Change reads and the visibility rule: changes and their templates are agents' records."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from catalog.models import ConfigurationItem, Service
from changes.models import Change, ChangeRiskAnswer, ChangeTemplate
from itsm.rules import is_agent
from slas.models import SLAClock

_CLOCKS = Prefetch("sla_clocks", queryset=SLAClock.objects.select_related("definition", "schedule"))


def change_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[Change]:
    """Every change for agents, none for anyone else."""
    if not is_agent(user):
        return Change.objects.none()
    return Change.objects.select_related(
        "caller", "opened_by", "assignment_group", "assigned_to", "service", "configuration_item", "template"
    ).prefetch_related(
        _CLOCKS,
        Prefetch("affected_cis", queryset=ConfigurationItem.objects.only("id", "name")),
        Prefetch("affected_services", queryset=Service.objects.only("id", "name")),
        Prefetch("risk_answers", queryset=ChangeRiskAnswer.objects.select_related("question", "option")),
    )


def change_template_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[ChangeTemplate]:
    """Active standard-change templates, for agents."""
    if not is_agent(user):
        return ChangeTemplate.objects.none()
    return ChangeTemplate.objects.filter(active=True).select_related(
        "assignment_group", "service", "configuration_item"
    )
