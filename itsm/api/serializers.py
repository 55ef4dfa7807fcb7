"""Kernel API serializers."""

from django.urls import reverse
from rest_framework import serializers

from itsm.models import Attachment, Team


class TeamSerializer(serializers.ModelSerializer):
    manager = serializers.SlugRelatedField(slug_field="username", read_only=True)
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "email", "manager", "members", "active"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "ticket",
            "filename",
            "content_type",
            "size",
            "public",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: Attachment) -> str:
        return reverse("attachment-download", kwargs={"pk": obj.pk})


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Multipart upload; size and type are checked on the server.")
    public = serializers.BooleanField(default=True, help_text="False attaches it to a work note (agents only).")
