"""Catalog API serializers."""

from rest_framework import serializers

from catalog.models import ConfigurationItem, Service


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
