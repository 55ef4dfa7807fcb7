"""Knowledge reads: full-text search over articles and published known errors (PostgreSQL ranking, a word match
elsewhere), suggestions while someone reports an issue, and what end users may read."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from incidents.enums import OPEN_INCIDENT_STATES
from incidents.models import Incident
from knowledge.models import Article
from problems.models import KnowledgeArticle

MAX_QUERY = 200


@dataclass(frozen=True)
class Hit:
    """One search result, whatever it came from."""

    kind: str  # "article" or "known_error"
    pk: int
    title: str
    summary: str
    url: str
    rank: float


def article_list_published() -> QuerySet[Article]:
    """Articles end users may read."""
    return Article.objects.filter(published=True).select_related("category", "service")


def known_error_list_published() -> QuerySet[KnowledgeArticle]:
    """Known-error articles published from problems."""
    return KnowledgeArticle.objects.filter(published=True).select_related("service")


def _words(query: str) -> list[str]:
    return [word for word in query.split() if len(word) > 2][:8]


def _ranked(queryset: QuerySet, fields: list[tuple[str, str]], query: str, limit: int) -> list:
    """Best matches first: PostgreSQL full-text ranking (weights A-C), else (or when it finds nothing, as for a word
    still being typed) rows containing every word, titles first."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = None
        for field, weight in fields:
            part = SearchVector(field, weight=weight, config="english")
            vector = part if vector is None else vector + part
        search = SearchQuery(query, search_type="websearch", config="english")
        found = list(queryset.annotate(rank=SearchRank(vector, search)).filter(rank__gt=0).order_by("-rank")[:limit])
        if found:
            return found
    words = _words(query)
    if not words:
        return []
    condition = Q()
    for word in words:
        any_field = Q()
        for field, _weight in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        condition &= any_field
    rows = list(queryset.filter(condition)[: limit * 3])
    title = fields[0][0]
    for row in rows:
        row.rank = sum(word.lower() in getattr(row, title).lower() for word in words) + 0.1
    return sorted(rows, key=lambda row: -row.rank)[:limit]


def knowledge_search(*, query: str, limit: int = 10) -> list[Hit]:
    """Published articles and known errors matching the query, best first."""
    query = (query or "").strip()[:MAX_QUERY]
    if not query:
        return []
    articles = _ranked(
        article_list_published(),
        [("title", "A"), ("summary", "B"), ("body", "C"), ("category__name", "B")],
        query,
        limit,
    )
    known = _ranked(known_error_list_published(), [("title", "A"), ("body", "C")], query, limit)
    hits = [
        Hit("article", a.pk, a.title, a.summary or a.body[:180], reverse("portal:kb_article", args=[a.slug]), a.rank)
        for a in articles
    ] + [
        Hit("known_error", k.pk, k.title, k.body[:180], reverse("portal:kb_known_error", args=[k.pk]), k.rank)
        for k in known
    ]
    return sorted(hits, key=lambda hit: -hit.rank)[:limit]


def major_incidents_open(*, services=None) -> QuerySet[Incident]:
    """Open major incidents (on these services when given), newest first: what end users are told about."""
    incidents = Incident.objects.filter(major_incident=True, state__in=OPEN_INCIDENT_STATES).select_related("service")
    if services is not None:
        incidents = incidents.filter(service__in=services)
    return incidents.order_by("-opened_at")


def major_incidents_matching(*, query: str, limit: int = 3) -> list[Incident]:
    """Open major incidents whose description or service matches the words typed."""
    words = _words((query or "")[:MAX_QUERY])
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= Q(short_description__icontains=word) | Q(service__name__icontains=word)
    return list(major_incidents_open().filter(condition)[:limit])
