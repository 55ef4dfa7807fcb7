"""Learned categorisation (filled in by the next step)."""

from __future__ import annotations


def suggestion_step(ticket, *, save: bool):
    return None
