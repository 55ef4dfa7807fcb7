"""The incident API: CRUD without delete, one POST action per transition, the transitions list and the journal."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import services
from incidents.api.serializers import (
    CancelInputSerializer,
    CloseCodeSerializer,
    CommentInputSerializer,
    HoldInputSerializer,
    HoldReasonSerializer,
    IncidentSerializer,
    ResolveInputSerializer,
)
from incidents.filtersets import IncidentFilterSet
from incidents.models import CloseCode, HoldReason
from incidents.selectors import incident_list_visible_to
from itsm.api.tickets import EmptyInputSerializer, TicketViewSet, Transitions

# Each transition's input serializer and how its validated data maps onto the service's arguments.
TRANSITIONS: Transitions = {
    "start": (EmptyInputSerializer, services.incident_start, lambda d: {}),
    "hold": (
        HoldInputSerializer,
        services.incident_hold,
        lambda d: {"reason": d["hold_reason"], "comment": d["comment"]},
    ),
    "resume": (EmptyInputSerializer, services.incident_resume, lambda d: {}),
    "resolve": (ResolveInputSerializer, services.incident_resolve, lambda d: d),
    "reopen": (CommentInputSerializer, services.incident_reopen, lambda d: d),
    "close": (EmptyInputSerializer, services.incident_close, lambda d: {}),
    "cancel": (CancelInputSerializer, services.incident_cancel, lambda d: d),
}


class IncidentViewSet(TicketViewSet):
    """Incidents, looked up by number (INC0001001). Agents see all; end users see those where they are the caller
    (the selector decides, so the permission is the default: authenticated)."""

    permission_classes = [IsAuthenticated]
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "impact", "urgency", "state"]
    transitions_table = TRANSITIONS
    record_argument = "incident"
    comment_service = staticmethod(services.incident_comment)

    def get_queryset(self):
        return incident_list_visible_to(user=self.request.user)

    def perform_create(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.incident_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.incident_update(
            incident=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="New -> In Progress")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str) -> Response:
        return self._run(request, "start")

    @extend_schema(request=HoldInputSerializer, responses=IncidentSerializer, summary="Put on hold with a reason")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, number: str) -> Response:
        return self._run(request, "hold")

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="On Hold -> In Progress")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, number: str) -> Response:
        return self._run(request, "resume")

    @extend_schema(request=ResolveInputSerializer, responses=IncidentSerializer, summary="Resolve (close code, notes)")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str) -> Response:
        return self._run(request, "resolve")

    @extend_schema(request=CommentInputSerializer, responses=IncidentSerializer, summary="Resolved -> In Progress")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, number: str) -> Response:
        return self._run(request, "reopen")

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="Resolved -> Closed")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._run(request, "close")

    @extend_schema(request=CancelInputSerializer, responses=IncidentSerializer, summary="Cancel an open incident")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._run(request, "cancel")


class HoldReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """Active hold reasons (the `hold_reason` of the hold transition)."""

    queryset = HoldReason.objects.filter(active=True)
    serializer_class = HoldReasonSerializer
    lookup_field = "slug"
    pagination_class = None
    filter_backends: list = []


class CloseCodeViewSet(viewsets.ReadOnlyModelViewSet):
    """Active close codes (the `close_code` of the resolve transition)."""

    queryset = CloseCode.objects.filter(active=True)
    serializer_class = CloseCodeSerializer
    lookup_field = "slug"
    pagination_class = None
    filter_backends: list = []
