"""The change API: changes (agents only; 404 for everyone else), one POST action per transition, the transitions
list, the journal, conflicts, the calendar, change tasks, standard changes from templates, the risk questionnaire."""

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
    CalendarQuerySerializer,
    CalendarSerializer,
    ChangeConflictSerializer,
    ChangeSerializer,
    ChangeTaskSerializer,
    ChangeTemplateSerializer,
    CloseInputSerializer,
    FromTemplateInputSerializer,
    ReviewInputSerializer,
    RiskQuestionSerializer,
    ScheduleInputSerializer,
    TaskCloseInputSerializer,
)
from changes.filtersets import ChangeFilterSet, ChangeTaskFilterSet
from changes.models import RiskAnswerOption, RiskQuestion
from changes.selectors import (
    change_calendar,
    change_list_visible_to,
    change_task_list_visible_to,
    change_template_list_visible_to,
)
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
    "schedule": (ScheduleInputSerializer, services.change_schedule, lambda d: d),
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
        request=ScheduleInputSerializer,
        responses=ChangeSerializer,
        summary="-> Scheduled: from Authorize once approved, from New for standard changes; 409 with the conflicts "
        "unless a change manager gives an override reason",
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
        services.change_ensure_tasks_done(change=self.get_object())  # 409 naming the open tasks
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

    @extend_schema(responses=ChangeConflictSerializer(many=True), summary="The change's conflicts, with their reasons")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def conflicts(self, request: Request, number: str) -> Response:
        change = self.get_object()
        return Response(ChangeConflictSerializer(change.conflicts.all(), many=True).data)

    @extend_schema(
        parameters=[CalendarQuerySerializer],
        responses=CalendarSerializer,
        summary="Changes planned in a range, with the blackout and maintenance windows' occurrences in it",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def calendar(self, request: Request) -> Response:
        query = CalendarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = change_calendar(user=request.user, **query.validated_data)
        return Response(CalendarSerializer(data, context=self.get_serializer_context()).data)

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


CHANGE_TASK_TRANSITIONS: Transitions = {
    "assess": (EmptyInputSerializer, services.change_task_assess, lambda d: {}),
    "start": (EmptyInputSerializer, services.change_task_start, lambda d: {}),
    "close": (TaskCloseInputSerializer, services.change_task_close, lambda d: d),
    "cancel": (ReasonInputSerializer, services.change_task_cancel, lambda d: d),
}


class ChangeTaskViewSet(TicketViewSet):
    """Change tasks, looked up by number (CTASK0001001); agents only."""

    serializer_class = ChangeTaskSerializer
    filterset_class = ChangeTaskFilterSet
    transitions_table = CHANGE_TASK_TRANSITIONS
    record_argument = "task"
    comment_service = staticmethod(services.change_task_comment)

    def get_queryset(self):
        return change_task_list_visible_to(user=self.request.user)

    def perform_create(self, serializer: ChangeTaskSerializer) -> None:
        created = services.change_task_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: ChangeTaskSerializer) -> None:
        updated = services.change_task_update(
            task=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    @extend_schema(request=EmptyInputSerializer, responses=ChangeTaskSerializer, summary="New -> Assess")
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, number: str) -> Response:
        return self._run(request, "assess")

    @extend_schema(
        request=EmptyInputSerializer, responses=ChangeTaskSerializer, summary="New or Assess -> Work in Progress"
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str) -> Response:
        return self._run(request, "start")

    @extend_schema(request=TaskCloseInputSerializer, responses=ChangeTaskSerializer, summary="Close with notes")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._run(request, "close")

    @extend_schema(request=ReasonInputSerializer, responses=ChangeTaskSerializer, summary="Cancel, with a reason")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._run(request, "cancel")
