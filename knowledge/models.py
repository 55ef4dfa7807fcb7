"""The knowledge base: how-to articles in categories, people's helpful / not helpful votes (on articles and on the
known-error articles problems publish), and the "this solved it" count of the report-an-issue deflection."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.enums import ICON_HELP


class KnowledgeCategory(models.Model):
    """A shelf of the knowledge base (Email, Network, Accounts ...)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    icon = models.CharField(_("icon"), max_length=20, blank=True, help_text=ICON_HELP)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A how-to or FAQ article end users read in the portal; counts of votes and deflections kept on the row."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body"), help_text=_("Plain text; blank lines separate paragraphs."))
    category = models.ForeignKey(
        KnowledgeCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="articles"
    )
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published = models.BooleanField(_("published"), default=False, db_index=True)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0, editable=False)
    solved_count = models.PositiveIntegerField(_("solved an issue"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title


def _one_target() -> Q:
    return Q(article__isnull=False, known_error__isnull=True) | Q(article__isnull=True, known_error__isnull=False)


class ArticleVote(models.Model):
    """One person's helpful / not helpful on an article or a known error (changing it replaces it)."""

    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="votes")
    known_error = models.ForeignKey(
        "problems.KnowledgeArticle", null=True, blank=True, on_delete=models.CASCADE, related_name="votes"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("voted at"), default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_one_target(), name="vote_one_target"),
            models.UniqueConstraint(
                fields=["article", "user"], condition=Q(article__isnull=False), name="vote_once_per_article"
            ),
            models.UniqueConstraint(
                fields=["known_error", "user"], condition=Q(known_error__isnull=False), name="vote_once_per_known_error"
            ),
        ]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")

    def __str__(self) -> str:
        return f"{self.user_id} {'+' if self.helpful else '-'} {self.article_id or self.known_error_id}"


class Deflection(models.Model):
    """An issue solved before it was reported: what the person typed and which suggestion solved it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    query = models.CharField(_("what they typed"), max_length=300, blank=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="deflections")
    known_error = models.ForeignKey(
        "problems.KnowledgeArticle", null=True, blank=True, on_delete=models.CASCADE, related_name="deflections"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("major incident"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deflections",
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")

    def __str__(self) -> str:
        return f"{self.query} ({self.created_at:%Y-%m-%d})"
