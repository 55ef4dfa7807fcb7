# Lists order by (opened_at, id): the (kind, opened_at) index gains the id so a page needs no sort of its ties.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("itsm", "0013_ticket_text_search")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["kind", "-opened_at", "-id"], name="ticket_kind_opened_id"),
        ),
        migrations.RemoveIndex(model_name="ticket", name="ticket_kind_opened"),
    ]
