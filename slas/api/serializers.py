"""Schedule API serializers: spans as weekday names and HH:MM, holidays as dates."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from slas.business_time import WEEKDAYS, format_clock, parse_clock
from slas.models import Schedule, SLADefinition
from slas.selectors import clock_live
from slas.services import HolidayInput, SpanInput


class SpanSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=list(WEEKDAYS))
    start = serializers.CharField(help_text="Local wall-clock time, HH:MM (or HH:MM:SS).")
    end = serializers.CharField(help_text="Local wall-clock time, HH:MM; 24:00 is the end of the day.")

    def validate_start(self, value: str) -> int:
        try:
            return parse_clock(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    validate_end = validate_start

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        return attrs

    def to_representation(self, instance) -> dict:
        return {
            "weekday": WEEKDAYS[instance.weekday],
            "start": format_clock(instance.start),
            "end": format_clock(instance.end),
        }


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    yearly = serializers.BooleanField(required=False, default=False)


class ScheduleSerializer(serializers.ModelSerializer):
    spans = SpanSerializer(many=True)
    holidays = HolidaySerializer(many=True, required=False)
    timezone = serializers.CharField(max_length=64, help_text="IANA timezone name, e.g. Europe/Berlin.")

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "timezone",
            "description",
            "spans",
            "holidays",
            "holiday_country",
            "holiday_subdivision",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "spans" in data:
            data["spans"] = [SpanInput(WEEKDAYS.index(s["weekday"]), s["start"], s["end"]) for s in data["spans"]]
        if "holidays" in data:
            data["holidays"] = [HolidayInput(h["date"], h["name"], h["yearly"]) for h in data["holidays"]]
        return data


def _aware(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise serializers.ValidationError({field: "Give an ISO 8601 date and time with an offset."}) from None
    if moment.tzinfo is None:
        raise serializers.ValidationError({field: "Include a UTC offset, e.g. 2026-03-27T16:00:00+01:00."})
    if not 1971 <= moment.year <= 9000:
        raise serializers.ValidationError({field: "Give a year between 1971 and 9000."})
    return moment


class DeadlineInputSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="ISO 8601 with offset.")
    duration_minutes = serializers.IntegerField(min_value=0, max_value=10 * 366 * 24 * 60)

    def validate(self, attrs):
        attrs["start"] = _aware(attrs["start"], "start")
        return attrs


class DeadlineSerializer(serializers.Serializer):
    deadline = serializers.CharField(help_text="ISO 8601 in the schedule's timezone.")


class ElapsedInputSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="ISO 8601 with offset.")
    end = serializers.CharField(help_text="ISO 8601 with offset.")

    def validate(self, attrs):
        attrs["start"] = _aware(attrs["start"], "start")
        attrs["end"] = _aware(attrs["end"], "end")
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end must not be before the start."})
        if attrs["end"] - attrs["start"] > timedelta(days=3660):
            raise serializers.ValidationError({"end": "The range may cover at most ten years."})
        return attrs


class ElapsedSerializer(serializers.Serializer):
    business_seconds = serializers.IntegerField()


class SLAClockListSerializer(serializers.ListSerializer):
    """A ticket's clocks: those its list or detail read prefetched, else read with their definitions and schedules in
    one query (the ticket a write answers with has none prefetched, and each clock read its definition alone)."""

    def to_representation(self, data):
        if isinstance(data, models.Manager):
            data = data.all()
            if data._result_cache is None:  # not prefetched
                data = data.select_related("definition", "schedule")
        return super().to_representation(data)


class SLAClockSerializer(serializers.Serializer):
    """One SLA clock on a ticket, with its figures as of the request.

    The fields declare the schema; `to_representation` builds the same dict directly. A list page shows about fifty
    clocks, and walking fifteen fields per clock generically was half of the page's serialising time."""

    id = serializers.IntegerField()
    definition = serializers.CharField(source="definition.name")
    sla_type = serializers.CharField(source="definition.sla_type")
    target = serializers.CharField(source="definition.target")
    stage = serializers.CharField()
    has_breached = serializers.BooleanField()
    duration_seconds = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True, help_text="The breach time; null while paused.")
    business_elapsed_seconds = serializers.IntegerField()
    business_remaining_seconds = serializers.IntegerField()
    actual_elapsed_seconds = serializers.IntegerField()
    pause_seconds = serializers.IntegerField()
    percentage = serializers.FloatField()

    class Meta:
        list_serializer_class = SLAClockListSerializer

    def to_representation(self, clock) -> dict:
        live = clock_live(clock)
        definition = clock.definition
        moment = self.fields["started_at"].to_representation  # DRF's own datetime rendering (zone, format)
        return {
            "id": clock.pk,
            "definition": definition.name,
            "sla_type": str(definition.sla_type),
            "target": str(definition.target),
            "stage": str(clock.stage),
            "has_breached": live["has_breached"],
            "duration_seconds": clock.duration_seconds,
            "started_at": moment(clock.started_at),
            "stopped_at": moment(clock.stopped_at) if clock.stopped_at else None,
            "due_at": moment(clock.due_at) if clock.due_at else None,
            "business_elapsed_seconds": live["business_elapsed_seconds"],
            "business_remaining_seconds": live["business_remaining_seconds"],
            "actual_elapsed_seconds": live["actual_elapsed_seconds"],
            "pause_seconds": live["pause_seconds"],
            "percentage": live["percentage"],
        }


