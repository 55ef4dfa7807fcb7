"""Kernel API serializers."""

from rest_framework import serializers

from itsm.models import Team


class TeamSerializer(serializers.ModelSerializer):
    manager = serializers.SlugRelatedField(slug_field="username", read_only=True)
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "email", "manager", "members", "active"]
