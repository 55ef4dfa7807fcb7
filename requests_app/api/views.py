"""The service request API: order with POST /requests/, follow requested items (the requester's own, or all for
agents), work fulfilment tasks (agents); transitions, the journal and attachments as for every ticket practice."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from itsm.api.tickets import EmptyInputSerializer, ReasonInputSerializer, TicketViewSet, Transitions
from itsm.models import Ticket
from itsm.rules import is_agent
from requests_app import services
from requests_app.api.serializers import (
    CloseNotesInputSerializer,
    FulfilmentTaskSerializer,
    RequestCreateSerializer,
    RequestedItemSerializer,
    RequestSerializer,
    RequiredCloseNotesInputSerializer,
    UploadInputSerializer,
    UploadSerializer,
)
from requests_app.filtersets import FulfilmentTaskFilterSet, RequestedItemFilterSet
from requests_app.models import Upload
from requests_app.selectors import (
    fulfilment_task_list_visible_to,
    request_list_visible_to,
    requested_item_list_visible_to,
)

ITEM_TRANSITIONS: Transitions = {
    "cancel": (ReasonInputSerializer, services.requested_item_cancel, lambda d: d),
    "close": (EmptyInputSerializer, services.requested_item_close, lambda d: {}),
}
TASK_TRANSITIONS: Transitions = {
    "start": (EmptyInputSerializer, services.fulfilment_task_start, lambda d: {}),
    "close_complete": (CloseNotesInputSerializer, services.fulfilment_task_close_complete, lambda d: d),
    "close_incomplete": (RequiredCloseNotesInputSerializer, services.fulfilment_task_close_incomplete, lambda d: d),
    "skip": (CloseNotesInputSerializer, services.fulfilment_task_skip, lambda d: d),
}

action_post = action(detail=True, methods=["post"])


class _NoUpdate:
    # DELETE only for the kernel's `watchers/{username}/` (no destroy here: a record's own DELETE stays 405).
    http_method_names = ["get", "post", "delete", "head", "options"]


class _AgentsPatch:
    """PATCH (never PUT) of the fields agents change outside the transitions, through the practice's update service;
    the requester reading their own item gets 403 (someone else's is 404 before that)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # DELETE: `watchers/{username}/` only
    update_service: Callable[..., Ticket]

    def get_object(self):
        record = super().get_object()
        if self.request.method == "PATCH" and not is_agent(self.request.user):
            raise PermissionDenied("Only agents change requested items and fulfilment tasks.")
        return record

    def perform_update(self, serializer) -> None:
        serializer.instance = self.update_service(
            **{self.record_argument: serializer.instance}, by=self.request.user, **serializer.validated_data
        )


class RequestViewSet(_NoUpdate, TicketViewSet):
    """Requests (REQ0001001): POST orders catalog items; end users see their own, agents all."""

    permission_classes = [IsAuthenticated]
    serializer_class = RequestSerializer
    record_argument = "request"
    comment_service = staticmethod(services.request_comment)
    filterset_fields = ["state"]

    def get_queryset(self):
        return request_list_visible_to(user=self.request.user)

    @extend_schema(request=RequestCreateSerializer, responses={201: RequestSerializer}, summary="Order catalog items")
    def create(self, request: ApiRequest, *args, **kwargs) -> Response:
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.request_create(by=request.user, items=data.validated_data["items"])
        instance = self.get_queryset().get(pk=created.pk)
        return Response(
            RequestSerializer(instance, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


class RequestedItemViewSet(_AgentsPatch, TicketViewSet):
    """Requested items (RITM0001001): the requester withdraws (cancel) or confirms (close); agents too, and PATCH
    the assignment, wording, due date and category."""

    permission_classes = [IsAuthenticated]
    serializer_class = RequestedItemSerializer
    transitions_table = ITEM_TRANSITIONS
    record_argument = "item"
    comment_service = staticmethod(services.requested_item_comment)
    update_service = staticmethod(services.requested_item_update)
    filterset_class = RequestedItemFilterSet

    def get_queryset(self):
        return requested_item_list_visible_to(user=self.request.user)

    @extend_schema(exclude=True)  # not an operation: the schema must not offer it (it answers 405)
    def create(self, request: ApiRequest, *args, **kwargs) -> Response:
        raise MethodNotAllowed("POST", detail="Order items with POST /api/v1/requests/.")

    @extend_schema(request=ReasonInputSerializer, responses=RequestedItemSerializer, summary="Withdraw or cancel")
    @action_post
    def cancel(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "cancel")

    @extend_schema(request=EmptyInputSerializer, responses=RequestedItemSerializer, summary="Fulfilled -> Closed")
    @action_post
    def close(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "close")


class FulfilmentTaskViewSet(_AgentsPatch, TicketViewSet):
    """Fulfilment tasks (TASK0001001); agents only. Closing the last one fulfils the item; PATCH changes the
    assignment, wording, instructions and due date."""

    serializer_class = FulfilmentTaskSerializer
    transitions_table = TASK_TRANSITIONS
    record_argument = "task"
    comment_service = staticmethod(services.fulfilment_task_comment)
    update_service = staticmethod(services.fulfilment_task_update)
    filterset_class = FulfilmentTaskFilterSet

    def get_queryset(self):
        return fulfilment_task_list_visible_to(user=self.request.user)

    @extend_schema(exclude=True)  # not an operation: the schema must not offer it (it answers 405)
    def create(self, request: ApiRequest, *args, **kwargs) -> Response:
        raise MethodNotAllowed("POST", detail="Tasks are created from the catalog item's fulfilment template.")

    @extend_schema(request=EmptyInputSerializer, responses=FulfilmentTaskSerializer, summary="Open -> Work in Progress")
    @action_post
    def start(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "start")

    @extend_schema(request=CloseNotesInputSerializer, responses=FulfilmentTaskSerializer, summary="Closed Complete")
    @action_post
    def close_complete(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "close_complete")

    @extend_schema(
        request=RequiredCloseNotesInputSerializer, responses=FulfilmentTaskSerializer, summary="Closed Incomplete"
    )
    @action_post
    def close_incomplete(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "close_incomplete")

    @extend_schema(request=CloseNotesInputSerializer, responses=FulfilmentTaskSerializer, summary="Closed Skipped")
    @action_post
    def skip(self, request: ApiRequest, number: str) -> Response:
        return self._run(request, "skip")


class UploadViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """POST /api/v1/uploads/ (multipart `file`): keep a file for a coming order; its `id` answers an attachment
    question in POST /api/v1/requests/. Only its uploader can use it, once; unused, it expires."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = UploadSerializer

    def get_queryset(self):
        return Upload.objects.filter(owner=self.request.user)

    @extend_schema(
        request={"multipart/form-data": UploadInputSerializer},
        responses={201: UploadSerializer},
        summary="Upload a file for an attachment question",
    )
    def create(self, request: ApiRequest, *args, **kwargs) -> Response:
        data = UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = services.upload_create(by=request.user, uploaded=data.validated_data["file"])
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)
