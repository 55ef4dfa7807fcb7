from django.db import migrations

# The lowest total score of each risk level; admins tune them in the admin.
THRESHOLDS = {"very_high": 15, "high": 10, "moderate": 5, "low": 0}


def forwards(apps, schema_editor):
    RiskThreshold = apps.get_model("changes", "RiskThreshold")
    for risk, min_score in THRESHOLDS.items():
        RiskThreshold.objects.get_or_create(risk=risk, defaults={"min_score": min_score})


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
