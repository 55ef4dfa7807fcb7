"""The change calendar page: a month grid with changes, blackouts and maintenance windows, constant queries, 400 for
a bad month, 404 for end users, the nav link."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse

from changes.models import ChangeWindow
from tests.factories import ConfigurationItemFactory, change_factory

pytestmark = pytest.mark.django_db

URL = reverse("changes:calendar")
T0 = datetime(2030, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def june(agent):
    web = ConfigurationItemFactory(name="web-01")
    ChangeWindow.objects.create(
        kind="blackout", name="Half-year freeze", start=T0 + timedelta(days=20), end=T0 + timedelta(days=25)
    )
    sundays = ChangeWindow.objects.create(
        kind="maintenance", name="Web Sundays", recurrence="weekly", weekdays="7", start_time=time(1), end_time=time(5)
    )
    sundays.configuration_items.add(web)
    return web


def test_calendar_page_shows_the_month(client, agent, june, django_assert_max_num_queries):
    for day in range(0, 20, 2):
        change_factory(
            by=agent,
            short_description=f"Change on day {day}",
            affected_cis=[june],
            planned_start=T0 + timedelta(days=day),
            planned_end=T0 + timedelta(days=day, hours=2),
        )
    client.force_login(agent)
    with django_assert_max_num_queries(20):
        page = client.get(URL, {"month": "2030-06"})
    html = page.content.decode()
    assert page.status_code == 200 and "June 2030" in html
    assert html.count('class="cal-change') == 10 and "Change on day 18" in html
    assert "Half-year freeze" in html and "Web Sundays" in html
    assert "cal-blackout" in html and "may only change in its maintenance windows" in html  # a weekday change
    assert 'href="?month=2030-07"' in html and 'href="?month=2030-05"' in html
    assert reverse("changes:calendar") in client.get(reverse("slas:sla_report")).content.decode()  # nav link


@pytest.mark.parametrize("month", ["2030-13", "june", "0-1", "2030-06-01"])
def test_calendar_page_refuses_a_bad_month_naming_it(client, agent, month):
    client.force_login(agent)
    page = client.get(URL, {"month": month})
    assert page.status_code == 400 and "month" in page.content.decode()


def test_calendar_page_is_for_agents_only(client, end_user):
    assert client.get(URL).status_code == 302
    client.force_login(end_user)
    assert client.get(URL).status_code == 404
