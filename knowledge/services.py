"""Knowledge writes: votes and the "this solved it" deflections."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q

from incidents.models import Incident
from knowledge.models import Article, ArticleVote, Deflection
from problems.models import KnowledgeArticle


def _target(article: Article | None, known_error: KnowledgeArticle | None) -> dict:
    if (article is None) == (known_error is None):
        raise ValidationError({"article": "Vote on one article or one known error."})
    return {"article": article} if article is not None else {"known_error": known_error}


@transaction.atomic
def article_vote(
    *, by: User, helpful: bool, article: Article | None = None, known_error: KnowledgeArticle | None = None
) -> ArticleVote:
    """Record (or change) one person's helpful / not helpful vote; the article's counts follow."""
    target = _target(article, known_error)
    vote, _created = ArticleVote.objects.update_or_create(user=by, **target, defaults={"helpful": bool(helpful)})
    if article is not None:
        counts = article.votes.aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )
        Article.objects.filter(pk=article.pk).update(helpful_count=counts["yes"], not_helpful_count=counts["no"])
    return vote


@transaction.atomic
def deflection_record(
    *,
    by: User,
    query: str = "",
    article: Article | None = None,
    known_error: KnowledgeArticle | None = None,
    incident: Incident | None = None,
) -> Deflection:
    """Count an issue solved by a suggestion instead of a new incident (an article, a known error or a major
    incident already being worked)."""
    if sum(x is not None for x in (article, known_error, incident)) != 1:
        raise ValidationError({"suggestion": "Say which suggestion solved it."})
    deflection = Deflection.objects.create(
        user=by, query=(query or "")[:300], article=article, known_error=known_error, incident=incident
    )
    if article is not None:
        Article.objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
    return deflection
