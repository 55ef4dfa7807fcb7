"""System checks of the desk's own requirements beyond Django's."""

from __future__ import annotations

import sqlite3

from django.conf import settings
from django.core.checks import Error, register

SQLITE_MINIMUM = (3, 35)  # UPDATE/INSERT ... RETURNING: ticket versions, numbering, the outbox


@register()
def sqlite_returning(app_configs, **kwargs) -> list[Error]:
    """The embedded default (SQLite) needs RETURNING, which SQLite has from 3.35; Django itself accepts 3.31."""
    engines = {db.get("ENGINE") for db in settings.DATABASES.values()}
    if "django.db.backends.sqlite3" not in engines or sqlite3.sqlite_version_info >= SQLITE_MINIMUM:
        return []
    return [
        Error(
            f"SQLite {sqlite3.sqlite_version} is too old: the desk needs {'.'.join(map(str, SQLITE_MINIMUM))} or newer "
            "(RETURNING).",
            hint="Use a Python built against a newer SQLite, or PostgreSQL (DATABASE_URL).",
            id="itsm.E001",
        )
    ]
