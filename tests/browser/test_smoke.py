"""A real browser against the live server: an agent works an incident, an end user reports one in the portal."""

import re
from pathlib import Path

import pytest
from django.db import connections

from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.enums import JournalKind
from itsm.models import JournalEntry
from tests.conftest import require_service
from tests.factories import AgentFactory, TeamFactory, UserFactory, incident_factory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def browser(monkeypatch):
    require_service(Path(CHROMIUM).exists(), "Chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread with a running
    # loop unless told it is safe (it is here). Set for these tests only: subprocesses of other tests (check --deploy)
    # would flag it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Inside Playwright's context the ORM gets its own connection (Django keeps connections in context
            # variables); close it here or the test database cannot be dropped at the end of the session.
            connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_agent_works_an_incident_and_end_user_reports_one(live_server, page):
    team = TeamFactory(name="Service Desk")
    agent = AgentFactory(username="smoke_agent", first_name="Sam", last_name="Agent")
    team.members.add(agent)
    caller = UserFactory(username="smoke_user", first_name="Casey", last_name="Caller")
    incident = incident_factory(by=agent, caller=caller, short_description="Smoke test printer jam")
    incident_factory(by=agent, caller=caller, short_description="Another unrelated ticket")

    # The agent signs in, lands on their work in the workspace and opens the incident list.
    login(page, live_server.url, "smoke_agent")
    assert "/workspace/" in page.url
    page.click("#nav-practices a[data-practice=incidents]")
    assert page.locator("#ticket-table").get_by_text(incident.number).is_visible()

    # Typing in the search box narrows the table through htmx, without a page load.
    page.fill("#id_q", "printer jam")
    page.wait_for_url(re.compile(r"q=printer"))
    page.wait_for_function("!document.body.innerText.includes('Another unrelated ticket')")
    assert page.locator("#ticket-table tbody tr").count() == 1

    # Open the incident and start it.
    page.click(f"text={incident.number}")
    page.wait_for_url(f"**/workspace/incidents/{incident.number}/")
    page.click("form[data-transition=start] button")
    page.wait_for_load_state("networkidle")
    assert page.locator(".ticket-badges .badge").first.inner_text() == "In Progress"
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.IN_PROGRESS

    # Add a work note (the composer's default kind).
    page.fill("#id_c_body", "Checked the printer queue")
    page.click("#composer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".entry-work_note").filter(has_text="Checked the printer queue").is_visible()
    assert JournalEntry.objects.filter(ticket=incident, kind=JournalKind.WORK_NOTE).count() == 1

    # Sign out through the user menu (a POST form).
    page.click(".usermenu summary")
    page.click(".usermenu button[type=submit]")
    page.wait_for_url("**/accounts/login/")

    # The end user reports an issue in the portal.
    login(page, live_server.url, "smoke_user")
    assert page.url.endswith("/portal/")
    page.click("text=Report an issue")
    page.fill("input[name=short_description]", "My monitor flickers")
    page.fill("textarea[name=description]", "Since this morning")
    page.check("input[name=urgency][value='2']")
    page.click("#report-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    reported = Incident.objects.get(short_description="My monitor flickers")
    assert reported.caller == caller
    assert page.locator(".message-success").is_visible()
    assert reported.number in page.content()

    page.click("text=My incidents")
    assert page.get_by_text("My monitor flickers").is_visible()
    assert page.get_by_text("Smoke test printer jam").is_visible()
