"""Schedule API: admins write, agents read and compute deadlines and elapsed business time."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.api.permissions import IsAgent
from itsm.enums import TicketKind
from itsm.models import Category
from itsm.rules import is_admin, is_agent
from slas.api.serializers import (
    ComplianceReportSerializer,
    DeadlineInputSerializer,
    DeadlineSerializer,
    ElapsedInputSerializer,
    ElapsedSerializer,
    PreviewInputSerializer,
    PreviewSerializer,
    ScheduleSerializer,
    SLADefinitionSerializer,
)
from slas.forms import sla_compliance_form
from slas.models import SLADefinition
from slas.replay import sla_preview
from slas.reports import GROUPINGS, compliance_total, sla_compliance
from slas.selectors import schedule_list
from slas.services import schedule_save


class AgentsReadAdminsWrite(BasePermission):
    """Agents read and compute; only admins create, change or delete."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) in ("deadline", "elapsed"):
            return is_agent(request.user)
        return is_admin(request.user)


class ScheduleViewSet(viewsets.ModelViewSet):
    """Business-hours schedules with weekly spans and holidays."""

    serializer_class = ScheduleSerializer
    permission_classes = [AgentsReadAdminsWrite]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return schedule_list()

    def perform_create(self, serializer: ScheduleSerializer) -> None:
        serializer.instance = schedule_save(by=self.request.user, **serializer.to_service_kwargs())

    def perform_update(self, serializer: ScheduleSerializer) -> None:
        serializer.instance = schedule_save(
            by=self.request.user, schedule=serializer.instance, **serializer.to_service_kwargs()
        )

    @extend_schema(request=DeadlineInputSerializer, responses=DeadlineSerializer, summary="Business-time deadline")
    @action(detail=True, methods=["post"])
    def deadline(self, request: Request, pk: str | None = None) -> Response:
        schedule = self.get_object()
        data = DeadlineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            moment = schedule.calendar().deadline(
                data.validated_data["start"], data.validated_data["duration_minutes"] * 60
            )
        except ValueError as exc:  # a schedule with no business hours at all
            raise serializers.ValidationError({"duration_minutes": str(exc)}) from None
        return Response({"deadline": moment.isoformat()}, status=status.HTTP_200_OK)

    @extend_schema(request=ElapsedInputSerializer, responses=ElapsedSerializer, summary="Business seconds between")
    @action(detail=True, methods=["post"])
    def elapsed(self, request: Request, pk: str | None = None) -> Response:
        schedule = self.get_object()
        data = ElapsedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seconds = schedule.calendar().elapsed(data.validated_data["start"], data.validated_data["end"])
        return Response({"business_seconds": seconds})


class SLADefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA definitions (configured in the admin); `preview` replays recent tickets with one before activation."""

    serializer_class = SLADefinitionSerializer
    permission_classes = [AgentsReadAdminsWrite]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return SLADefinition.objects.select_related("schedule").prefetch_related(
            "match_services",
            "match_configuration_items",
            "match_assignment_groups",
            Prefetch("match_categories", queryset=Category.objects.select_related("parent")),
            "match_catalog_items",
            "actions__team",
        )

    @extend_schema(request=PreviewInputSerializer, responses=PreviewSerializer, summary="What-if replay")
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        definition = self.get_object()
        data = PreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(sla_preview(definition=definition, days=data.validated_data["days"]).as_dict())


class SLAReportViewSet(viewsets.ViewSet):
    """SLA reports for agents (team managers and admins included)."""

    permission_classes = [IsAgent]
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        summary="SLA compliance",
        description=(
            "Clocks started between `start` and `end` (whole days in the desk's timezone, both included), per group: "
            "met, breached (finished or running), in progress and cancelled; compliance is met / (met + breached). "
            "The range may cover at most two years; without dates it is the last 30 days."
        ),
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default 29 days ago."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included (YYYY-MM-DD); default today."),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), default="definition"),
            OpenApiParameter("practice", str, enum=list(TicketKind.values), description="Only tickets of this kind."),
            OpenApiParameter("team", int, description="Only tickets of this assignment group (team id)."),
        ],
        responses={
            200: ComplianceReportSerializer,
            400: OpenApiResponse(
                response={"$ref": "#/components/schemas/FieldErrors"},
                description="Invalid parameters; names the fields.",
            ),
        },
    )
    @action(detail=False, methods=["get"])
    def compliance(self, request: Request) -> Response:
        form = sla_compliance_form(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    "non_field_errors" if name == "__all__" else name: list(errors)
                    for name, errors in form.errors.items()
                }
            )
        rows = sla_compliance(**form.selector_kwargs())
        data = form.cleaned_data
        report = {
            "start": data["start"],
            "end": data["end"],
            "group_by": data["group_by"],
            "practice": data["practice"] or None,
            "team": data["team"].pk if data["team"] else None,
            "rows": rows,
            "total": compliance_total(rows=rows),
        }
        return Response(ComplianceReportSerializer(report).data)
