"""Catalog API serializers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import CatalogItem, ConfigurationItem, Service


class ServiceSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Service
        fields = ["id", "name", "description", "owner_team", "criticality", "active"]


class ConfigurationItemSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="name", read_only=True)
    service = serializers.SlugRelatedField(slug_field="name", read_only=True)
    depends_on = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = ConfigurationItem
        fields = ["id", "name", "ci_type", "description", "owner_team", "service", "depends_on", "active"]


class CatalogItemSerializer(serializers.ModelSerializer):
    """An orderable item with its current published version and form definition (questions, types, rules)."""

    category = serializers.SlugRelatedField(slug_field="name", read_only=True)
    service = serializers.SlugRelatedField(slug_field="name", read_only=True)
    version = serializers.SerializerMethodField()
    needs_approval = serializers.SerializerMethodField()
    form = serializers.SerializerMethodField()

    class Meta:
        model = CatalogItem
        fields = [
            "id",
            "name",
            "category",
            "service",
            "icon",
            "short_description",
            "description",
            "max_quantity",
            "version",
            "needs_approval",
            "form",
        ]
        read_only_fields = fields

    def _definition(self, item: CatalogItem) -> dict:
        return item.current_versions[0].definition if item.current_versions else {}

    def get_version(self, item: CatalogItem) -> int | None:
        return item.current_versions[0].number if item.current_versions else None

    def get_needs_approval(self, item: CatalogItem) -> bool:
        return bool(self._definition(item).get("approval_policy"))

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_form(self, item: CatalogItem) -> list[dict]:
        """The questions: name, label, type, required, help text, choices, limits, pattern and show-when rule."""
        keys = ("name", "label", "type", "required", "help_text", "choices", "default", "min", "max", "max_length")
        return [
            {**{key: var.get(key) for key in keys}, "pattern": var.get("pattern"), "show_when": var.get("show_when")}
            for var in self._definition(item).get("variables", [])
        ]
