"""The service request API: order with POST /requests/, follow requested items (the requester's own, or all for
agents), work fulfilment tasks (agents); transitions, the journal and attachments as for every ticket practice."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from itsm.api.tickets import EmptyInputSerializer, ReasonInputSerializer, TicketViewSet, Transitions
from requests_app import services
from requests_app.api.serializers import (
    CloseNotesInputSerializer,
    FulfilmentTaskSerializer,
    RequestCreateSerializer,
    RequestedItemSerializer,
    RequestSerializer,
    RequiredCloseNotesInputSerializer,
)
from requests_app.filtersets import FulfilmentTaskFilterSet, RequestedItemFilterSet
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
    http_method_names = ["get", "post", "head", "options"]


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


class RequestedItemViewSet(_NoUpdate, TicketViewSet):
    """Requested items (RITM0001001): the requester withdraws (cancel) or confirms (close); agents too."""

    permission_classes = [IsAuthenticated]
    serializer_class = RequestedItemSerializer
    transitions_table = ITEM_TRANSITIONS
    record_argument = "item"
    comment_service = staticmethod(services.requested_item_comment)
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


class FulfilmentTaskViewSet(_NoUpdate, TicketViewSet):
    """Fulfilment tasks (TASK0001001); agents only. Closing the last one fulfils the item."""

    serializer_class = FulfilmentTaskSerializer
    transitions_table = TASK_TRANSITIONS
    record_argument = "task"
    comment_service = staticmethod(services.fulfilment_task_comment)
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
