"""Change tasks get their own ticket kind (change_task, numbered CTASK from now on; existing TASK numbers stay)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Ticket = apps.get_model("itsm", "Ticket")
    tasks = apps.get_model("changes", "ChangeTask").objects.values("pk")
    Ticket.objects.filter(pk__in=tasks, kind="task").update(kind="change_task")


def backwards(apps, schema_editor):
    Ticket = apps.get_model("itsm", "Ticket")
    tasks = apps.get_model("changes", "ChangeTask").objects.values("pk")
    Ticket.objects.filter(pk__in=tasks, kind="change_task").update(kind="task")


class Migration(migrations.Migration):
    dependencies = [
        ("changes", "0003_windows_tasks_conflicts"),
        ("itsm", "0011_task_kinds"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
