"""CSV cells a spreadsheet cannot run as formulas (CSV injection), for every export: the workspace's and the API's."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ tab or CR gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
