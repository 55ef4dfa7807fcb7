"""Problem tasks get their own ticket kind (problem_task, numbered PTASK from now on; existing TASK numbers stay)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Ticket = apps.get_model("itsm", "Ticket")
    tasks = apps.get_model("problems", "ProblemTask").objects.values("pk")
    Ticket.objects.filter(pk__in=tasks, kind="task").update(kind="problem_task")


def backwards(apps, schema_editor):
    Ticket = apps.get_model("itsm", "Ticket")
    tasks = apps.get_model("problems", "ProblemTask").objects.values("pk")
    Ticket.objects.filter(pk__in=tasks, kind="problem_task").update(kind="task")


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0001_initial"),
        ("itsm", "0011_task_kinds"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
