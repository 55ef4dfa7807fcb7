"""Wide SELECTs are planned in the join order they are written in (PostgreSQL).

The ticket APIs read a ticket with everything its serializer shows in one query: twenty-odd LEFT OUTER JOINs from the
ticket to its caller, team, service, CI, categories, parent, problem, change ... With the default
join_collapse_limit (8) PostgreSQL searches join orders for them, and planning took 70 ms (detail) to 1 s (the list's
first page) on the bench data set, for queries that then ran in under 15 ms. Those joins are lookups by primary key
from the rows already chosen, so the written order is the best one: for a SELECT with at least WIDE_JOINS outer joins
this wrapper runs `SET LOCAL join_collapse_limit = 1` in the same round trip (a multi-statement query is one
transaction, so the setting ends with it; inside a transaction block it is put back at once). List first page at 200,000
incidents: 950 ms -> 32 ms.
"""

from __future__ import annotations

from django.db.backends.signals import connection_created

WIDE_JOINS = 4  # the workspace ticket page reads its ticket with 4 (planning 4-8 ms -> 0.9 ms)
_FIXED = "SET LOCAL join_collapse_limit = 1; "


def fixed_join_order(execute, sql, params, many, context):
    """Execute wrapper: prefix wide SELECTs (client-side cursors only) with the fixed join order setting."""
    cursor = context["cursor"].cursor
    if (
        many
        or getattr(cursor, "name", None)  # a server-side cursor: DECLARE ... FOR <one statement>
        or not isinstance(sql, str)  # psycopg2.extras send bytes
        or not sql.startswith("SELECT")
        or sql.count("LEFT OUTER JOIN") < WIDE_JOINS
    ):
        return execute(sql, params, many, context)
    result = execute(_FIXED + sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block:
        # The rows are already on the client (psycopg2's client-side cursor): reset on a cursor of its own.
        with connection.connection.cursor() as reset:
            reset.execute("SET LOCAL join_collapse_limit = DEFAULT")
    return result


def _install(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql" and fixed_join_order not in connection.execute_wrappers:
        connection.execute_wrappers.append(fixed_join_order)


def install() -> None:
    """Wrap every new PostgreSQL connection (called from ItsmConfig.ready)."""
    connection_created.connect(_install, dispatch_uid="itsm.planning.fixed_join_order")
