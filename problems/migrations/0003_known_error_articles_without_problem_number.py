"""Known-error articles written before this release began with "Problem PRB0000123." (end users read them): drop it."""

import re

from django.db import migrations

LEAD = re.compile(r"\AProblem [A-Z]+[0-9]+\.\n\n")


def forwards(apps, schema_editor):
    KnowledgeArticle = apps.get_model("problems", "KnowledgeArticle")
    for article in KnowledgeArticle.objects.filter(kind="known_error", body__startswith="Problem ").only("body"):
        body = LEAD.sub("", article.body, count=1)
        if body != article.body:
            article.body = body
            article.save(update_fields=["body"])


class Migration(migrations.Migration):
    dependencies = [("problems", "0002_problem_task_kind")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
