"""Service request API serializers: orders (REQ), requested items (RITM), fulfilment tasks (TASK) and each
transition's input."""

from __future__ import annotations

from rest_framework import serializers

from itsm.api.tickets import TEXT_LIMIT, TicketFieldsSerializer
from itsm.rules import is_agent
from requests_app.enums import FulfilmentTaskState, RequestedItemState, RequestState
from requests_app.models import FulfilmentTask, Request, RequestedItem

# What end users never read on their own records: who works it internally, and the SLA clocks.
INTERNAL_FIELDS = ("assignment_group", "assigned_to", "opened_by", "sla_clocks", "priority", "impact", "urgency")


class _HideInternalFromEndUsers:
    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not is_agent(request.user):
            for field in INTERNAL_FIELDS:
                data.pop(field, None)
        return data


class _AllReadOnly:
    """Requested items and tasks change through their transitions only."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class RequestCreateSerializer(serializers.Serializer):
    """`{"items": [{"catalog_item": id, "quantity": 1, "variables": {...}}]}`; the answers are checked against the
    item's form by the same validation as the portal's (a bad answer is a 400 naming `items[i].variables.<name>`)."""

    items = serializers.ListField(child=serializers.DictField(), allow_empty=False, max_length=20)


class RequestItemSummarySerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=RequestedItemState.choices, read_only=True)
    catalog_item = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = RequestedItem
        fields = ["number", "short_description", "catalog_item", "quantity", "state"]
        read_only_fields = fields


class RequestSerializer(_HideInternalFromEndUsers, serializers.ModelSerializer):
    """A request (REQ) with its items; read-only (it is created by ordering, and settles by its items)."""

    state = serializers.ChoiceField(choices=RequestState.choices, read_only=True)
    caller = serializers.SlugRelatedField(slug_field="username", read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    items = RequestItemSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Request
        fields = [
            "number",
            "short_description",
            "caller",
            "opened_by",
            "state",
            "state_category",
            "active",
            "items",
            "opened_at",
            "closed_at",
            "updated_at",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    value = serializers.JSONField()
    display = serializers.CharField()


class RequestedItemSerializer(_HideInternalFromEndUsers, _AllReadOnly, TicketFieldsSerializer):
    """A requested item (RITM) with its answers as submitted and the catalog item version they answer."""

    state = serializers.ChoiceField(choices=RequestedItemState.choices, read_only=True)
    request = serializers.SlugRelatedField(slug_field="number", read_only=True)
    caller = serializers.SlugRelatedField(slug_field="username", read_only=True)
    catalog_item = serializers.PrimaryKeyRelatedField(read_only=True)
    catalog_item_name = serializers.CharField(source="catalog_item.name", read_only=True)
    item_version = serializers.IntegerField(source="item_version.number", read_only=True)
    answers = serializers.SerializerMethodField()

    class Meta:
        model = RequestedItem
        fields = [
            "number",
            "request",
            "short_description",
            "description",
            "caller",
            "opened_by",
            "catalog_item",
            "catalog_item_name",
            "item_version",
            "quantity",
            "variables",
            "answers",
            "state",
            "state_category",
            "active",
            "assignment_group",
            "assigned_to",
            "service",
            "priority",
            "rejection_reason",
            "close_code",
            "close_notes",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = fields

    def get_answers(self, item: RequestedItem) -> list[dict]:
        labels = {var["name"]: var["label"] for var in item.item_version.definition.get("variables", [])}
        return AnswerSerializer(
            [
                {
                    "name": name,
                    "label": labels.get(name, name),
                    "value": value,
                    "display": item.variable_display.get(name, ""),
                }
                for name, value in item.variables.items()
            ],
            many=True,
        ).data


class FulfilmentTaskSerializer(_AllReadOnly, TicketFieldsSerializer):
    """A fulfilment task (agents only), with its instructions and the item it fulfils."""

    state = serializers.ChoiceField(choices=FulfilmentTaskState.choices, read_only=True)
    requested_item = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = FulfilmentTask
        fields = [
            "number",
            "requested_item",
            "position",
            "short_description",
            "instructions",
            "state",
            "state_category",
            "active",
            "assignment_group",
            "assigned_to",
            "service",
            "close_notes",
            "opened_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = fields


class CloseNotesInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class RequiredCloseNotesInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)
