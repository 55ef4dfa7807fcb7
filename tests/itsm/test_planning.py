"""Wide SELECTs (the ticket APIs' select_related reads) are planned in their written join order on PostgreSQL."""

from django.db import connection, transaction

from itsm.planning import WIDE_JOINS
from tests.conftest import client_for
from tests.factories import incident_factory


def _setting_seen_by(joins: int) -> str:
    sql = "SELECT current_setting('join_collapse_limit') FROM (SELECT 1 AS x) t0" + "".join(
        f" LEFT OUTER JOIN (SELECT 1 AS x) t{i} ON true" for i in range(1, joins + 1)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _current() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('join_collapse_limit')")
        return cursor.fetchone()[0]


def test_wide_selects_keep_their_join_order_and_nothing_else_does(postgres):
    default = _current()
    assert default != "1"
    assert _setting_seen_by(WIDE_JOINS) == "1"
    assert _setting_seen_by(WIDE_JOINS - 1) == default
    # Inside a transaction the setting is put back at once, for the statements after it.
    with transaction.atomic():
        assert _setting_seen_by(WIDE_JOINS) == "1"
        assert _current() == default
    assert _current() == default


def test_statements_given_as_bytes_pass_through(postgres):
    from psycopg2.extras import execute_values

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE planning_bytes (n int)")
        execute_values(cursor, "INSERT INTO planning_bytes VALUES %s", [(1,), (2,)])  # sends bytes
        cursor.execute("SELECT COUNT(*) FROM planning_bytes")
        assert cursor.fetchone()[0] == 2


def test_ticket_api_reads_are_wide_selects_and_still_answer(postgres, agent):
    incident = incident_factory(by=agent, short_description="Printer jam")
    client = client_for(agent)
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    # The spy runs inside the planning wrapper: it sees the statement as sent to PostgreSQL.
    with connection.execute_wrapper(spy):
        detail = client.get(f"/api/v1/incidents/{incident.number}/")
        listed = client.get("/api/v1/incidents/", {"search": "printer"})
    assert detail.status_code == 200 and detail.json()["number"] == incident.number
    assert listed.status_code == 200 and [r["number"] for r in listed.json()["results"]] == [incident.number]
    assert sum(sql.startswith("SET LOCAL join_collapse_limit = 1; SELECT") for sql in seen) >= 2
    assert _current() != "1"
