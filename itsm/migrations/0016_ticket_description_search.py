"""A trigram index for the API's text search over ticket descriptions (PostgreSQL only).

The API's `?search=` covers number, short description and description (as issue 2 specified it); 0013 indexed the
first two. Same expression as there: `UPPER(description::text)`, what `icontains` writes on PostgreSQL. Nothing on
SQLite.
"""

from django.db import migrations

NAME = "ticket_description_trgm"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "itsm_ticket" USING gin ((UPPER("description"::text)) gin_trgm_ops)'
    )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("itsm", "0015_ticket_group_kind_opened")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
