"""Change API serializers: changes, their conflicts and tasks, templates, the risk questionnaire, the calendar and
each transition's input."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from catalog.models import ConfigurationItem, Service
from changes.enums import (
    ChangeApproval,
    ChangeCloseCode,
    ChangeConflictKind,
    ChangeRisk,
    ChangeState,
    ChangeTaskState,
    ChangeType,
    ChangeWindowKind,
)
from changes.models import (
    Change,
    ChangeConflict,
    ChangeRiskAnswer,
    ChangeTask,
    ChangeTemplate,
    RiskAnswerOption,
    RiskQuestion,
)
from itsm.api.fields import CategoryField, NameOrIdRelatedField, UsernameField
from itsm.api.tickets import TEXT_LIMIT, TicketFieldsSerializer, refuse_owned

_STATE = "Use POST /api/v1/changes/{number}/{transition}/ to change the state."
_CHANGE_OWNED = {
    "state": _STATE,
    "state_code": _STATE,
    "priority": "Priority is derived from impact and urgency; change those instead.",
    "risk": "Use POST /api/v1/changes/{number}/assess-risk/.",
    "risk_score": "Use POST /api/v1/changes/{number}/assess-risk/.",
    "approval": "Set by the approvals (POST /api/v1/approvals/{id}/approve/ or reject/).",
    "close_code": "Set by the 'review' transition.",
    "close_notes": "Set by the 'review' transition.",
    "review_notes": "Set by the 'close' transition.",
    "template": "Use POST /api/v1/changes/from-template/.",
}


class ChangeRiskAnswerSerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="question.text", read_only=True)
    question_id = serializers.IntegerField(read_only=True)
    answer = serializers.CharField(source="option.label", read_only=True)
    option_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChangeRiskAnswer
        fields = ["question_id", "question", "option_id", "answer", "score"]
        read_only_fields = fields


class ChangeConflictSerializer(serializers.ModelSerializer):
    """One conflict of a change, with its reason."""

    kind = serializers.ChoiceField(choices=ChangeConflictKind.choices, read_only=True)
    other_change = serializers.SlugRelatedField(slug_field="number", read_only=True)
    window = serializers.SlugRelatedField(slug_field="name", read_only=True)
    configuration_item = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = ChangeConflict
        fields = ["kind", "reason", "other_change", "window", "configuration_item", "detected_at"]
        read_only_fields = fields


class ChangeSerializer(TicketFieldsSerializer):
    """A change as integrations read and write it (agents only)."""

    state = serializers.ChoiceField(choices=ChangeState.choices, read_only=True)
    change_type = serializers.ChoiceField(choices=ChangeType.choices, required=False)
    risk = serializers.ChoiceField(choices=ChangeRisk.choices, read_only=True)
    approval = serializers.ChoiceField(choices=ChangeApproval.choices, read_only=True)
    close_code = serializers.ChoiceField(choices=ChangeCloseCode.choices, read_only=True)
    requested_by = UsernameField(source="caller", required=False)
    template = serializers.SlugRelatedField(slug_field="name", read_only=True)
    affected_cis = NameOrIdRelatedField(
        queryset=ConfigurationItem.objects.filter(active=True), many=True, required=False
    )
    affected_services = NameOrIdRelatedField(queryset=Service.objects.filter(active=True), many=True, required=False)
    risk_answers = ChangeRiskAnswerSerializer(many=True, read_only=True)
    conflicts = ChangeConflictSerializer(many=True, read_only=True)
    category = CategoryField(practice="change")
    subcategory = CategoryField(practice="change", sub=True)

    class Meta:
        model = Change
        fields = [
            "number",
            "change_type",
            "short_description",
            "description",
            "requested_by",
            "opened_by",
            "impact",
            "urgency",
            "priority",
            "state",
            "state_code",
            "state_category",
            "active",
            "approval",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "category",
            "subcategory",
            "affected_cis",
            "affected_services",
            "template",
            "justification",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "risk",
            "risk_score",
            "risk_explanation",
            "risk_answers",
            "close_code",
            "close_notes",
            "review_notes",
            "conflicts",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = [
            "number",
            "active",
            "risk_score",
            "risk_explanation",
            "close_notes",
            "review_notes",
            "actual_start",
            "actual_end",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
        ]
        extra_kwargs = {
            "short_description": {"required": True},
            "description": {"required": False},
            "justification": {"required": False, "max_length": TEXT_LIMIT},
            "implementation_plan": {"required": False, "max_length": TEXT_LIMIT},
            "backout_plan": {"required": False, "max_length": TEXT_LIMIT},
            "test_plan": {"required": False, "max_length": TEXT_LIMIT},
        }

    def validate(self, attrs):
        refuse_owned(self, _CHANGE_OWNED)
        start = attrs.get("planned_start", getattr(self.instance, "planned_start", None))
        end = attrs.get("planned_end", getattr(self.instance, "planned_end", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"planned_end": "The planned end must be after the planned start."})
        return attrs


class ChangeTemplateSerializer(serializers.ModelSerializer):
    """A pre-approved standard change (read-only; admins maintain them)."""

    assignment_group = serializers.SlugRelatedField(slug_field="name", read_only=True)
    service = serializers.SlugRelatedField(slug_field="name", read_only=True)
    configuration_item = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = ChangeTemplate
        fields = [
            "id",
            "name",
            "short_description",
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "assignment_group",
            "service",
            "configuration_item",
        ]
        read_only_fields = fields


class FromTemplateInputSerializer(serializers.Serializer):
    template = NameOrIdRelatedField(queryset=ChangeTemplate.objects.filter(active=True), help_text="Name or id.")
    planned_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    planned_end = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="With the start: the change is scheduled at once."
    )
    short_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=160)
    assigned_to = UsernameField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        start, end = attrs.get("planned_start"), attrs.get("planned_end")
        if bool(start) != bool(end):
            raise serializers.ValidationError({"planned_end" if start else "planned_start": "Give both or neither."})
        if start and end <= start:
            raise serializers.ValidationError({"planned_end": "The planned end must be after the planned start."})
        return attrs


class RiskAnswerOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskAnswerOption
        fields = ["id", "label", "score"]


class RiskQuestionSerializer(serializers.ModelSerializer):
    options = RiskAnswerOptionSerializer(many=True, read_only=True)

    class Meta:
        model = RiskQuestion
        fields = ["id", "text", "order", "options"]


class AssessRiskInputSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        help_text="Question id (as a string key) to the chosen option id, for every active question.",
    )

    def validate_answers(self, value):
        try:
            return {int(key): option for key, option in value.items()}
        except ValueError:
            raise serializers.ValidationError("Keys must be question ids.") from None


class ReviewInputSerializer(serializers.Serializer):
    close_code = serializers.ChoiceField(choices=ChangeCloseCode.choices)
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)


class CloseInputSerializer(serializers.Serializer):
    review_notes = serializers.CharField(max_length=TEXT_LIMIT)


class ScheduleInputSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Change managers only: schedule despite the change's conflicts, for this reason (journaled).",
    )


class ChangeNumberField(NameOrIdRelatedField):
    """A change, by number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Change.objects.all())
        super().__init__(name_field="number", **kwargs)


