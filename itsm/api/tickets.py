"""What the ticket APIs of every practice share: transition and journal serializers, the transitions table, the
agents-only permission and a viewset base with transitions, the transitions list and the journal."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import ConfigurationItem, Service
from itsm.api.export import ListExportMixin
from itsm.api.fields import NameOrIdRelatedField, UsernameField
from itsm.api.pagination import IdCursorPagination
from itsm.api.serializers import AttachmentSerializer, AttachmentUploadSerializer
from itsm.api.versioning import VersionedTicketMixin
from itsm.enums import Impact, JournalKind, Priority, StateCategory, Urgency
from itsm.models import JournalEntry, Team, TicketWatcher
from itsm.registry import suggestion_provider
from itsm.rules import is_agent
from itsm.selectors import attachment_list_visible_to, journal_visible_to, watchers_of
from itsm.services import attachment_add, ticket_watcher_remove, ticket_watchers_add, transition_ensure_allowed
from slas.api.serializers import SLAClockSerializer

TEXT_LIMIT = 20000


def refuse_owned(serializer: serializers.Serializer, owned: dict[str, str], *, fixed: frozenset = frozenset()) -> None:
    """Fields only transitions may change: sending them back unchanged is fine, changing them is a 400. `fixed`
    fields are set on create and never change after."""
    errors = {}
    for field, message in owned.items():
        if field in fixed and serializer.instance is None:
            continue
        if field in serializer.initial_data:
            current = serializer.to_representation(serializer.instance).get(field) if serializer.instance else None
            if serializer.instance is None or serializer.initial_data[field] != current:
                errors[field] = message
    if errors:
        raise serializers.ValidationError(errors)


class TicketFieldsSerializer(serializers.ModelSerializer):
    """The fields every ticket practice shares, written by name (team, service, CI) or username."""

    assignment_group = NameOrIdRelatedField(queryset=Team.objects.filter(active=True), required=False, allow_null=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    service = NameOrIdRelatedField(queryset=Service.objects.filter(active=True), required=False, allow_null=True)
    configuration_item = NameOrIdRelatedField(
        queryset=ConfigurationItem.objects.filter(active=True), required=False, allow_null=True
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    state_code = serializers.IntegerField(read_only=True)
    state_category = serializers.ChoiceField(choices=StateCategory.choices, read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sla_clocks = SLAClockSerializer(many=True, read_only=True)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)


class EmptyInputSerializer(serializers.Serializer):
    pass


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())


class JournalEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "kind",
            "body",
            "actor",
            "created_at",
            "field",
            "old_value",
            "new_value",
            "transition",
            "from_state",
            "to_state",
        ]
        read_only_fields = fields


class JournalInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[JournalKind.COMMENT, JournalKind.WORK_NOTE], default=JournalKind.COMMENT)
    body = serializers.CharField(max_length=TEXT_LIMIT)

    def validate_kind(self, value):
        user: User = self.context["request"].user
        if value == JournalKind.WORK_NOTE and not is_agent(user):
            raise serializers.ValidationError("Only agents can write work notes.")
        return value


class WatcherSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.SerializerMethodField()
    # Null when a rule added them, and for callers (which agent put them there is the desk's business).
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TicketWatcher
        fields = ["username", "name", "added_by", "added_at"]
        read_only_fields = fields

    def get_name(self, watcher: TicketWatcher) -> str:
        return watcher.user.get_full_name()


class WatcherInputSerializer(serializers.Serializer):
    username = UsernameField()


Transitions = dict[str, tuple[type[serializers.Serializer], Callable, Callable[[dict], dict]]]


class AgentsOnlyElseNotFound(BasePermission):
    """Agents only; other signed-in users get 404, as if the records did not exist (anonymous users get 401)."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not is_agent(request.user):
            raise NotFound()
        return True


