"""The desk's own system checks."""

from types import SimpleNamespace

import pytest

from itsm import checks

SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
POSTGRES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"}}


@pytest.mark.parametrize(
    ("databases", "version", "errors"),
    [(SQLITE, (3, 34, 1), ["itsm.E001"]), (SQLITE, (3, 35, 0), []), (POSTGRES, (3, 31, 0), [])],
)
def test_sqlite_needs_returning(monkeypatch, databases, version, errors):
    monkeypatch.setattr(checks.sqlite3, "sqlite_version_info", version)
    monkeypatch.setattr(checks, "settings", SimpleNamespace(DATABASES=databases))
    assert [e.id for e in checks.sqlite_returning(None)] == errors