class ChangeTaskSerializer(TicketFieldsSerializer):
    """A change task, assigned to a team (agents only)."""

    state = serializers.ChoiceField(choices=ChangeTaskState.choices, read_only=True)
    change = ChangeNumberField(queryset=Change.objects.filter(active=True))
    category = CategoryField(practice="change_task")
    subcategory = CategoryField(practice="change_task", sub=True)

    class Meta:
        model = ChangeTask
        fields = [
            "number",
            "change",
            "short_description",
            "description",
            "opened_by",
            "priority",
            "state",
            "state_code",
            "state_category",
            "active",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "category",
            "subcategory",
            "close_notes",
            "opened_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = ["number", "active", "close_notes", "opened_at", "closed_at", "updated_at"]
        extra_kwargs = {"short_description": {"required": True}, "description": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        for name in ("service", "configuration_item"):  # from the change
            fields[name].read_only = True
        return fields

    def validate(self, attrs):
        refuse_owned(
            self,
            {
                "state": "Use POST /api/v1/change-tasks/{number}/{transition}/ to change the state.",
                "state_code": "Use POST /api/v1/change-tasks/{number}/{transition}/ to change the state.",
                "change": "A task stays with its change.",
            },
            fixed=frozenset({"change"}),
        )
        return attrs


@extend_schema_serializer(component_name="ChangeTaskCloseInput")  # problems has a TaskCloseInput of its own
class TaskCloseInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)


@extend_schema_field(OpenApiTypes.STR)
class _DateOrDateTimeField(serializers.Field):
    """An ISO date (midnight, current time zone) or date-time."""

    default_error_messages = {"invalid": "Give an ISO date (2026-12-01) or date-time (2026-12-01T08:00:00Z)."}

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            value = parse_datetime(text)
            if value is None:
                day = parse_date(text)
                value = datetime.combine(day, time()) if day else None
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def to_representation(self, value):
        return value.isoformat()


class CalendarQuerySerializer(serializers.Serializer):
    start = _DateOrDateTimeField(help_text="From (inclusive): an ISO date or date-time.")
    end = _DateOrDateTimeField(help_text="To (exclusive): an ISO date or date-time.")

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        limit = getattr(settings, "ITSM_CHANGE_CALENDAR_MAX_DAYS", 92)  # settings: default 92
        if attrs["end"] - attrs["start"] > timedelta(days=limit):
            raise serializers.ValidationError({"end": f"The range may span at most {limit} days."})
        return attrs


class CalendarChangeSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=ChangeState.choices, read_only=True)
    change_type = serializers.ChoiceField(choices=ChangeType.choices, read_only=True)
    risk = serializers.ChoiceField(choices=ChangeRisk.choices, read_only=True)
    assignment_group = serializers.SlugRelatedField(slug_field="name", read_only=True)
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True)
    affected_cis = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    conflicts = ChangeConflictSerializer(many=True, read_only=True)

    class Meta:
        model = Change
        fields = [
            "number",
            "short_description",
            "change_type",
            "state",
            "risk",
            "planned_start",
            "planned_end",
            "assignment_group",
            "assigned_to",
            "affected_cis",
            "conflicts",
        ]
        read_only_fields = fields


class CalendarWindowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="window.pk")
    kind = serializers.ChoiceField(choices=ChangeWindowKind.choices, source="window.kind")
    name = serializers.CharField(source="window.name")
    description = serializers.CharField(source="window.describe")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    configuration_items = serializers.ListField(child=serializers.CharField())
    services = serializers.ListField(child=serializers.CharField())


class CalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    changes = CalendarChangeSerializer(many=True)
    windows = CalendarWindowSerializer(many=True)
