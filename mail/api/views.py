"""The signed-in user's notification preferences: which events they receive by mail."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from mail.events import DEFAULT_OFF, NOTIFICATION_EVENTS
from mail.models import NotificationPreference


class NotificationPreferenceSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=list(NOTIFICATION_EVENTS.items()))
    label = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField()


class NotificationPreferenceView(APIView):
    """GET: every event with whether you receive it. PUT/PATCH: a list of {event, enabled} (or one object)."""

    permission_classes = [IsAuthenticated]
    pagination_class = None

    def _list(self, request) -> Response:
        chosen = dict(NotificationPreference.objects.filter(user=request.user).values_list("event", "enabled"))
        rows = [
            {"event": event, "label": str(label), "enabled": chosen.get(event, event not in DEFAULT_OFF)}
            for event, label in NOTIFICATION_EVENTS.items()
        ]
        return Response(rows)

    @extend_schema(responses=NotificationPreferenceSerializer(many=True))
    def get(self, request) -> Response:
        return self._list(request)

    @extend_schema(
        request=NotificationPreferenceSerializer(many=True), responses=NotificationPreferenceSerializer(many=True)
    )
    def put(self, request) -> Response:
        many = isinstance(request.data, list)
        serializer = NotificationPreferenceSerializer(data=request.data, many=many)
        serializer.is_valid(raise_exception=True)
        for row in serializer.validated_data if many else [serializer.validated_data]:
            NotificationPreference.objects.update_or_create(
                user=request.user, event=row["event"], defaults={"enabled": row["enabled"]}
            )
        return self._list(request)

    patch = put
