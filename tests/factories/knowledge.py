"""Knowledge articles for tests."""

from __future__ import annotations

from knowledge.models import Article, KnowledgeCategory


def article_factory(
    title: str, body: str = "", *, published: bool = True, category: str = "Email", **kwargs
) -> Article:
    from django.utils.text import slugify

    shelf, _ = KnowledgeCategory.objects.get_or_create(slug=slugify(category), defaults={"name": category})
    return Article.objects.create(
        title=title,
        slug=slugify(title)[:200],
        summary=kwargs.pop("summary", title),
        body=body or f"How to fix: {title}.",
        category=shelf,
        published=published,
        **kwargs,
    )
