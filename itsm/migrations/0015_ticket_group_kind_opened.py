# A practice's list filtered by team (open or not) walks (team, kind, opened_at, id) for its page and its capped count.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("itsm", "0014_ticket_kind_opened_id")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["assignment_group", "kind", "-opened_at", "-id"], name="ticket_group_kind_opened"
            ),
        ),
    ]
