"""Service request API serializers: orders (REQ), requested items (RITM), fulfilment tasks (TASK) and each
transition's input."""

from __future__ import annotations

from rest_framework import serializers

from itsm.api.fields import CategoryField
from itsm.api.tickets import TEXT_LIMIT, TicketFieldsSerializer
from itsm.rules import is_agent
from requests_app.enums import FulfilmentTaskState, RequestedItemState, RequestState
from requests_app.models import FulfilmentTask, Request, RequestedItem, Upload
from requests_app.services import ITEM_UPDATABLE_FIELDS, TASK_UPDATABLE_FIELDS

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


_ITEM_STATE = "Use POST /api/v1/requested-items/{number}/cancel/ or close/; approval and fulfilment move the rest."
_TASK_STATE = "Use POST /api/v1/fulfilment-tasks/{number}/start/, close_complete/, close_incomplete/ or skip/."
_ANSWERS = "Fixed when the item was ordered: order again to change the answers."
# What an agent's PATCH may change: the update services' own lists.
ITEM_WRITABLE = ITEM_UPDATABLE_FIELDS
TASK_WRITABLE = TASK_UPDATABLE_FIELDS
# What an agent's PATCH may not change, and which transition does.
ITEM_OWNED = {
    **dict.fromkeys(("state", "state_category", "active", "resolved_at", "closed_at"), _ITEM_STATE),
    **dict.fromkeys(("approval", "approvals"), "Approvers decide: POST /api/v1/approvals/{id}/approve/ or reject/."),
    "rejection_reason": "Set when an approver rejects (POST /api/v1/approvals/{id}/reject/ with a comment).",
    **dict.fromkeys(
        ("close_code", "close_notes"),
        "Set when the fulfilment tasks close (POST /api/v1/fulfilment-tasks/{number}/close_complete/ and the like).",
    ),
    **dict.fromkeys(("catalog_item", "item_version", "quantity", "variables", "answers"), _ANSWERS),
}
TASK_OWNED = {
    **dict.fromkeys(("state", "state_category", "active", "closed_at"), _TASK_STATE),
    "close_notes": "Set by close_complete, close_incomplete or skip.",
}


class _WritableOnly:
    """Agents PATCH the `writable` fields only (the service checks them again). Any other field sent with a value
    other than the current one is a 400 naming it (and the transition that owns it, from `owned`); sending back what
    a GET returned is fine."""

    writable: tuple[str, ...] = ()
    owned: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if name not in self.writable:
                field.read_only = True
        return fields

    def validate(self, attrs):
        if self.instance is None:
            return attrs
        current = self.to_representation(self.instance)
        # Computed values (the SLA clocks' time left, say) move between the GET and the PATCH: not compared.
        computed = {
            name
            for name, field in self.fields.items()
            if isinstance(field, serializers.SerializerMethodField | serializers.BaseSerializer)
        }
        errors = {
            name: self.owned.get(name, "This field cannot be changed.")
            for name, value in self.initial_data.items()
            if name not in self.writable
            and (name in self.owned or (name in self.fields and name not in computed))
            and value != current.get(name)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RequestCreateSerializer(serializers.Serializer):
    """`{"items": [{"catalog_item": id, "quantity": 1, "variables": {...}}]}`; the answers are checked against the
    item's form by the same validation as the portal's (a bad answer is a 400 naming `items[i].variables.<name>`).
    An attachment question's answer is the `id` of a file uploaded first with POST /api/v1/uploads/."""

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


class RequestedItemSerializer(_HideInternalFromEndUsers, _WritableOnly, TicketFieldsSerializer):
    """A requested item (RITM) with its answers as submitted and the catalog item version they answer."""

    state = serializers.ChoiceField(choices=RequestedItemState.choices, read_only=True)
    request = serializers.SlugRelatedField(slug_field="number", read_only=True)
    caller = serializers.SlugRelatedField(slug_field="username", read_only=True)
    catalog_item = serializers.PrimaryKeyRelatedField(read_only=True)
    catalog_item_name = serializers.CharField(source="catalog_item.name", read_only=True)
    item_version = serializers.IntegerField(source="item_version.number", read_only=True)
    answers = serializers.SerializerMethodField()
    writable = ITEM_WRITABLE
    owned = ITEM_OWNED
    category = CategoryField(practice="requested_item")
    subcategory = CategoryField(practice="requested_item", sub=True)

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
            "category",
            "subcategory",
            "priority",
            "rejection_reason",
            "due_date",
            "close_code",
            "close_notes",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = [name for name in fields if name not in ITEM_WRITABLE]
        extra_kwargs = {"description": {"max_length": TEXT_LIMIT}}

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


class FulfilmentTaskSerializer(_WritableOnly, TicketFieldsSerializer):
    """A fulfilment task (agents only), with its instructions and the item it fulfils."""

    state = serializers.ChoiceField(choices=FulfilmentTaskState.choices, read_only=True)
    requested_item = serializers.SlugRelatedField(slug_field="number", read_only=True)
    category = CategoryField(practice="task")
    subcategory = CategoryField(practice="task", sub=True)
    writable = TASK_WRITABLE
    owned = TASK_OWNED

    class Meta:
        model = FulfilmentTask
        fields = [
            "number",
            "requested_item",
            "position",
            "short_description",
            "description",
            "instructions",
            "state",
            "state_category",
            "active",
            "assignment_group",
            "assigned_to",
            "service",
            "category",
            "subcategory",
            "due_date",
            "close_notes",
            "opened_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = [name for name in fields if name not in TASK_WRITABLE]
        extra_kwargs = {"description": {"max_length": TEXT_LIMIT}, "instructions": {"max_length": TEXT_LIMIT}}


class CloseNotesInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class RequiredCloseNotesInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Multipart upload; size, type and content are checked as for attachments.")


class UploadSerializer(serializers.ModelSerializer):
    """A file waiting for an order: send its `id` as the answer of an attachment question."""

    expires_at = serializers.DateTimeField(read_only=True, help_text="Unused after this, it is removed.")

    class Meta:
        model = Upload
        fields = ["id", "filename", "content_type", "size", "created_at", "expires_at"]
        read_only_fields = fields
