"""Read-only catalog API: services and configuration items, for pick lists and integrations."""

from django.db.models import Prefetch
from rest_framework import viewsets

from catalog.api.serializers import CatalogItemSerializer, ConfigurationItemSerializer, ServiceSerializer
from catalog.models import CatalogItemVersion, ConfigurationItem, Service
from catalog.selectors import catalog_items_available_to


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


class CatalogItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Catalog items the user may order, each with its current version's form definition; order them with
    POST /api/v1/requests/."""

    serializer_class = CatalogItemSerializer
    search_fields = ["name", "short_description", "description", "category__name"]
    ordering_fields = ["name", "id", "order"]
    ordering = ["name"]
    filterset_fields = ["category", "service"]

    def get_queryset(self):
        latest = CatalogItemVersion.objects.order_by("item_id", "-number")
        return catalog_items_available_to(user=self.request.user).prefetch_related(
            Prefetch("versions", queryset=latest, to_attr="current_versions")
        )
