"""The Endava sample (real anonymised help-desk tickets with category labels), read in place when present."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from django.conf import settings


def endava_path() -> Path | None:
    """The sample's CSV (gzip) file, or None when the shared data folder is absent."""
    folder = Path(settings.ITSM_ENDAVA_TICKETS_DIR)
    files = sorted(folder.glob("*.csv.gz")) if folder.is_dir() else []
    return files[0] if files else None


def endava_load(path: Path) -> tuple[list[str], list[str]]:
    """Texts (title and body) and category labels of every row."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [f"{row['title']}\n{row['body']}" for row in rows], [row["category"] for row in rows]
