"""Service request reads and the visibility rule: agents see every request; end users their own (as requester)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from itsm.rules import is_agent
from requests_app.models import FulfilmentTask, Request, RequestedItem, SatisfactionRating
from slas.selectors import clocks_prefetch

_CLOCKS = clocks_prefetch()


def request_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[Request]:
    """Requests with their items: all for agents, the requester's own for everyone else."""
    if not user.is_authenticated:
        return Request.objects.none()
    requests = Request.objects.select_related("caller", "opened_by", "service").prefetch_related(
        Prefetch("items", queryset=RequestedItem.objects.select_related("catalog_item").order_by("pk"))
    )
    return requests if is_agent(user) else requests.filter(caller=user)


def requested_item_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[RequestedItem]:
    """Requested items: all for agents, the requester's own for everyone else."""
    if not user.is_authenticated:
        return RequestedItem.objects.none()
    items = RequestedItem.objects.select_related(
        "caller",
        "opened_by",
        "request",
        "catalog_item",
        "item_version",
        "assignment_group",
        "assigned_to",
        "service",
        "category",
        "subcategory",
    ).prefetch_related(_CLOCKS)
    return items if is_agent(user) else items.filter(caller=user)


def fulfilment_task_list_visible_to(*, user: User | AnonymousUser) -> QuerySet[FulfilmentTask]:
    """Fulfilment tasks are agents' work: all for agents, none for anyone else."""
    if not is_agent(user):
        return FulfilmentTask.objects.none()
    return FulfilmentTask.objects.select_related(
        "requested_item",
        "caller",
        "opened_by",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "category",
        "subcategory",
    ).prefetch_related(_CLOCKS)


def rating_for(*, ticket_id: int) -> SatisfactionRating | None:
    """The ticket's satisfaction rating, if given."""
    return SatisfactionRating.objects.filter(ticket_id=ticket_id).first()
