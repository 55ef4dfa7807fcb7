"""Incident API serializers: the read/write record, each transition's input, and the journal."""

from __future__ import annotations

from rest_framework import serializers

from automation.api.serializers import CategorySuggestionSerializer
from catalog.models import ConfigurationItem, Service
from incidents.enums import IncidentState
from incidents.models import CloseCode, HoldReason, Incident
from incidents.services import STAFF_FIELDS
from itsm.api.fields import CategoryField, NameOrIdRelatedField, UsernameField
from itsm.api.tickets import TEXT_LIMIT
from itsm.enums import Impact, Priority, StateCategory, Urgency
from itsm.models import Team
from itsm.rules import is_agent
from slas.api.serializers import SLAClockSerializer

# Fields an integration might send back from a GET that only transitions or the matrix may change.
_TRANSITION_OWNED = {
    "state": "Use POST /api/v1/incidents/{number}/{transition}/ to change the state.",
    "state_code": "Use POST /api/v1/incidents/{number}/{transition}/ to change the state.",
    "priority": "Priority is derived from impact and urgency; change those instead.",
    "hold_reason": "Set by the 'hold' transition.",
    "close_code": "Set by the 'resolve' transition.",
    "close_notes": "Set by the 'resolve' transition.",
}


class IncidentParentField(NameOrIdRelatedField):
    """The parent incident, by number (numbers are never digits only, so an id cannot collide with one)."""

    def __init__(self, **kwargs):
        super().__init__(name_field="number", queryset=Incident.objects.all(), **kwargs)


class ProblemNumberField(NameOrIdRelatedField):
    """The problem an incident is linked to, by number (agents only: end users never see problems)."""

    def __init__(self, **kwargs):
        from problems.models import Problem

        super().__init__(name_field="number", queryset=Problem.objects.all(), **kwargs)


class ChangeNumberField(NameOrIdRelatedField):
    """The change that caused an incident, by number (agents only: end users never see changes)."""

    def __init__(self, **kwargs):
        from changes.models import Change

        super().__init__(name_field="number", queryset=Change.objects.all(), **kwargs)


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as integrations read and write it."""

    caller = UsernameField(required=False)
    assignment_group = NameOrIdRelatedField(queryset=Team.objects.filter(active=True), required=False, allow_null=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    service = NameOrIdRelatedField(queryset=Service.objects.filter(active=True), required=False, allow_null=True)
    configuration_item = NameOrIdRelatedField(
        queryset=ConfigurationItem.objects.filter(active=True), required=False, allow_null=True
    )
    category = CategoryField(practice="incident")
    subcategory = CategoryField(practice="incident", sub=True)
    category_suggestion = CategorySuggestionSerializer(read_only=True)
    parent = IncidentParentField(required=False, allow_null=True)
    problem = ProblemNumberField(required=False, allow_null=True)
    caused_by_change = ChangeNumberField(required=False, allow_null=True)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    state = serializers.ChoiceField(choices=IncidentState.choices, read_only=True)
    state_code = serializers.IntegerField(read_only=True)
    state_category = serializers.ChoiceField(choices=StateCategory.choices, read_only=True)
    hold_reason = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    close_code = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sla_clocks = SLAClockSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "number",
            "short_description",
            "description",
            "caller",
            "opened_by",
            "impact",
            "urgency",
            "priority",
            "state",
            "state_code",
            "state_category",
            "active",
            "hold_reason",
            "close_code",
            "close_notes",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "category",
            "subcategory",
            "category_suggestion",
            "parent",
            "major_incident",
            "problem",
            "caused_by_change",
            "reopen_count",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = [
            "number",
            "close_notes",
            "active",
            "reopen_count",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
        ]
        extra_kwargs = {"short_description": {"required": True}, "description": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not is_agent(request.user):
            # End users never reach the lookups of staff fields, so an error cannot reveal which names exist.
            for name in STAFF_FIELDS:
                fields[name].read_only = True
            # Problems are agents' records: an end user does not learn that one exists.
            fields.pop("problem", None)
            fields.pop("category_suggestion", None)
            fields.pop("caused_by_change", None)
        return fields

    def validate(self, attrs):
        errors = {}
        for field, message in _TRANSITION_OWNED.items():
            if field in self.initial_data:
                current = self.to_representation(self.instance).get(field) if self.instance else None
                if self.instance is None or self.initial_data[field] != current:
                    errors[field] = message
        request = self.context.get("request")
        if request is not None and not is_agent(request.user):
            for field in STAFF_FIELDS:
                if field in self.initial_data:
                    errors[field] = "Only agents can set this field."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class HoldInputSerializer(serializers.Serializer):
    hold_reason = serializers.SlugRelatedField(slug_field="slug", queryset=HoldReason.objects.filter(active=True))
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Required when waiting for the caller: what the caller must do.",
    )


class ResolveInputSerializer(serializers.Serializer):
    close_code = serializers.SlugRelatedField(slug_field="slug", queryset=CloseCode.objects.filter(active=True))
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)


class CommentInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class HoldReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = HoldReason
        fields = ["slug", "name", "category"]


class CloseCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CloseCode
        fields = ["slug", "name"]
