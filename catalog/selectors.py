"""Catalog reads: which items a user may order, their current versions, and search."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from catalog.enums import Availability
from catalog.models import CatalogCategory, CatalogItem, CatalogItemVersion


def catalog_items_available_to(*, user: User | AnonymousUser) -> QuerySet[CatalogItem]:
    """Active, published items of active categories that this user may order (everyone, or one of their groups)."""
    if not user.is_authenticated:
        return CatalogItem.objects.none()
    items = CatalogItem.objects.filter(active=True, category__active=True, versions__isnull=False)
    if not user.is_superuser:
        items = items.filter(Q(availability=Availability.EVERYONE) | Q(groups__in=user.groups.all()))
    return CatalogItem.objects.filter(pk__in=items.values("pk")).select_related("category", "service")


def catalog_categories_with_items(*, user: User) -> list[CatalogCategory]:
    """Active categories that hold at least one item this user may order, each with `.visible_items`."""
    items = catalog_items_available_to(user=user).order_by("order", "name")
    categories = (
        CatalogCategory.objects.filter(active=True, items__in=items)
        .distinct()
        .prefetch_related(Prefetch("items", queryset=items, to_attr="visible_items"))
    )
    return list(categories)


def catalog_item_current_version(*, item: CatalogItem) -> CatalogItemVersion | None:
    """The latest published version of the item (what a new order gets)."""
    return item.versions.order_by("-number").first()


def catalog_items_search(*, user: User, query: str, limit: int = 10) -> list[CatalogItem]:
    """Items this user may order that match the words of the query, best first (full-text ranking on PostgreSQL)."""
    query = (query or "").strip()
    items = catalog_items_available_to(user=user)
    if not query:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("name", weight="A", config="english")
            + SearchVector("short_description", weight="B", config="english")
            + SearchVector("description", weight="C", config="english")
            + SearchVector("category__name", weight="C", config="english")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        ranked = items.annotate(rank=SearchRank(vector, search)).filter(rank__gt=0).order_by("-rank", "name")
        found = list(ranked[:limit])
        if found:
            return found
    words = [word for word in query.split() if len(word) > 1][:6]
    condition = Q()
    for word in words:
        condition &= Q(name__icontains=word) | Q(short_description__icontains=word) | Q(description__icontains=word)
    return list(items.filter(condition).order_by("name")[:limit]) if words else []
