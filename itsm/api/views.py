"""Kernel API views: token login and teams."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.settings import api_settings

from itsm.api.pagination import IdCursorPagination
from itsm.api.permissions import IsAgent
from itsm.api.serializers import AttachmentSerializer, TeamSerializer
from itsm.models import Attachment, Team
from itsm.selectors import attachment_list_visible_to


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(summary="Obtain an API token", tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Assignment groups with their members (agents only)."""

    queryset = Team.objects.filter(active=True).select_related("manager").prefetch_related("members")
    serializer_class = TeamSerializer
    permission_classes = [IsAuthenticated, IsAgent]
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields: list = []


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve a stored file as a download that no browser will render or sniff."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class AttachmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Attachments of the tickets you may see; download with `/download/`."""

    serializer_class = AttachmentSerializer
    filterset_fields: list = []
    search_fields = ["filename"]
    ordering_fields = ["id"]
    ordering = ["-id"]
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return attachment_list_visible_to(user=self.request.user).select_related("ticket")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="Download the file")
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment_response(self.get_object())
