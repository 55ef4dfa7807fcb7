"""Webhook endpoints and deliveries over the API (admins only)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from itsm.api.permissions import IsDeskAdmin
from webhooks.events import WEBHOOK_EVENTS
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_replay


class _Newest(CursorPagination):
    ordering = "-created_at"
    page_size = 25


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)), allow_empty=True, required=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "secret", "events", "active", "allow_private_network", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def validate(self, attrs):
        instance = WebhookEndpoint(**{**(self._current() if self.instance else {}), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _current(self) -> dict:
        return {f: getattr(self.instance, f) for f in ("name", "url", "events", "active", "allow_private_network")}


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Endpoints that receive signed events (admins only)."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsDeskAdmin]
    pagination_class = _Newest


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log, with replay (admins only)."""

    queryset = WebhookDelivery.objects.select_related("endpoint")
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsDeskAdmin]
    pagination_class = _Newest
    filterset_fields = ["endpoint", "status", "event"]

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None) -> Response:
        delivery = self.get_object()
        webhook_replay(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data)
