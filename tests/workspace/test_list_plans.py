"""The list queries a workspace page runs are served by their indexes (PostgreSQL): asserted on the plan, since a
test table is too small for timings to tell."""

from django.db import connection

from incidents.models import Incident
from tests.factories import incident_factory


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = off")  # a tiny table: only whether an index can serve it
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_practice_list_by_team_walks_the_team_kind_index(postgres, agent, team):
    incident_factory(by=agent, assignment_group=team)
    rows = Incident.objects.filter(kind="incident", assignment_group=team).order_by("-opened_at", "-id")
    page = _plan(rows.values("pk")[:26])
    assert "ticket_group_kind_opened" in page and "Sort" not in page
    count = _plan(rows.values("pk")[:1001])
    assert "ticket_group_kind_opened" in count


def test_first_page_of_a_practice_needs_no_sort_of_its_ties(postgres, agent):
    incident_factory(by=agent)
    plan = _plan(Incident.objects.filter(kind="incident").order_by("-opened_at", "-id").values("pk")[:26])
    assert "ticket_kind_opened_id" in plan and "Sort" not in plan
