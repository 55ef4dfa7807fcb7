"""Problem reads and the visibility rule: problems, their tasks and unpublished articles are agents' records."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, Q, QuerySet

from catalog.models import ConfigurationItem, Service
from incidents.models import Incident
from itsm.rules import is_agent
from problems.models import KnowledgeArticle, Problem, ProblemTask
from slas.selectors import clocks_prefetch

_CLOCKS = clocks_prefetch()


def problem_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[Problem]:
    """Every problem for agents, none for anyone else."""
    if not is_agent(user):
        return Problem.objects.none()
    return Problem.objects.select_related(
        "caller",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
        "duplicate_of",
    ).prefetch_related(
        _CLOCKS,
        Prefetch(
            "incidents",
            queryset=Incident.objects.select_related(None).only("id", "number", "state", "problem_id").order_by("id"),
        ),
    )


def problem_task_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[ProblemTask]:
    """Every problem task for agents, none for anyone else."""
    if not is_agent(user):
        return ProblemTask.objects.none()
    return ProblemTask.objects.select_related(
        "caller",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
        "problem",
    ).prefetch_related(_CLOCKS)


def knowledge_article_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[KnowledgeArticle]:
    """All articles for agents; published ones for other signed-in users (the portal's knowledge base)."""
    articles = KnowledgeArticle.objects.select_related("service", "configuration_item", "problem")
    if not user.is_authenticated:
        return articles.none()
    if is_agent(user):
        return articles
    return articles.filter(published=True)


def known_errors_for(
    *,
    user: User | AnonymousUser,
    configuration_item: ConfigurationItem | None = None,
    service: Service | None = None,
) -> QuerySet[KnowledgeArticle]:
    """Known-error articles about a configuration item or a service (either matches when both are given)."""
    articles = knowledge_article_list_visible_to(user=user).filter(kind="known_error")
    condition = Q()
    if configuration_item is not None:
        condition |= Q(configuration_item=configuration_item)
    if service is not None:
        condition |= Q(service=service)
    return articles.filter(condition) if condition else articles
