"""Configuration rows (triggers, webhook endpoints, notification templates, the priority matrix, assignment rules, the
categoriser's settings and run in use, mailbox addresses) read once per process for a few seconds.

Every ticket event asks "which triggers / endpoints / templates apply?"; the SLA sweep alone raises ten thousand
events in a run, and each question was a query (two thirds of the sweep's time at a million clocks). Configuration
changes rarely, so each process keeps its answer for `ITSM_CONFIG_CACHE_SECONDS` (default 5): a save or delete in
this process clears it at once (signals), another process sees it within those seconds. Tests clear every cache
between tests (a rolled-back row sends no signal).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.apps import apps
from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
_ALL: list[ConfigCache] = []


class ConfigCache(Generic[T]):
    """`load()`'s answer, kept for a few seconds; cleared when a row of `model` is saved or deleted here."""

    def __init__(self, load: Callable[[], T], *, model: str) -> None:
        self._load = load
        self._value: T | None = None
        self._until = 0.0
        _ALL.append(self)
        # Cleared by this process's saves and deletes of the model from the moment it is registered (no call to
        # forget in an app's ready()).
        apps.lazy_model_operation(self._connect, tuple(model.lower().split(".")))

    def get(self) -> T:
        now = time.monotonic()
        if self._value is None or now >= self._until:
            self._value = self._load()
            self._until = now + getattr(settings, "ITSM_CONFIG_CACHE_SECONDS", 5)
        return self._value

    def clear(self, **kwargs) -> None:
        self._value = None

    def _connect(self, model) -> None:
        uid = f"configcache:{model._meta.label}:{id(self)}"
        for signal in (post_save, post_delete):
            signal.connect(self.clear, sender=model, weak=False, dispatch_uid=uid)
        # Only the model's own many-to-many fields: without a sender every m2m change anywhere (a user put in a group
        # by mail ingestion, a team's members) emptied every cache.
        for related in model._meta.many_to_many:
            m2m_changed.connect(self.clear, sender=related.remote_field.through, weak=False, dispatch_uid=uid)


def config_caches_clear() -> None:
    """Forget every cached answer (tests, between tests)."""
    for cache in _ALL:
        cache.clear()
