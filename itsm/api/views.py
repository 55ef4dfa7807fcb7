"""Kernel API views: token login and teams."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated

from itsm.api.permissions import IsAgent
from itsm.api.serializers import TeamSerializer
from itsm.models import Team


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token."""

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
