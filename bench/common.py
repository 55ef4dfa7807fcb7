"""What every benchmark shares: the machine it ran on, and where results go."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", BENCH_DIR / "results"))


def var_dir() -> Path:
    """ITSM_VAR_DIR of the bench's server (collected static files): var/bench, or BENCH_VAR_DIR."""
    return Path(os.environ.get("BENCH_VAR_DIR", BENCH_DIR.parent / "var" / "bench"))


def static_signature() -> str:
    """A digest of the project's own static files (names, sizes, times): collectstatic again when it changes."""
    import hashlib

    digest = hashlib.sha256()
    root = BENCH_DIR.parent
    for folder in sorted(root.glob("*/static")) + sorted(root.glob("templates")):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    try:
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=BENCH_DIR
        ).stdout.strip()
    except OSError:
        git = ""
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "git_commit": git or None,
    }


def write_result(name: str, payload: dict) -> Path:
    """Write bench/results/<name>.json with the machine and a timestamp; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {"benchmark": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info()}
    document |= payload
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def read_results() -> dict[str, dict]:
    found = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        if path.stem == "bench":
            continue
        found[path.stem] = json.loads(path.read_text())
    return found


def insert_select(cursor, model, values: dict[str, str], tail: str, params: dict | None = None) -> int:
    """INSERT INTO the model's table SELECT these SQL expressions (by column) `tail`; every other column of the
    model gets its Django default, so a column added later needs no change here. Returns the rows inserted."""
    from django.db import connection

    params = dict(params or {})
    columns, expressions = [], []
    for field in model._meta.local_concrete_fields:
        if field.column in values:
            expression = values[field.column]
        elif field.primary_key:
            continue
        else:
            key = f"default_{field.column}"
            params[key] = field.get_db_prep_save(field.get_default(), connection)
            expression = f"%({key})s"
        columns.append(f'"{field.column}"')
        expressions.append(expression)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {tail}", params
    )
    return cursor.rowcount
