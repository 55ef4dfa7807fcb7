"""Admin for the service catalog and the CMDB."""

from django.contrib import admin

from catalog.models import ConfigurationItem, Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_team", "criticality", "active")
    list_filter = ("criticality", "active", "owner_team")
    search_fields = ("name", "description")
    list_select_related = ("owner_team",)
    autocomplete_fields = ("owner_team",)


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "ci_type", "service", "owner_team", "active")
    list_filter = ("ci_type", "service", "owner_team", "active")
    search_fields = ("name", "description")
    list_select_related = ("service", "owner_team")
    autocomplete_fields = ("service", "owner_team")
    filter_horizontal = ("depends_on",)
