"""Admin for the knowledge base: categories and articles; votes and deflections read-only."""

from django.contrib import admin

from itsm.admin import ReadOnlyAdminMixin
from knowledge.models import Article, Deflection, KnowledgeCategory


@admin.register(KnowledgeCategory)
class KnowledgeCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "icon", "order")
    list_editable = ("order",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "service", "published", "helpful_count", "not_helpful_count", "solved_count")
    list_filter = ("published", "category", "service")
    search_fields = ("title", "summary", "body")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("service",)
    list_select_related = ("category", "service")
    readonly_fields = ("helpful_count", "not_helpful_count", "solved_count", "created_at", "updated_at")


@admin.register(Deflection)
class DeflectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "query", "article", "known_error", "incident", "user")
    list_select_related = ("article", "known_error", "incident", "user")
    search_fields = ("query",)
