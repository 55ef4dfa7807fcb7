"""Kernel API views: token login, teams, attachments and approvals."""

import django_filters
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from itsm.api.export import ListExportMixin
from itsm.api.pagination import IdCursorPagination
from itsm.api.permissions import IsAgent
from itsm.api.serializers import (
    ApprovalDecisionInputSerializer,
    ApprovalSerializer,
    AttachmentSerializer,
    TeamSerializer,
)
from itsm.enums import ApprovalState
from itsm.models import Approval, Attachment, Team
from itsm.selectors import approval_list_visible_to, attachment_list_visible_to
from itsm.services import approval_approve, approval_reject


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    # DRF's ObtainAuthToken turns throttling off; a password endpoint needs it most (django-axes locks accounts and
    # addresses on top).
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES

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
    """Serve a stored file as a download that no browser will render or sniff; 404 when the file is gone."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:  # storage lost the file (restored backup, moved volume): not a server error
        raise Http404("The file of this attachment is missing.") from exc
    response = FileResponse(
        handle,
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

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY}, summary="Download the file (its stored type)")
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment_response(self.get_object())


class ApprovalFilterSet(django_filters.FilterSet):
    """Approvals by state, ticket number, approver (username) and stage; `mine=true` for the user's own."""

    state = django_filters.MultipleChoiceFilter(choices=ApprovalState.choices)
    ticket = django_filters.CharFilter(field_name="ticket__number", lookup_expr="iexact")
    approver = django_filters.CharFilter(field_name="approver__username")
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = Approval
        fields = ["state", "ticket", "approver", "stage", "mine"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(approver=self.request.user) if value else queryset.exclude(approver=self.request.user)


class ApprovalViewSet(ListExportMixin, viewsets.ReadOnlyModelViewSet):
    """Approvals: your own (everyone), those on tickets you may see (agents), all (admins); decide your own."""

    serializer_class = ApprovalSerializer
    filterset_class = ApprovalFilterSet
    search_fields = ["ticket__number", "ticket__short_description"]
    ordering_fields = ["id", "requested_at", "decided_at"]
    ordering = ["-id"]
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return approval_list_visible_to(user=self.request.user)

    def _decide(self, request, service) -> Response:
        approval = self.get_object()
        data = ApprovalDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service(approval=approval, by=request.user, comment=data.validated_data["comment"])
        return Response(ApprovalSerializer(self.get_queryset().get(pk=approval.pk)).data)

    @extend_schema(
        request=ApprovalDecisionInputSerializer, responses=ApprovalSerializer, summary="Approve (approver only)"
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None) -> Response:
        return self._decide(request, approval_approve)

    @extend_schema(
        request=ApprovalDecisionInputSerializer,
        responses=ApprovalSerializer,
        summary="Reject with a comment (approver only); the ticket goes back",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None) -> Response:
        return self._decide(request, approval_reject)
