"""The problem API: problems and problem tasks (agents only; 404 for everyone else), one POST action per
transition, the transitions list, the journal, known errors, incident links, and the knowledge articles."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.serializers import IncidentSerializer
from incidents.selectors import incident_list_visible_to
from itsm.api.pagination import IdCursorPagination
from itsm.api.tickets import EmptyInputSerializer, ReasonInputSerializer, TicketViewSet, Transitions
from problems import services
from problems.api.serializers import (
    FixInputSerializer,
    IncidentLinkInputSerializer,
    KnowledgeArticleSerializer,
    KnownErrorInputSerializer,
    ProblemFromIncidentInputSerializer,
    ProblemReopenInputSerializer,
    ProblemResolveInputSerializer,
    ProblemSerializer,
    ProblemTaskSerializer,
    TaskCloseInputSerializer,
)
from problems.filtersets import KnowledgeArticleFilterSet, ProblemFilterSet, ProblemTaskFilterSet
from problems.selectors import (
    knowledge_article_list_visible_to,
    problem_list_visible_to,
    problem_task_list_visible_to,
)

PROBLEM_TRANSITIONS: Transitions = {
    "assess": (EmptyInputSerializer, services.problem_assess, lambda d: {}),
    "analyze": (EmptyInputSerializer, services.problem_analyze, lambda d: {}),
    "fix": (FixInputSerializer, services.problem_fix, lambda d: d),
    "resolve": (ProblemResolveInputSerializer, services.problem_resolve, lambda d: d),
    "close": (EmptyInputSerializer, services.problem_close, lambda d: {}),
    "cancel": (ReasonInputSerializer, services.problem_cancel, lambda d: d),
    "reopen": (ProblemReopenInputSerializer, services.problem_reopen, lambda d: d),
}
TASK_TRANSITIONS: Transitions = {
    "assess": (EmptyInputSerializer, services.problem_task_assess, lambda d: {}),
    "start": (EmptyInputSerializer, services.problem_task_start, lambda d: {}),
    "close": (TaskCloseInputSerializer, services.problem_task_close, lambda d: d),
}


class ProblemViewSet(TicketViewSet):
    """Problems, looked up by number (PRB0001001); agents only."""

    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    transitions_table = PROBLEM_TRANSITIONS
    record_argument = "problem"
    comment_service = staticmethod(services.problem_comment)

    def get_queryset(self):
        return problem_list_visible_to(user=self.request.user)

    def perform_create(self, serializer: ProblemSerializer) -> None:
        created = services.problem_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: ProblemSerializer) -> None:
        updated = services.problem_update(
            problem=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    @extend_schema(request=EmptyInputSerializer, responses=ProblemSerializer, summary="New -> Assess")
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, number: str) -> Response:
        return self._run(request, "assess")

    @extend_schema(request=EmptyInputSerializer, responses=ProblemSerializer, summary="Assess -> Root Cause Analysis")
    @action(detail=True, methods=["post"])
    def analyze(self, request: Request, number: str) -> Response:
        return self._run(request, "analyze")

    @extend_schema(
        request=FixInputSerializer, responses=ProblemSerializer, summary="Root Cause Analysis -> Fix in Progress"
    )
    @action(detail=True, methods=["post"])
    def fix(self, request: Request, number: str) -> Response:
        return self._run(request, "fix")

    @extend_schema(
        request=ProblemResolveInputSerializer,
        responses=ProblemSerializer,
        summary="Resolve with a resolution code (optionally resolving incidents awaiting it)",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str) -> Response:
        return self._run(request, "resolve")

    @extend_schema(request=EmptyInputSerializer, responses=ProblemSerializer, summary="Resolved -> Closed")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._run(request, "close")

    @extend_schema(request=ReasonInputSerializer, responses=ProblemSerializer, summary="Cancel an open problem")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        return self._run(request, "cancel")

    @extend_schema(
        request=ProblemReopenInputSerializer, responses=ProblemSerializer, summary="Resolved -> Root Cause Analysis"
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, number: str) -> Response:
        return self._run(request, "reopen")

    @extend_schema(
        request=KnownErrorInputSerializer,
        responses={200: ProblemSerializer},
        summary="Mark as a known error and publish its knowledge article",
    )
    @action(detail=True, methods=["post"], url_path="mark-known-error")
    def mark_known_error(self, request: Request, number: str) -> Response:
        problem = self.get_object()
        data = KnownErrorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.problem_mark_known_error(problem=problem, by=request.user, **data.validated_data)
        problem = self.get_queryset().get(pk=problem.pk)
        return Response(ProblemSerializer(problem, context=self.get_serializer_context()).data)

    def _incident(self, number: str):
        incident = incident_list_visible_to(user=self.request.user).filter(number=number.strip().upper()).first()
        if incident is None:
            raise serializers.ValidationError({"incident": f"No incident numbered '{number}'."})
        return incident

    @extend_schema(
        request=ProblemFromIncidentInputSerializer,
        responses={201: ProblemSerializer},
        summary="Create a problem from an incident and link the incident",
    )
    @action(detail=False, methods=["post"], url_path="from-incident")
    def from_incident(self, request: Request) -> Response:
        data = ProblemFromIncidentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = self._incident(data.validated_data["incident"])
        problem = services.problem_create_from_incident(incident=incident, by=request.user)
        problem = self.get_queryset().get(pk=problem.pk)
        return Response(
            ProblemSerializer(problem, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=IncidentLinkInputSerializer,
        responses={200: IncidentSerializer},
        summary="Link an incident to this problem",
    )
    @action(detail=True, methods=["post"], url_path="link-incident")
    def link_incident(self, request: Request, number: str) -> Response:
        problem = self.get_object()
        data = IncidentLinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.problem_link_incident(
            problem=problem, incident=self._incident(data.validated_data["incident"]), by=request.user
        )
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)

    @extend_schema(
        request=IncidentLinkInputSerializer,
        responses={200: IncidentSerializer},
        summary="Unlink an incident from this problem",
    )
    @action(detail=True, methods=["post"], url_path="unlink-incident")
    def unlink_incident(self, request: Request, number: str) -> Response:
        problem = self.get_object()
        data = IncidentLinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.problem_unlink_incident(
            problem=problem, incident=self._incident(data.validated_data["incident"]), by=request.user
        )
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)


class ProblemTaskViewSet(TicketViewSet):
    """Problem tasks, looked up by number (PTASK0001001); agents only."""

    serializer_class = ProblemTaskSerializer
    filterset_class = ProblemTaskFilterSet
    transitions_table = TASK_TRANSITIONS
    record_argument = "task"
    comment_service = staticmethod(services.problem_task_comment)

    def get_queryset(self):
        return problem_task_list_visible_to(user=self.request.user)

    def perform_create(self, serializer: ProblemTaskSerializer) -> None:
        created = services.problem_task_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: ProblemTaskSerializer) -> None:
        updated = services.problem_task_update(
            task=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    @extend_schema(request=EmptyInputSerializer, responses=ProblemTaskSerializer, summary="New -> Assess")
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, number: str) -> Response:
        return self._run(request, "assess")

    @extend_schema(
        request=EmptyInputSerializer, responses=ProblemTaskSerializer, summary="New or Assess -> Work in Progress"
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str) -> Response:
        return self._run(request, "start")

    @extend_schema(request=TaskCloseInputSerializer, responses=ProblemTaskSerializer, summary="Close with notes")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._run(request, "close")


class KnowledgeArticleViewSet(viewsets.ReadOnlyModelViewSet):
    """Knowledge articles: all for agents, published ones for other signed-in users; filter by CI or service."""

    serializer_class = KnowledgeArticleSerializer
    filterset_class = KnowledgeArticleFilterSet
    search_fields = ["title", "body"]
    ordering_fields = ["updated_at", "created_at", "title", "id"]
    ordering = ["-updated_at"]
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return knowledge_article_list_visible_to(user=self.request.user)
