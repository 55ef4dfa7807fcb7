"""Suite 3: API fuzzing. schemathesis drives every operation of the OpenAPI schema, as the app serves it, against
gunicorn on loopback and the test database, once per role (anonymous, end user, agent, admin), with a fixed seed and
a bounded number of cases per operation. Bar: no 5xx, and no answer the schema does not describe (status code,
content type, headers, body).

Operations are read from the live schema, so every route added later is fuzzed without touching this file. Path
identifiers and related-record names are drawn, most of the time, from the records that exist (schemathesis
dictionaries), so the cases get past "not found" into validation, permissions and state machines.

Two request-side checks are left out, because the bar is about answers: `positive_data_acceptance` (a schema-valid
request must succeed: the schema cannot say that a caller must exist or that a state forbids a transition; those
answers are documented 4xx/409s, checked by `status_code_conformance`), and `negative_data_rejection` (DRF reads the
number 0 as the text "0", and django-filter ignores an empty or unparsable filter value rather than refusing it).

Deeper runs: `ITSM_FUZZ_MAX_EXAMPLES=100 ITSM_FUZZ_PHASES=examples,coverage,fuzzing ITSM_FUZZ_SEED=<n>`
(then `pytest tests/security/test_api_fuzz.py -s`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.security.conftest import report
from tests.security.fuzz_world import FuzzWorld, build_fuzz_world
from tests.security.servers import ROOT, gunicorn

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

SEED = int(os.environ.get("ITSM_FUZZ_SEED", "20261128"))
# Cases per operation and phase, per role. Anonymous and end users are refused early (401/404), so they are cheap.
MAX_EXAMPLES = int(os.environ.get("ITSM_FUZZ_MAX_EXAMPLES", "0"))
EXAMPLES = {"anonymous": 1, "end_user": 1, "agent": 1, "admin": 2}
# The coverage phase (boundary values of every parameter) multiplies the cases; add it for deeper runs.
PHASES = os.environ.get("ITSM_FUZZ_PHASES", "examples,fuzzing")
CHECKS_EXCLUDED = "positive_data_acceptance,negative_data_rejection"


def _config(world: FuzzWorld, path: Path) -> Path:
    """schemathesis.toml: existing numbers, ids and names, offered in most generated cases."""

    def values(items) -> str:
        return json.dumps([str(item) for item in items])

    config = f"""
[dictionaries]
numbers = {{ values = {values(world.numbers)} }}
ids = {{ values = {json.dumps(world.ids)} }}
users = {{ values = {values(world.names["users"])} }}
teams = {{ values = {values(world.names["teams"])} }}
services = {{ values = {values(world.names["services"])} }}
cis = {{ values = {values(world.names["cis"])} }}

[parameters]
"path.number" = {{ dictionary = "numbers", probability = 0.8 }}
"path.id" = {{ dictionary = "ids", probability = 0.8 }}
"body.caller" = {{ dictionary = "users", probability = 0.5 }}
"body.assigned_to" = {{ dictionary = "users", probability = 0.5 }}
"body.assignment_group" = {{ dictionary = "teams", probability = 0.5 }}
"body.service" = {{ dictionary = "services", probability = 0.5 }}
"body.configuration_item" = {{ dictionary = "cis", probability = 0.5 }}
"body.incident" = {{ dictionary = "numbers", probability = 0.5 }}
"""
    path.write_text(config)
    return path


def _run(base: str, role: str, token: str | None, world: FuzzWorld, tmp_path: Path) -> tuple[int, list[str], str]:
    """One schemathesis run; returns the number of cases, the failures (one line each) and the console output."""
    junit = tmp_path / f"junit-{role}.xml"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(_config(world, tmp_path / "schemathesis.toml")),
        "--no-color",
        "run",
        f"{base}/api/schema/?format=json",
        "--checks=all",
        f"--exclude-checks={CHECKS_EXCLUDED}",
        f"--phases={PHASES}",
        f"--max-examples={MAX_EXAMPLES or EXAMPLES[role]}",
        f"--seed={SEED}",
        "--generation-database=none",
        "--workers=2",
        "--request-timeout=30",
        "--warnings=off",
        "--report=junit",
        f"--report-junit-path={junit}",
    ]
    if token:
        command += ["--header", f"Authorization: Token {token}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    failures = []
    if junit.exists() and junit.stat().st_size:
        for case in ET.parse(junit).getroot().iter("testcase"):
            for failure in (*case.findall("failure"), *case.findall("error")):
                first = (failure.get("message") or failure.text or "").strip().splitlines()
                failures.append(f"{role}: {case.get('name')}: {first[0] if first else '?'}")
    cases = _cases(output)
    if result.returncode not in (0, 1) or cases == 0:
        failures.append(f"{role}: schemathesis exited {result.returncode}:\n{output[-3000:]}")
    return cases, failures, output


def _cases(output: str) -> int:
    """The 'N generated' count of the summary."""
    for line in output.splitlines():
        words = line.split()
        if "generated," in words:
            return int(words[words.index("generated,") - 1])
    return 0


def test_api_fuzz_every_operation_as_every_role(tmp_path):
    world = build_fuzz_world()
    tokens = world.tokens()
    totals: dict[str, int] = {}
    failures: list[str] = []
    outputs: dict[str, str] = {}
    with gunicorn(tmp_path) as base:
        import urllib.request

        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=30) as response:
            schema = json.load(response)
        operations = sum(
            method in ("get", "post", "put", "patch", "delete") for item in schema["paths"].values() for method in item
        )
        for role, token in tokens.items():
            cases, found, output = _run(base, role, token, world, tmp_path)
            totals[role] = cases
            failures += found
            outputs[role] = output
    line = (
        f"API fuzz (seed {SEED}, phases {PHASES}): {operations} operations; "
        + ", ".join(f"{role} {n} cases" for role, n in totals.items())
        + f"; {sum(totals.values())} fuzz cases run, {len(failures)} failures"
    )
    print("\n" + line)
    report("3 API fuzzing", line)
    for role, output in outputs.items():
        if failures:
            (tmp_path / f"schemathesis-{role}.txt").write_text(output)
    assert not failures, "\n".join(failures[:60]) + f"\n(full output in {tmp_path})"
