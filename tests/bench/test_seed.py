"""seed_bench on a small data set in its own PostgreSQL database (itsm_bench_test, or BENCH_TEST_DATABASE_URL):
the load is valid (states, times, journal, numbering, clocks replayed by the SLA engine), in proportion, reused when
present, and the kernel numbers new tickets after it. Run in a subprocess: the command drops and migrates its
database, which must not be the one pytest-django holds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import require_service, tcp_reachable

ROOT = Path(__file__).resolve().parent.parent.parent
URL = os.environ.get("BENCH_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/itsm_bench_test")
INCIDENTS = 3000

pytestmark = pytest.mark.postgres


def manage(*args: str, results: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"DATABASE_URL": URL, "DEBUG": "false", "BENCH_RESULTS_DIR": str(results)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def rows(sql: str) -> list[tuple]:
    with psycopg2.connect(URL) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    require_service(tcp_reachable("127.0.0.1", 5432), "PostgreSQL is not available")
    results = tmp_path_factory.mktemp("results")
    done = manage("seed_bench", "--incidents", str(INCIDENTS), "--reload", "--check", results=results)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, results


def test_seed_bench_data_set_is_valid(loaded):
    done, _ = loaded
    assert "0 of 300 incidents differ" in done.stdout
    assert "the data set is valid" in done.stdout


def test_seed_bench_loads_every_practice_in_proportion(loaded):
    counts = dict(rows("SELECT kind, COUNT(*) FROM itsm_ticket GROUP BY kind"))
    assert counts["incident"] == INCIDENTS
    assert counts["problem"] == INCIDENTS // 50
    assert counts["change"] == INCIDENTS // 20
    assert counts["problem_task"] == INCIDENTS // 50
    assert counts["change_task"] == INCIDENTS // 20
    assert counts["request"] == INCIDENTS // 10
    assert 1.1 <= counts["requested_item"] / counts["request"] <= 1.3
    assert 1.3 <= counts["task"] / counts["request"] <= 1.7
    assert rows("SELECT COUNT(*) FROM slas_slaclock")[0][0] == 2 * INCIDENTS
    journal = rows("SELECT COUNT(*) FROM itsm_journalentry")[0][0]
    assert 4.5 <= journal / sum(counts.values()) <= 5.5
    assert rows("SELECT COUNT(*) FROM itsm_team WHERE name LIKE 'Bench team %'")[0][0] == 200
    assert (
        rows("SELECT COUNT(*) FROM auth_user WHERE username LIKE 'bench-%' AND username <> 'bench-admin'")[0][0] == 5000
    )
    assert rows("SELECT COUNT(*) FROM catalog_configurationitem")[0][0] == 2000


def test_seed_bench_numbers_continue_from_the_sequence(loaded):
    assert rows("SELECT last_value FROM itsm_numbersequence WHERE prefix = 'INC'")[0][0] == 1000 + INCIDENTS
    assert rows("SELECT MAX(number) FROM itsm_ticket WHERE kind = 'incident'")[0][0] == f"INC{1000 + INCIDENTS:07d}"


def test_seed_bench_reuses_a_data_set_of_the_same_size(loaded):
    _, results = loaded
    again = manage("seed_bench", "--incidents", str(INCIDENTS), results=results)
    assert again.returncode == 0, again.stderr
    assert "Reusing the loaded data set" in again.stdout
    assert json.loads((results / "seed.json").read_text())["reused"] is True


def test_seed_bench_refuses_a_database_not_named_bench(tmp_path):
    require_service(tcp_reachable("127.0.0.1", 5432), "PostgreSQL is not available")
    env = os.environ | {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/itsm_not_the_one", "DEBUG": "false"}
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_bench", "--incidents", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "named *bench*" in done.stdout + done.stderr


def test_seed_bench_requests_are_consistent(loaded):
    """Each REQ's state follows its items, each item's its tasks and journal, as the request services leave them."""
    done, _ = loaded
    for what in (
        "requests open against their items",
        "open fulfilment tasks of items not in fulfilment",
        "items in fulfilment without an open task",
    ):
        assert f"{what}: 0 wrong" in done.stdout
    states = dict(rows("SELECT state, COUNT(*) FROM requests_app_requesteditem GROUP BY state"))
    assert set(states) == {"closed", "fulfilled", "in_fulfilment", "awaiting_approval", "rejected", "canceled"}
    # The state categories agree with each item's and task's state, and every task hangs on a fulfilled or working
    # item of a request of the same caller.
    assert rows(
        "SELECT COUNT(*) FROM requests_app_requesteditem i JOIN itsm_ticket t ON t.id = i.ticket_ptr_id"
        " WHERE (i.state, t.state_category) NOT IN (('closed', 'closed'), ('fulfilled', 'resolved'),"
        " ('in_fulfilment', 'active'), ('awaiting_approval', 'pending_customer'), ('rejected', 'closed'),"
        " ('canceled', 'cancelled')) OR (t.resolved_at IS NOT NULL) <> (i.state IN ('fulfilled', 'closed'))"
    ) == [(0,)]
    assert rows(
        "SELECT COUNT(*) FROM requests_app_fulfilmenttask f JOIN itsm_ticket t ON t.id = f.ticket_ptr_id"
        " JOIN requests_app_requesteditem i ON i.ticket_ptr_id = f.requested_item_id"
        " JOIN itsm_ticket it ON it.id = i.ticket_ptr_id"
        " WHERE i.state NOT IN ('in_fulfilment', 'fulfilled', 'closed') OR t.caller_id <> it.caller_id"
        " OR (f.state, t.state_category) NOT IN (('open', 'new'), ('work_in_progress', 'active'),"
        " ('closed_complete', 'closed'))"
    ) == [(0,)]
    last = rows("SELECT prefix, last_value FROM itsm_numbersequence WHERE prefix IN ('REQ', 'RITM', 'TASK')")
    counts = dict(rows("SELECT kind, COUNT(*) FROM itsm_ticket GROUP BY kind"))
    assert dict(last) == {
        "REQ": 1000 + counts["request"],
        "RITM": 1000 + counts["requested_item"],
        "TASK": 1000 + counts["task"],
    }
