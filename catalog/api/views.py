"""Read-only catalog API: services and configuration items, for pick lists and integrations."""

from rest_framework import viewsets

from catalog.api.serializers import ConfigurationItemSerializer, ServiceSerializer
from catalog.models import ConfigurationItem, Service


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Active services."""

    queryset = Service.objects.filter(active=True).select_related("owner_team")
    serializer_class = ServiceSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields = ["owner_team", "criticality"]


class ConfigurationItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Active configuration items with their dependencies."""

    queryset = (
        ConfigurationItem.objects.filter(active=True)
        .select_related("owner_team", "service")
        .prefetch_related("depends_on")
    )
    serializer_class = ConfigurationItemSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    filterset_fields = ["ci_type", "service", "owner_team"]
