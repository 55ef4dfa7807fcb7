from django.contrib import admin

from imports.models import ImportedRecord


@admin.register(ImportedRecord)
class ImportedRecordAdmin(admin.ModelAdmin):
    list_display = ("external_id", "source", "ticket", "events", "imported_at")
    list_filter = ("source",)
    search_fields = ("external_id", "ticket__number")
    list_select_related = ("ticket",)
    readonly_fields = ("source", "external_id", "ticket", "events", "extra", "imported_at")

    def has_add_permission(self, request) -> bool:
        return False
