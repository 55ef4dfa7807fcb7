"""The change API: changes (agents only; 404 for everyone else), one POST action per transition, the transitions
list, the journal, standard changes from templates, the risk questionnaire."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from changes import services
from changes.api.serializers import (
    AssessRiskInputSerializer,
    ChangeSerializer,
    ChangeTemplateSerializer,
    CloseInputSerializer,
    FromTemplateInputSerializer,
    ReviewInputSerializer,
    RiskQuestionSerializer,
)
from changes.filtersets import ChangeFilterSet
from changes.models import RiskAnswerOption, RiskQuestion
from changes.selectors import change_list_visible_to, change_template_list_visible_to
from itsm.api.tickets import (
    AgentsOnlyElseNotFound,
    EmptyInputSerializer,
    ReasonInputSerializer,
    TicketViewSet,
    Transitions,
)

CHANGE_TRANSITIONS: Transitions = {
    "assess": (EmptyInputSerializer, services.change_assess, lambda d: {}),
    "request_approval": (EmptyInputSerializer, services.change_request_approval, lambda d: {}),
    "schedule": (EmptyInputSerializer, services.change_schedule, lambda d: {}),
    "implement": (EmptyInputSerializer, services.change_implement, lambda d: {}),
    "review": (ReviewInputSerializer, services.change_review, lambda d: d),
    "close": (CloseInputSerializer, services.change_close, lambda d: d),
    "cancel": (ReasonInputSerializer, services.change_cancel, lambda d: d),
    "revert_to_new": (ReasonInputSerializer, services.change_revert_to_new, lambda d: d),
}


class ChangeViewSet(TicketViewSet):
    """Changes, looked up by number (CHG0001001); agents only."""

    serializer_class = ChangeSerializer
    filterset_class = ChangeFilterSet
    transitions_table = CHANGE_TRANSITIONS
    record_argument = "change"
    comment_service = staticmethod(services.change_comment)
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state", "planned_start"]

    def get_queryset(self):
        return change_list_visible_to(user=self.request.user)

    def _fresh(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        change = self.get_queryset().get(pk=pk)
        return Response(ChangeSerializer(change, context=self.get_serializer_context()).data, status=code)

    def perform_create(self, serializer: ChangeSerializer) -> None:
        created = services.change_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: ChangeSerializer) -> None:
        updated = services.change_update(change=serializer.instance, by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    @extend_schema(request=EmptyInputSerializer, responses=ChangeSerializer, summary="New -> Assess (normal changes)")
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, number: str) -> Response:
        return self._run(request, "assess")

    @extend_schema(
        request=EmptyInputSerializer,
        responses=ChangeSerializer,
        summary="Ask the approvers: Assess -> Authorize (normal), New -> Authorize (emergency)",
    )
    @action(detail=True, methods=["post"])
    def request_approval(self, request: Request, number: str) -> Response:
        return self._run(request, "request_approval")

    @extend_schema(
        request=EmptyInputSerializer,
        responses=ChangeSerializer,
        summary="-> Scheduled: from Authorize once approved, from New for standard changes",
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, number: str) -> Response:
        return self._run(request, "schedule")

    @extend_schema(request=EmptyInputSerializer, responses=ChangeSerializer, summary="Scheduled -> Implement")
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, number: str) -> Response:
        return self._run(request, "implement")

    @extend_schema(
        request=ReviewInputSerializer, responses=ChangeSerializer, summary="Implement -> Review, with a close code"
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, number: str) -> Response:
        return self._run(request, "review")

    @extend_schema(request=CloseInputSerializer, responses=ChangeSerializer, summary="Review -> Closed")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._run(request, "close")

    @extend_schema(request=ReasonInputSerializer, responses=ChangeSerializer, summary="Cancel (not from Review)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._run(request, "cancel")

    @extend_schema(
        request=ReasonInputSerializer,
        responses=ChangeSerializer,
        summary="Back to New from Assess, Authorize or Scheduled; pending approvals are withdrawn",
    )
    @action(detail=True, methods=["post"])
    def revert_to_new(self, request: Request, number: str) -> Response:
        return self._run(request, "revert_to_new")

    @extend_schema(
        request=FromTemplateInputSerializer,
        responses={201: ChangeSerializer},
        summary="Raise a standard change from a template (scheduled at once when the window is given)",
    )
    @action(detail=False, methods=["post"], url_path="from-template")
    def from_template(self, request: Request) -> Response:
        data = FromTemplateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        change = services.change_create_from_template(by=request.user, **data.validated_data)
        return self._fresh(change.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=AssessRiskInputSerializer,
        responses={200: ChangeSerializer},
        summary="Answer the risk questionnaire; the risk follows from the total score",
    )
    @action(detail=True, methods=["post"], url_path="assess-risk")
    def assess_risk(self, request: Request, number: str) -> Response:
        change = self.get_object()
        data = AssessRiskInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.change_assess_risk(change=change, by=request.user, answers=data.validated_data["answers"])
        return self._fresh(change.pk)


class ChangeTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Active standard-change templates (agents only; admins maintain them)."""

    serializer_class = ChangeTemplateSerializer
    permission_classes = [AgentsOnlyElseNotFound]
    search_fields = ["name", "short_description"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields: list = []

    def get_queryset(self):
        return change_template_list_visible_to(user=self.request.user)


class RiskQuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The active risk questionnaire with its answer options and their scores (agents only)."""

    serializer_class = RiskQuestionSerializer
    permission_classes = [AgentsOnlyElseNotFound]
    pagination_class = None
    filterset_fields: list = []
    search_fields: list = []
    ordering_fields = ["order", "id"]
    ordering = ["order", "id"]

    def get_queryset(self):
        options = Prefetch("options", queryset=RiskAnswerOption.objects.order_by("order", "id"))
        return RiskQuestion.objects.filter(active=True).prefetch_related(options)
