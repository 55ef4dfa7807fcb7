"""CSV and JSON export of whole API lists (`<list>/export/`): every row of the filtered list (not one page), the
list's filters and ordering, streamed with a query count that does not grow with the rows, formula cells
neutralised, bounded by ITSM_EXPORT_MAX_ROWS, and an end user exports only what their own list shows."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents.models import Incident
from tests.conftest import client_for
from tests.factories import incident_factory, incident_in_state
from tests.factories.requests import laptop_item, order

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    assert response.streaming, "the export must stream"
    return b"".join(response.streaming_content).decode()


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_body(response))))


def _list_numbers(client, url: str) -> list[str]:
    numbers, page = [], client.get(url).json()
    numbers += [row["number"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        numbers += [row["number"] for row in page["results"]]
    return numbers


@pytest.fixture
def many(agent, end_user):
    incidents = [incident_factory(by=agent, caller=end_user, short_description=f"Case {n}") for n in range(28)]
    incidents.append(incident_factory(by=agent, caller=end_user, short_description='=HYPERLINK("http://x","y")'))
    incidents.append(incident_in_state("in_progress", by=agent, short_description="-2+3", description="@SUM(A1)"))
    return incidents


def test_csv_export_has_every_row_in_the_list_order_with_its_filters(agent, many):
    client = client_for(agent)
    rows = _csv(client.get("/api/v1/incidents/export/?format=csv&ordering=number"))
    assert len(rows) == 30 > 25  # more than a page
    assert [r["number"] for r in rows] == _list_numbers(client, "/api/v1/incidents/?ordering=number")
    default = _csv(client.get("/api/v1/incidents/export/"))  # csv is the default, in the list's default order
    assert [r["number"] for r in default] == _list_numbers(client, "/api/v1/incidents/")
    filtered = _csv(client.get("/api/v1/incidents/export/?format=csv&state=in_progress"))
    assert [r["number"] for r in filtered] == _list_numbers(client, "/api/v1/incidents/?state=in_progress")
    assert len(filtered) == 1
    searched = _csv(client.get("/api/v1/incidents/export/?search=HYPERLINK"))
    assert [r["number"] for r in searched] == _list_numbers(client, "/api/v1/incidents/?search=HYPERLINK")
    assert len(searched) == 1


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(agent, many):
    rows = {r["number"]: r for r in _csv(client_for(agent).get("/api/v1/incidents/export/?format=csv"))}
    link, sums = many[-2], many[-1]
    assert rows[link.number]["short_description"] == '\'=HYPERLINK("http://x","y")'
    assert rows[sums.number]["short_description"] == "'-2+3"
    assert rows[sums.number]["description"] == "'@SUM(A1)"
    assert rows[many[0].number]["short_description"] == "Case 0"


def test_json_export_is_the_list_serializer_as_one_streamed_array(agent, many):
    client = client_for(agent)
    response = client.get("/api/v1/incidents/export/?format=json&ordering=-number")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="incidents.json"'
    records = json.loads(_body(response))
    assert isinstance(records, list) and len(records) == 30
    first_page = client.get("/api/v1/incidents/?ordering=-number").json()["results"]
    assert records[: len(first_page)] == first_page


def test_query_count_does_not_grow_with_the_rows(agent, end_user):
    client = client_for(agent)
    for _ in range(3):
        incident_factory(by=agent, caller=end_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            for fmt in ("csv", "json"):
                _body(client.get(f"/api/v1/incidents/export/?format={fmt}"))
        return len(captured)

    few = queries()
    for _ in range(27):
        incident_in_state("on_hold", by=agent, caller=end_user)
    assert Incident.objects.count() == 30
    assert queries() == few


def test_end_user_exports_only_what_their_list_shows(agent, end_user, other_end_user, many):
    mine = incident_factory(by=agent, caller=other_end_user, short_description="Other user's")
    rows = _csv(client_for(other_end_user).get("/api/v1/incidents/export/"))
    assert [r["number"] for r in rows] == [mine.number]
    item = laptop_item(approval=False)
    own = order(end_user, item)
    order(other_end_user, item)
    items = json.loads(_body(client_for(end_user).get("/api/v1/requested-items/export/?format=json")))
    assert [row["number"] for row in items] == list(own.items.values_list("number", flat=True))
    requests = _csv(client_for(end_user).get("/api/v1/requests/export/"))
    assert [row["number"] for row in requests] == [own.number]
    # Agents-only practices answer an end user's export with 404, as their lists do.
    assert client_for(end_user).get("/api/v1/problems/export/").status_code == 404
    assert client_for(end_user).get("/api/v1/fulfilment-tasks/export/").status_code == 404


def test_bad_format_and_too_many_rows_are_400_naming_what(agent, many, settings):
    client = client_for(agent)
    response = client.get("/api/v1/incidents/export/?format=xml")
    assert response.status_code == 400 and "format" in response.json()
    settings.ITSM_EXPORT_MAX_ROWS = 30
    assert len(_csv(client.get("/api/v1/incidents/export/"))) == 30
    settings.ITSM_EXPORT_MAX_ROWS = 29
    response = client.get("/api/v1/incidents/export/?format=json")
    assert response.status_code == 400
    assert response.json()["max_rows"] == ["29"] and "ITSM_EXPORT_MAX_ROWS=29" in response.json()["detail"][0]
    # A filter that brings the list under the limit exports.
    assert len(_csv(client.get("/api/v1/incidents/export/?state=new"))) == 29


def test_every_ticket_practice_exports(agent, many):
    client = client_for(agent)
    for path in (
        "problems",
        "problem-tasks",
        "changes",
        "change-tasks",
        "requests",
        "requested-items",
        "fulfilment-tasks",
    ):
        response = client.get(f"/api/v1/{path}/export/?format=csv")
        assert response.status_code == 200, path
        assert "number" in _body(response).splitlines()[0].split(","), path
    assert APIClient().get("/api/v1/incidents/export/").status_code == 401


def test_approvals_export_what_their_list_shows_with_constant_queries(end_user, other_end_user):
    from tests.factories import UserFactory
    from tests.factories.requests import set_manager

    boss = UserFactory(username="boss")
    set_manager(end_user, boss)
    set_manager(other_end_user, UserFactory(username="other_boss"))
    item = laptop_item()
    order(other_end_user, item)  # someone else's approval: never in the boss's export
    client = client_for(boss)

    def export() -> tuple[list[dict], int]:
        with CaptureQueriesContext(connection) as captured:
            rows = _csv(client.get("/api/v1/approvals/export/?format=csv"))
        return rows, len(captured)

    export()  # warm: the first request of a user reads their roles once
    order(end_user, item)
    rows, few = export()
    assert len(rows) == 1 and rows[0]["approver"] == "boss"
    for _ in range(5):
        order(end_user, item)
    rows, many = export()
    assert len(rows) == 6 and {row["approver"] for row in rows} == {"boss"}
    assert many == few
    assert [r["id"] for r in rows] == [str(a["id"]) for a in client.get("/api/v1/approvals/").json()["results"]]
