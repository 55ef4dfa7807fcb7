"""Kernel API serializers."""

from django.urls import reverse
from rest_framework import serializers

from itsm.models import Approval, Attachment, Team


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


class ApprovalSerializer(serializers.ModelSerializer):
    """One approver's decision on a ticket."""

    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    ticket_kind = serializers.CharField(source="ticket.kind", read_only=True)
    ticket_short_description = serializers.CharField(source="ticket.short_description", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "ticket",
            "ticket_kind",
            "ticket_short_description",
            "policy",
            "stage",
            "approver",
            "state",
            "comment",
            "requested_at",
            "decided_at",
        ]
        read_only_fields = fields


class ApprovalDecisionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000, help_text="Required to reject."
    )
