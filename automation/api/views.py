"""Automation API: the dry run of rules and triggers, and the categories."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automation.api.serializers import (
    CategorySerializer,
    CategorySuggestionSerializer,
    DryRunInputSerializer,
    DryRunSerializer,
    InitiativeSerializer,
    TrainingRunSerializer,
    TrendInputSerializer,
    TrendMonthSerializer,
)
from automation.improvement import initiative_create, initiative_transition, initiative_update
from automation.learning import categoriser_request, suggestion_accept
from automation.models import CategorySuggestion, ImprovementInitiative, TrainingRun
from automation.services import dry_run
from automation.trends import initiative_trend, trends_by_month
from automation.triggers import practice_record
from itsm.api.tickets import AgentsOnlyElseNotFound
from itsm.models import Category, Ticket
from itsm.rules import is_admin
from itsm.selectors import priority_for


def draft_ticket(data: dict, *, by) -> Ticket:
    """An unsaved Ticket built from a validated draft (priority from the matrix, caller defaults to `by`)."""
    category = data.get("category")
    if category is not None and category.practice != data["kind"]:
        raise ValidationError({"draft": {"category": [f"'{category}' is not a {data['kind']} category."]}})
    fields = {name: data[name] for name in DRAFT_FIELDS if name in data}
    ticket = Ticket(**fields, caller=data.get("caller") or by, opened_by=by)
    ticket.priority = priority_for(impact=ticket.impact, urgency=ticket.urgency)
    return ticket


def dry_run_answer(data: dict, *, by) -> dict:
    """The dry run for validated input (DryRunInputSerializer): a ticket by number (NotFound) or a draft."""
    if "ticket" in data:
        ticket = Ticket.objects.filter(number=data["ticket"].strip().upper()).first()
        if ticket is None:
            raise NotFound(f"No ticket {data['ticket']}.")
        ticket = practice_record(ticket)
    else:
        ticket = draft_ticket(data["draft"], by=by)
    return {"ticket": ticket.number or None, **dry_run(ticket=ticket, event=data.get("event"))}


DRAFT_FIELDS = [
    "kind",
    "short_description",
    "description",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "service",
    "configuration_item",
    "category",
]


class DryRunView(APIView):
    """Which assignment rules and triggers would fire for a ticket (by number) or a draft, and what they would
    change. Nothing is written. Agents only."""

    permission_classes = [AgentsOnlyElseNotFound]

    @extend_schema(request=DryRunInputSerializer, responses=DryRunSerializer, summary="Dry run of rules and triggers")
    def post(self, request: Request) -> Response:
        given = DryRunInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(DryRunSerializer(dry_run_answer(given.validated_data, by=request.user)).data)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Categories and subcategories of every practice (filter with ?practice=incident)."""

    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["practice", "active", "parent"]
    ordering_fields = ["practice", "order", "name", "id"]
    ordering = ["practice", "order", "name", "id"]

    def get_queryset(self):
        return Category.objects.select_related("parent")


class CategorySuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The categoriser's suggestions, by ticket number; `accept` applies one with one click (agents only)."""

    serializer_class = CategorySuggestionSerializer
    permission_classes = [AgentsOnlyElseNotFound]
    lookup_field = "ticket__number"
    lookup_url_kwarg = "number"
    filterset_fields = ["applied"]
    ordering_fields = ["created_at", "confidence", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return CategorySuggestion.objects.select_related("ticket", "category", "assignment_group", "accepted_by")

    @extend_schema(request=None, responses=CategorySuggestionSerializer, summary="Accept the suggestion")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, number: str | None = None) -> Response:
        suggestion = self.get_object()
        try:
            suggestion_accept(ticket=practice_record(suggestion.ticket), by=request.user)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        suggestion.refresh_from_db()
        return Response(CategorySuggestionSerializer(suggestion).data)


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Trainings of the categoriser with their progress and accuracy; POST {"practice": "incident"} retrains now
    (admins only; the training runs in a worker)."""

    serializer_class = TrainingRunSerializer
    permission_classes = [AgentsOnlyElseNotFound]
    filterset_fields = ["practice", "status"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return TrainingRun.objects.defer("category_model", "group_model")

    def perform_create(self, serializer: TrainingRunSerializer) -> None:
        if not is_admin(self.request.user):
            raise PermissionDenied("Only admins can retrain the categoriser.")
        serializer.instance = categoriser_request(practice=serializer.validated_data["practice"], by=self.request.user)


class InitiativeViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The improvement register (agents): initiatives, their transitions and their metric's trend against target."""

    serializer_class = InitiativeSerializer
    permission_classes = [AgentsOnlyElseNotFound]
    filterset_fields = ["state", "metric", "practice", "team", "service", "owner"]
    ordering_fields = ["created_at", "updated_at", "title", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return ImprovementInitiative.objects.select_related("owner", "service", "team").prefetch_related(
            "problems", "changes"
        )

    def perform_create(self, serializer: InitiativeSerializer) -> None:
        serializer.instance = _refused(lambda: initiative_create(by=self.request.user, **serializer.validated_data))

    def perform_update(self, serializer: InitiativeSerializer) -> None:
        serializer.instance = _refused(
            lambda: initiative_update(initiative=serializer.instance, by=self.request.user, **serializer.validated_data)
        )

    def _transition(self, name: str) -> Response:
        initiative = _refused(
            lambda: initiative_transition(initiative=self.get_object(), by=self.request.user, name=name)
        )
        return Response(InitiativeSerializer(self.get_queryset().get(pk=initiative.pk)).data)

    @extend_schema(request=None, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        return self._transition("approve")

    @extend_schema(request=None, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk=None) -> Response:
        return self._transition("start")

    @extend_schema(request=None, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk=None) -> Response:
        return self._transition("complete")

    @extend_schema(request=None, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request: Request, pk=None) -> Response:
        return self._transition("abandon")

    @extend_schema(parameters=[OpenApiParameter("months", int)], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def trend(self, request: Request, pk=None) -> Response:
        months = TrendInputSerializer(data={"months": request.query_params.get("months", 12)})
        months.is_valid(raise_exception=True)
        return Response(initiative_trend(self.get_object(), months=months.validated_data["months"]))


def _refused(call):
    """Run a service; its ValidationError becomes a 400 naming the field, its PermissionDenied a 403."""
    try:
        return call()
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from error


class TrendView(APIView):
    """Monthly volume, MTTR, first-contact resolution, reopen rate, SLA compliance and backlog age (agents), for a
    practice, service and team (each optional)."""

    permission_classes = [AgentsOnlyElseNotFound]

    @extend_schema(parameters=[TrendInputSerializer], responses=TrendMonthSerializer(many=True))
    def get(self, request: Request) -> Response:
        given = TrendInputSerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        rows = trends_by_month(
            practice=data.get("practice"),
            service_id=data["service"].pk if data.get("service") else None,
            team_id=data["team"].pk if data.get("team") else None,
            months=data["months"],
        )
        return Response(TrendMonthSerializer(rows, many=True).data)