_JOURNAL_SCHEMA = [
    extend_schema(methods=["GET"], responses=JournalEntrySerializer(many=True), summary="The journal"),
    extend_schema(
        methods=["POST"],
        request=JournalInputSerializer,
        responses={201: JournalEntrySerializer},
        summary="Add a comment or a work note",
    ),
]


def journal_schema(func):
    for decorator in _JOURNAL_SCHEMA:
        func = decorator(func)
    return func


class TicketViewSet(
    ListExportMixin,
    VersionedTicketMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What every agents-only practice API shares: lookup by number, transitions, the transitions list, the journal.

    Detail responses carry an ETag (the ticket's version); writes with If-Match get 412 when it is stale.
    A practice declares `transitions_table` (name -> input serializer, service, argument mapper), `record_argument`
    (the services' keyword for the record), `comment_service` (its comment/work-note service, as a staticmethod) and
    one `@action` per transition calling `_run`; the `transitions/`, `journal/` and `attachments/` actions come from
    here.
    """

    permission_classes = [AgentsOnlyElseNotFound]
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z]+[0-9]+"
    # Trigram indexes serve each of these (itsm migrations 0013 and 0016).
    search_fields = ["number", "short_description", "description"]
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state"]
    ordering = ["-opened_at"]
    # DELETE serves only `watchers/{username}/`: the viewsets have no destroy, so a record's own DELETE stays 405.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    transitions_table: Transitions = {}
    record_argument = ""
    comment_service: Callable[..., JournalEntry]

    def filter_queryset(self, queryset):
        if getattr(self, "detail", False):
            # One record, found by its number: the list's filters, search and ordering are not for it (building the
            # FilterSet was a fifth of a detail read's time at a million incidents).
            return queryset
        # The practice's kind lives on the parent table: naming it lets PostgreSQL walk the (kind, opened_at) index
        # in the list's order instead of sorting every ticket of the practice (2 s -> 0.4 ms at a million incidents).
        queryset = super().filter_queryset(queryset)
        kind = getattr(queryset.model, "KIND", None)
        return queryset.filter(kind=kind) if kind else queryset

    def list(self, request: Request, *args, **kwargs) -> Response:
        """A page in two reads: the page's rows by the filters and ordering alone (the ticket and practice tables),
        then those rows with everything the serializer shows. Read at once, the dozen joins ran for every row that
        matched before PostgreSQL sorted and cut the page (a team's in-progress incidents by priority: 200 rows
        joined for 25 shown)."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset.select_related(None).prefetch_related(None))
        if page is None:
            return Response(self.get_serializer(queryset, many=True).data)
        full = self.get_queryset().in_bulk([row.pk for row in page])
        records = [full[row.pk] for row in page if row.pk in full]  # one deleted in between is left out
        return self.get_paginated_response(self.get_serializer(records, many=True).data)

    def _run(self, request: Request, name: str) -> Response:
        record = self.get_object()
        # State and permission come before the input: a closed record answers 409 whatever the body says.
        transition_ensure_allowed(user=request.user, transition=getattr(record, name))
        input_class, service, to_kwargs = self.transitions_table[name]
        data = input_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        record = service(**{self.record_argument: record}, by=request.user, **to_kwargs(dict(data.validated_data)))
        return Response(self.get_serializer_class()(record, context=self.get_serializer_context()).data)

    @extend_schema(responses=TransitionSerializer(many=True), summary="Transitions this user may take now")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def transitions(self, request: Request, number: str) -> Response:
        record = self.get_object()
        available = [
            {"name": t.name, "target": t.target, "fields": list(self.transitions_table[t.name][0]().fields)}
            for t in record.get_available_user_state_transitions(request.user)
        ]
        return Response(TransitionSerializer(available, many=True).data)

    @journal_schema
    @action(detail=True, methods=["get", "post"], pagination_class=IdCursorPagination, filter_backends=[])
    def journal(self, request: Request, number: str) -> Response:
        record = self.get_object()
        if request.method == "POST":
            data = JournalInputSerializer(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            entry = self.comment_service(**{self.record_argument: record}, by=request.user, **data.validated_data)
            return Response(JournalEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(journal_visible_to(ticket=record, user=request.user))
        return self.get_paginated_response(JournalEntrySerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True), summary="Attachments")
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
        summary="Upload an attachment",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request: Request, number: str) -> Response:
        record = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            data = AttachmentUploadSerializer(data=request.data, context=context)
            data.is_valid(raise_exception=True)
            if not data.validated_data["public"] and not is_agent(request.user):
                raise serializers.ValidationError({"public": "Only agents can attach files to work notes."})
            attachment = attachment_add(
                ticket=record,
                by=request.user,
                uploaded=data.validated_data["file"],
                public=data.validated_data["public"],
            )
            return Response(AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED)
        attachments = attachment_list_visible_to(user=request.user, ticket=record).order_by("id")
        return Response(AttachmentSerializer(attachments, many=True, context=context).data)

    # --- the watch list: agents change it on any ticket they can see; others may read it on their own tickets -----

    def _watchers_response(self, record, *, status_code: int = status.HTTP_200_OK) -> Response:
        watchers = watchers_of(ticket=record, user=self.request.user)
        data = WatcherSerializer(watchers, many=True).data
        if not is_agent(self.request.user):
            for row in data:
                row["added_by"] = None
        return Response(data, status=status_code)

    @extend_schema(methods=["GET"], responses=WatcherSerializer(many=True), summary="The watch list")
    @extend_schema(
        methods=["POST"],
        request=WatcherInputSerializer,
        responses={201: WatcherSerializer(many=True), 200: WatcherSerializer(many=True)},
        summary="Add a watcher (agents)",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def watchers(self, request: Request, number: str) -> Response:
        record = self.get_object()
        if request.method != "POST":
            return self._watchers_response(record)
        # Permission before input: an end user learns nothing about which usernames exist.
        if not is_agent(request.user):
            raise PermissionDenied("Only agents can change the watch list.")
        data = WatcherInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        added = ticket_watchers_add(ticket=record, users=[data.validated_data["username"]], by=request.user)
        return self._watchers_response(record, status_code=status.HTTP_201_CREATED if added else status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None}, summary="Remove a watcher (agents)")
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"watchers/(?P<username>[\w.@+-]+)",
        url_name="watcher-detail",
        pagination_class=None,
        filter_backends=[],
    )
    def watcher(self, request: Request, number: str, username: str) -> Response:
        record = self.get_object()
        if not is_agent(request.user):
            raise PermissionDenied("Only agents can change the watch list.")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise NotFound(f"No user '{username}'.")
        ticket_watcher_remove(ticket=record, user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- the categoriser's one-click suggestion (agents only; others get 404 as for the suggestions themselves) ---

    def _suggestion_record(self):
        record = self.get_object()
        provider = suggestion_provider()
        if not is_agent(self.request.user) or provider is None:
            raise NotFound()
        return record, provider

    @extend_schema(request=None, responses={200: None, 409: None}, summary="Apply the pending category suggestion")
    @action(detail=True, methods=["post"], url_path="apply-suggestion", pagination_class=None, filter_backends=[])
    def apply_suggestion(self, request: Request, number: str) -> Response:
        record, provider = self._suggestion_record()
        provider.apply(ticket=record, by=request.user)  # 409 (StateConflict) when none is pending
        # Fresh, with the accepted suggestion the selector joins (not get_object: If-Match was checked before).
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer_class()(record, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={204: None, 409: None}, summary="Dismiss the pending category suggestion")
    @action(detail=True, methods=["post"], url_path="dismiss-suggestion", pagination_class=None, filter_backends=[])
    def dismiss_suggestion(self, request: Request, number: str) -> Response:
        record, provider = self._suggestion_record()
        provider.dismiss(ticket=record, by=request.user)  # 409 (StateConflict) when none is pending
        return Response(status=status.HTTP_204_NO_CONTENT)
