"""Automation API serializers: the dry run's input (a ticket number or a draft) and its answer; categories."""

from __future__ import annotations

from rest_framework import serializers

from automation.enums import TriggerEvent
from automation.models import CategorySuggestion, ImprovementInitiative, TrainingRun
from catalog.models import ConfigurationItem, Service
from itsm.api.fields import NameOrIdRelatedField, UsernameField
from itsm.enums import Impact, TicketKind, Urgency
from itsm.models import Category, Team, Ticket

DRAFT_KINDS = [(k, v) for k, v in TicketKind.choices if k in ("incident", "problem", "change", "request")]


class DraftSerializer(serializers.Serializer):
    """A ticket that does not exist yet, as the rules would see it on creation."""

    kind = serializers.ChoiceField(choices=DRAFT_KINDS, default=TicketKind.INCIDENT)
    short_description = serializers.CharField(max_length=160)
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=20000)
    caller = UsernameField(required=False)
    impact = serializers.ChoiceField(choices=Impact.choices, default=Impact.LOW)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.LOW)
    assignment_group = NameOrIdRelatedField(queryset=Team.objects.filter(active=True), required=False)
    assigned_to = UsernameField(required=False)
    service = NameOrIdRelatedField(queryset=Service.objects.filter(active=True), required=False)
    configuration_item = NameOrIdRelatedField(queryset=ConfigurationItem.objects.filter(active=True), required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(active=True, parent__isnull=True), required=False
    )


class DryRunInputSerializer(serializers.Serializer):
    """Either `ticket` (a number) or `draft`; `event` limits the triggers to one event."""

    ticket = serializers.CharField(required=False, max_length=16)
    draft = DraftSerializer(required=False)
    event = serializers.ChoiceField(choices=TriggerEvent.choices, required=False)

    def validate(self, attrs):
        if ("ticket" in attrs) == ("draft" in attrs):
            raise serializers.ValidationError({"ticket": "Give either a ticket number or a draft."})
        return attrs


class StepSerializer(serializers.Serializer):
    source = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())
    note = serializers.CharField()


class TriggerPlanSerializer(serializers.Serializer):
    trigger = serializers.CharField()
    event = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())
    transition = serializers.CharField()
    notify = serializers.ListField(child=serializers.CharField())
    work_note = serializers.CharField()
    skipped = serializers.ListField(child=serializers.CharField())


class DryRunSerializer(serializers.Serializer):
    ticket = serializers.CharField(allow_null=True)
    rules = StepSerializer(many=True)
    triggers = TriggerPlanSerializer(many=True)


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "practice", "name", "parent", "order", "active"]


class CategorySuggestionSerializer(serializers.ModelSerializer):
    """The categoriser's suggestion for a ticket: applied automatically, or waiting for an agent's one click."""

    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    category = serializers.SlugRelatedField(slug_field="name", read_only=True)
    assignment_group = serializers.SlugRelatedField(slug_field="name", read_only=True)
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CategorySuggestion
        fields = [
            "ticket",
            "category",
            "confidence",
            "assignment_group",
            "group_confidence",
            "applied",
            "accepted_by",
            "dismissed_at",
            "created_at",
        ]
        read_only_fields = fields


class TrainingRunSerializer(serializers.ModelSerializer):
    """A training of the categoriser: its progress, then its held-out accuracy against the baseline."""

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "practice",
            "status",
            "progress",
            "message",
            "created_at",
            "finished_at",
            "samples",
            "classes",
            "top1",
            "top3",
            "baseline",
        ]
        read_only_fields = [name for name in fields if name != "practice"]


class TicketNumberField(serializers.SlugRelatedField):
    """A problem or change linked to an initiative, by number."""

    def __init__(self, *, kind: str, **kwargs):
        super().__init__(slug_field="number", queryset=Ticket.objects.filter(kind=kind), **kwargs)


class InitiativeSerializer(serializers.ModelSerializer):
    """An improvement initiative; its state moves only through the transition actions."""

    owner = UsernameField(required=False)
    service = NameOrIdRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    team = NameOrIdRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    problems = TicketNumberField(kind="problem", many=True, required=False)
    changes = TicketNumberField(kind="change", many=True, required=False)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = ImprovementInitiative
        fields = [
            "id",
            "title",
            "owner",
            "problem_statement",
            "metric",
            "practice",
            "service",
            "team",
            "baseline_value",
            "target_value",
            "problems",
            "changes",
            "state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class TrendInputSerializer(serializers.Serializer):
    practice = serializers.ChoiceField(choices=TicketKind.choices, required=False)
    service = NameOrIdRelatedField(queryset=Service.objects.all(), required=False)
    team = NameOrIdRelatedField(queryset=Team.objects.all(), required=False)
    months = serializers.IntegerField(min_value=1, max_value=36, default=12)


class TrendMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    volume = serializers.IntegerField()
    resolved = serializers.IntegerField()
    mttr_hours = serializers.FloatField(allow_null=True)
    first_contact_rate = serializers.FloatField(allow_null=True)
    reopen_rate = serializers.FloatField(allow_null=True)
    sla_compliance = serializers.FloatField(allow_null=True)
    backlog = serializers.IntegerField()
    backlog_age_days = serializers.FloatField(allow_null=True)
