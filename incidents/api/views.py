"""The incident API: CRUD without delete, one POST action per transition, the transitions list and the journal."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
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
from incidents.models import CloseCode, HoldReason, Incident
from incidents.selectors import incident_list_visible_to
from itsm.api.pagination import IdCursorPagination
from itsm.api.serializers import AttachmentSerializer, AttachmentUploadSerializer
from itsm.api.tickets import (
    EmptyInputSerializer,
    JournalEntrySerializer,
    JournalInputSerializer,
    TransitionSerializer,
)
from itsm.rules import is_agent
from itsm.selectors import attachment_list_visible_to, journal_visible_to
from itsm.services import attachment_add, transition_ensure_allowed

# Each transition's input serializer and how its validated data maps onto the service's arguments.
TRANSITIONS: dict[str, tuple[type[serializers.Serializer], Callable[..., Incident], Callable[[dict], dict]]] = {
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


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents, looked up by number (INC0001001). Agents see all; end users see those where they are the caller."""

    serializer_class = IncidentSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z]+[0-9]+"
    filterset_class = IncidentFilterSet
    search_fields = ["number", "short_description", "description"]
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "impact", "urgency", "state"]
    ordering = ["-opened_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return incident_list_visible_to(user=self.request.user)

    def perform_create(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.incident_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.incident_update(
            incident=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def _transition(self, request: Request, name: str) -> Response:
        incident = self.get_object()
        # State and permission come before the input: a closed incident answers 409 whatever the body says.
        transition_ensure_allowed(user=request.user, transition=getattr(incident, name))
        input_class, service, to_kwargs = TRANSITIONS[name]
        data = input_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        incident = service(incident=incident, by=request.user, **to_kwargs(dict(data.validated_data)))
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="New -> In Progress")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str) -> Response:
        return self._transition(request, "start")

    @extend_schema(request=HoldInputSerializer, responses=IncidentSerializer, summary="Put on hold with a reason")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, number: str) -> Response:
        return self._transition(request, "hold")

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="On Hold -> In Progress")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, number: str) -> Response:
        return self._transition(request, "resume")

    @extend_schema(request=ResolveInputSerializer, responses=IncidentSerializer, summary="Resolve (close code, notes)")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str) -> Response:
        return self._transition(request, "resolve")

    @extend_schema(request=CommentInputSerializer, responses=IncidentSerializer, summary="Resolved -> In Progress")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, number: str) -> Response:
        return self._transition(request, "reopen")

    @extend_schema(request=EmptyInputSerializer, responses=IncidentSerializer, summary="Resolved -> Closed")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._transition(request, "close")

    @extend_schema(request=CancelInputSerializer, responses=IncidentSerializer, summary="Cancel an open incident")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._transition(request, "cancel")

    @extend_schema(responses=TransitionSerializer(many=True), summary="Transitions this user may take now")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def transitions(self, request: Request, number: str) -> Response:
        incident = self.get_object()
        available = [
            {"name": t.name, "target": t.target, "fields": list(TRANSITIONS[t.name][0]().fields)}
            for t in incident.get_available_user_state_transitions(request.user)
        ]
        return Response(TransitionSerializer(available, many=True).data)

    @extend_schema(methods=["GET"], responses=JournalEntrySerializer(many=True), summary="The journal")
    @extend_schema(
        methods=["POST"],
        request=JournalInputSerializer,
        responses={201: JournalEntrySerializer},
        summary="Add a comment or a work note",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=IdCursorPagination,
        filter_backends=[],
    )
    def journal(self, request: Request, number: str) -> Response:
        incident = self.get_object()
        if request.method == "POST":
            data = JournalInputSerializer(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            entry = services.incident_comment(incident=incident, by=request.user, **data.validated_data)
            return Response(JournalEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(journal_visible_to(ticket=incident, user=request.user))
        return self.get_paginated_response(JournalEntrySerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True), summary="Attachments")
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
        summary="Upload an attachment",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request: Request, number: str) -> Response:
        incident = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            data = AttachmentUploadSerializer(data=request.data, context=context)
            data.is_valid(raise_exception=True)
            if not data.validated_data["public"] and not is_agent(request.user):
                raise serializers.ValidationError({"public": "Only agents can attach files to work notes."})
            attachment = attachment_add(
                ticket=incident,
                by=request.user,
                uploaded=data.validated_data["file"],
                public=data.validated_data["public"],
            )
            return Response(AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED)
        attachments = attachment_list_visible_to(user=request.user, ticket=incident).order_by("id")
        return Response(AttachmentSerializer(attachments, many=True, context=context).data)


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
