"""Trigram indexes for the text search over ticket numbers and short descriptions (PostgreSQL only).

Every ticket search (the API's `?search=`, each practice's `?q=`, the workspace's global search) filters with
`icontains`, which Django writes on PostgreSQL as `UPPER(col::text) LIKE UPPER('%text%')`. A plain index cannot
serve a LIKE with a leading wildcard, and a trigram index on the column itself does not match the UPPER(...)
expression; these GIN indexes are on exactly that expression, so the planner can use them (a bitmap OR of the two)
instead of reading every ticket. On SQLite (the embedded default) this migration does nothing.
"""

from django.db import migrations

INDEXES = {
    "ticket_number_trgm": "number",
    "ticket_short_description_trgm": "short_description",
}


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "itsm_ticket" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("itsm", "0012_ticket_watchers")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
