"""Text search over tickets: the trigram indexes of itsm migrations 0013 and 0016 serve the SQL that `icontains`
writes."""

import pytest
from django.db import connection

from incidents.models import Incident
from itsm.filtersets import search_text
from itsm.models import Ticket
from itsm.workspace.filtersets import ticket_search
from tests.conftest import client_for
from tests.factories import incident_factory


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table is tiny: without this PostgreSQL would rightly read it whole; the point is that it can use
        # the index at all (at a million tickets the planner prefers it on its own).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # nor walk the primary key and filter every row
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_uses_the_trigram_indexes(postgres, agent):
    incident_factory(by=agent, short_description="Printer jam on floor 3")
    plan = _plan(search_text(Incident.objects.all(), "INC", "printer").values("pk"))
    assert "ticket_short_description_trgm" in plan
    assert "ticket_number_trgm" in plan
    assert "Seq Scan on itsm_ticket" not in plan


def test_api_search_over_the_description_uses_its_trigram_index(postgres, agent):
    """The API's `?search=` (DRF's SearchFilter: an OR of icontains over its search fields) is served by all three."""
    from django.db.models import Q

    incident_factory(by=agent, short_description="VPN drops", description="the printer is fine")
    term = "printer"
    query = Q(number__icontains=term) | Q(short_description__icontains=term) | Q(description__icontains=term)
    plan = _plan(Incident.objects.filter(query).values("pk"))
    assert "ticket_description_trgm" in plan and "Seq Scan on itsm_ticket" not in plan


def test_api_search_matches_number_short_description_and_description_any_case(agent):
    a = incident_factory(by=agent, short_description="Printer JAM on floor 3")
    b = incident_factory(by=agent, short_description="VPN drops", description="the printer is fine")
    client = client_for(agent)

    def numbers(term):
        response = client.get("/api/v1/incidents/", {"search": term})
        assert response.status_code == 200
        return {row["number"] for row in response.json()["results"]}

    assert numbers("printer jam") == {a.number}
    assert numbers(b.number[-5:]) == {b.number}
    assert numbers("PRINTER IS fine") == {b.number}
    assert numbers("printer") == {a.number, b.number}


@pytest.mark.parametrize("term", ["printer", "INC00"])
def test_workspace_q_uses_the_trigram_indexes(postgres, agent, term):
    incident_factory(by=agent, short_description="Printer jam")
    plan = _plan(ticket_search(Ticket.objects.all(), term).values("pk"))
    assert "trgm" in plan
