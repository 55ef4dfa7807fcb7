"""The watchers panel and the one-click suggestion in headless Chromium: htmx (served by the app, under the CSP)
swaps the panel in place without a page load; Apply takes the suggestion through the service."""

import re

import pytest

from automation.models import CategorySuggestion
from itsm.models import Category, Team, TicketWatcher
from tests.browser.test_smoke import browser, login, page  # noqa: F401 (fixtures)
from tests.factories import AgentFactory, UserFactory, incident_factory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_agent_watches_adds_a_watcher_and_applies_the_suggestion(live_server, page):  # noqa: F811
    agent = AgentFactory(username="wwagent", first_name="Wendy", last_name="Watcher")
    UserFactory(username="wwmanager", first_name="Morgan", last_name="Manager")
    incident = incident_factory(by=agent, short_description="VPN drops every hour")
    network = Category.objects.create(practice="incident", name="Network")
    team = Team.objects.create(name="Network team")
    CategorySuggestion.objects.create(ticket=incident, category=network, confidence=0.83, assignment_group=team)
    expect = pytest.importorskip("playwright.sync_api").expect

    login(page, live_server.url, "wwagent")
    page.goto(f"{live_server.url}/workspace/incidents/{incident.number}/")
    page.evaluate("window.__marker = 'same page'")  # gone after a full page load

    page.click("#watchers button[data-watch=on]")
    expect(page.locator("#watchers button[data-watch=off]")).to_be_visible()
    expect(page.locator("#watchers [data-watcher=wwagent]")).to_be_visible()
    page.fill("#id_watcher_username", "wwmanager")
    page.click("#watchers form:has(#id_watcher_username) button[type=submit]")
    expect(page.locator("#watchers [data-watcher=wwmanager]")).to_contain_text("Morgan Manager")
    page.fill("#id_watcher_username", "nobody")
    page.click("#watchers form:has(#id_watcher_username) button[type=submit]")
    expect(page.locator("#watchers .error")).to_contain_text("No active user")
    assert page.evaluate("window.__marker") == "same page"
    assert set(TicketWatcher.objects.values_list("user__username", flat=True)) == {"wwagent", "wwmanager"}

    assert re.search(r"Network / Network team\s*\(83 %\)", page.locator("#suggestion").inner_text())
    with page.expect_navigation():
        page.click("#suggestion button[value=apply]")
    expect(page.locator("#suggestion")).to_have_count(0)
    incident.refresh_from_db()
    assert (incident.category, incident.assignment_group) == (network, team)
