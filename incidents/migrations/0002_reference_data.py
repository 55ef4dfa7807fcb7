"""Seed the hold reasons and close codes (admin-editable afterwards)."""

from django.db import migrations

HOLD_REASONS = [
    ("awaiting_caller", "Awaiting Caller", "pending_customer"),
    ("awaiting_problem", "Awaiting Problem", "pending_third_party"),
    ("awaiting_vendor", "Awaiting Vendor", "pending_third_party"),
    ("awaiting_change", "Awaiting Change", "pending_third_party"),
]
CLOSE_CODES = [
    ("solution_provided", "Solution provided"),
    ("workaround_provided", "Workaround provided"),
    ("known_error", "Known error"),
    ("duplicate", "Duplicate"),
    ("resolved_by_caller", "Resolved by caller"),
    ("resolved_by_change", "Resolved by change"),
    ("resolved_by_problem", "Resolved by problem"),
    ("user_error", "User error"),
]


def seed(apps, schema_editor):
    HoldReason = apps.get_model("incidents", "HoldReason")
    CloseCode = apps.get_model("incidents", "CloseCode")
    for order, (slug, name, category) in enumerate(HOLD_REASONS):
        HoldReason.objects.get_or_create(slug=slug, defaults={"name": name, "category": category, "order": order})
    for order, (slug, name) in enumerate(CLOSE_CODES):
        CloseCode.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