class SLAActionSerializer(serializers.Serializer):
    percent = serializers.IntegerField()
    kind = serializers.CharField()
    team = serializers.CharField(source="team.name", allow_null=True, default=None)


class SLADefinitionSerializer(serializers.ModelSerializer):
    """An SLA definition as configured in the admin (read-only over the API)."""

    schedule = serializers.SlugRelatedField(slug_field="name", read_only=True)
    match_services = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    match_configuration_items = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    match_assignment_groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    match_categories = serializers.StringRelatedField(many=True, read_only=True)
    match_catalog_items = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    actions = SLAActionSerializer(many=True, read_only=True)

    class Meta:
        model = SLADefinition
        fields = [
            "id",
            "name",
            "sla_type",
            "target",
            "practice",
            "active",
            "replaces",
            "order",
            "match_priorities",
            "match_services",
            "match_configuration_items",
            "match_assignment_groups",
            "match_categories",
            "match_catalog_items",
            "start_condition",
            "pause_condition",
            "stop_condition",
            "reset_condition",
            "cancel_condition",
            "duration_seconds",
            "schedule",
            "schedule_source",
            "thresholds",
            "actions",
        ]
        read_only_fields = fields


class PreviewInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class PreviewSerializer(serializers.Serializer):
    tickets = serializers.IntegerField(help_text="Tickets of the practice opened in the window.")
    attached = serializers.IntegerField(help_text="Clocks the definition would attach.")
    breached = serializers.IntegerField(help_text="Of those, how many would breach.")
    due_changed = serializers.IntegerField(help_text="Tickets whose due times differ from the replaced version.")
    baseline_attached = serializers.IntegerField(help_text="Clocks of the version it replaces, same window.")
    baseline_breached = serializers.IntegerField()


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
        "description": "What the group is: definition, team or service id, practice name, priority number; null for "
        "tickets without a team or service, and in the total.",
    }
)
class GroupKeyField(serializers.Field):
    def to_representation(self, value):
        return value


class ComplianceRowSerializer(serializers.Serializer):
    """One group of the compliance report; every clock started in the range counts in exactly one of the four."""

    key = GroupKeyField()
    label = serializers.CharField()
    met = serializers.IntegerField(help_text="Completed within the target.")
    breached = serializers.IntegerField(help_text="Breached, whether finished or still running.")
    in_progress = serializers.IntegerField(help_text="Running or paused and not breached yet.")
    cancelled = serializers.IntegerField(help_text="Cancelled clocks; not part of the compliance rate.")
    total = serializers.IntegerField()
    compliance = serializers.FloatField(
        allow_null=True,
        help_text="met / (met + breached) in percent, rounded down to one decimal; null when none finished.",
    )


class ComplianceReportSerializer(serializers.Serializer):
    """The compliance report: its parameters as applied, a row per group and the total."""

    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")
    group_by = serializers.CharField()
    practice = serializers.CharField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    rows = ComplianceRowSerializer(many=True)
    total = ComplianceRowSerializer()
