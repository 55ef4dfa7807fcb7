"""Seed the priority matrix (ServiceNow's default) and the number sequences."""

from django.db import migrations

# (impact, urgency) -> priority; 1 = high.
MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 4,
}
PREFIXES = ["INC", "PRB", "CHG", "REQ", "RITM", "TASK"]


def seed(apps, schema_editor):
    PriorityRule = apps.get_model("itsm", "PriorityRule")
    NumberSequence = apps.get_model("itsm", "NumberSequence")
    for (impact, urgency), priority in MATRIX.items():
        PriorityRule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    for prefix in PREFIXES:
        NumberSequence.objects.get_or_create(prefix=prefix, defaults={"last_value": 1000})


class Migration(migrations.Migration):
    dependencies = [("itsm", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
