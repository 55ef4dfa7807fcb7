"""Problem API serializers: problems, problem tasks, knowledge articles and each transition's input."""

from __future__ import annotations

from rest_framework import serializers

from itsm.api.fields import CategoryField, NameOrIdRelatedField
from itsm.api.tickets import TEXT_LIMIT, TicketFieldsSerializer, refuse_owned
from itsm.rules import is_agent
from problems.enums import ProblemResolutionCode, ProblemState, ProblemTaskState
from problems.models import KnowledgeArticle, Problem, ProblemTask

_STATE = "Use POST /api/v1/{practice}/{number}/{transition}/ to change the state."
_PROBLEM_OWNED = {
    "state": _STATE.format(practice="problems", number="{number}", transition="{transition}"),
    "state_code": _STATE.format(practice="problems", number="{number}", transition="{transition}"),
    "priority": "Priority is derived from impact and urgency; change those instead.",
    "resolution_code": "Set by the 'resolve' transition.",
    "close_notes": "Set by the 'resolve' transition.",
    "duplicate_of": "Set by the 'resolve' transition.",
    "known_error": "Use POST /api/v1/problems/{number}/mark-known-error/.",
}
_TASK_OWNED = {
    "state": _STATE.format(practice="problem-tasks", number="{number}", transition="{transition}"),
    "state_code": _STATE.format(practice="problem-tasks", number="{number}", transition="{transition}"),
    "close_notes": "Set by the 'close' transition.",
    "problem": "A task stays with the problem it was created for.",
}


class ProblemNumberField(NameOrIdRelatedField):
    """A problem, by number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Problem.objects.all())
        super().__init__(name_field="number", **kwargs)


class ProblemSerializer(TicketFieldsSerializer):
    """A problem as integrations read and write it (agents only)."""

    state = serializers.ChoiceField(choices=ProblemState.choices, read_only=True)
    resolution_code = serializers.ChoiceField(choices=ProblemResolutionCode.choices, read_only=True)
    duplicate_of = serializers.SlugRelatedField(slug_field="number", read_only=True)
    incidents = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    category = CategoryField(practice="problem")
    subcategory = CategoryField(practice="problem", sub=True)

    class Meta:
        model = Problem
        fields = [
            "number",
            "short_description",
            "description",
            "opened_by",
            "impact",
            "urgency",
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
            "cause_notes",
            "workaround",
            "fix_notes",
            "known_error",
            "resolution_code",
            "close_notes",
            "duplicate_of",
            "incidents",
            "reopen_count",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "sla_clocks",
        ]
        read_only_fields = [
            "number",
            "active",
            "known_error",
            "close_notes",
            "reopen_count",
            "opened_at",
            "resolved_at",
            "closed_at",
            "updated_at",
        ]
        extra_kwargs = {
            "short_description": {"required": True},
            "description": {"required": False},
            "cause_notes": {"required": False, "max_length": TEXT_LIMIT},
            "workaround": {"required": False, "max_length": TEXT_LIMIT},
            "fix_notes": {"required": False, "max_length": TEXT_LIMIT},
        }

    def validate(self, attrs):
        refuse_owned(self, _PROBLEM_OWNED)
        return attrs


class ProblemTaskSerializer(TicketFieldsSerializer):
    """A problem task, assigned to a team (agents only)."""

    state = serializers.ChoiceField(choices=ProblemTaskState.choices, read_only=True)
    problem = ProblemNumberField(queryset=Problem.objects.filter(active=True))
    category = CategoryField(practice="problem_task")
    subcategory = CategoryField(practice="problem_task", sub=True)

    class Meta:
        model = ProblemTask
        fields = [
            "number",
            "problem",
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
        # Service and CI come from the problem; priority too.
        for name in ("service", "configuration_item"):
            fields[name].read_only = True
        return fields

    def validate(self, attrs):
        refuse_owned(self, _TASK_OWNED, fixed=frozenset({"problem"}))
        return attrs


class KnowledgeArticleSerializer(serializers.ModelSerializer):
    """A knowledge-base article; the problem behind a known error is shown to agents only."""

    service = serializers.SlugRelatedField(slug_field="name", read_only=True)
    configuration_item = serializers.SlugRelatedField(slug_field="name", read_only=True)
    problem = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = KnowledgeArticle
        fields = [
            "id",
            "title",
            "body",
            "kind",
            "service",
            "configuration_item",
            "problem",
            "published",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not is_agent(request.user):
            fields.pop("problem", None)
        return fields


class FixInputSerializer(serializers.Serializer):
    cause_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="The root cause; required unless the problem already records it.",
    )


class ProblemResolveInputSerializer(serializers.Serializer):
    resolution_code = serializers.ChoiceField(choices=ProblemResolutionCode.choices)
    cause_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Required for fix_applied and risk_accepted unless already recorded.",
    )
    fix_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Required for fix_applied unless already recorded.",
    )
    close_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Required for risk_accepted and canceled.",
    )
    duplicate_of = ProblemNumberField(
        required=False, allow_null=True, default=None, help_text="Required for duplicate: the original problem."
    )
    resolve_incidents = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also resolve the linked incidents on hold awaiting this problem, and tell their callers.",
    )


class ProblemReopenInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class KnownErrorInputSerializer(serializers.Serializer):
    workaround = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="Required unless the problem already records one.",
    )
    cause_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_LIMIT,
        help_text="The root cause; required unless the problem already records it.",
    )


class IncidentLinkInputSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=16, help_text="The incident's number.")


class ProblemFromIncidentInputSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=16, help_text="The incident's number.")


class TaskCloseInputSerializer(serializers.Serializer):
    close_notes = serializers.CharField(max_length=TEXT_LIMIT)
