"""The must-show run of the agent workspace in headless Chromium: an agent works an incident from the team queue
to resolved; the caller's portal shows the public comment and never the work note. Screenshots of the list, the
ticket page and the dashboards are written to var/screenshots/."""

import re
from pathlib import Path

import pytest

from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.enums import JournalKind
from itsm.models import JournalEntry
from tests.browser.test_smoke import browser, login, page  # noqa: F401 (fixtures)
from tests.factories import AgentFactory, TeamFactory, UserFactory, incident_factory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name: str) -> None:  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def logout(page) -> None:  # noqa: F811
    page.click(".usermenu summary")
    page.click(".usermenu button[type=submit]")
    page.wait_for_url("**/accounts/login/")


def test_agent_takes_holds_comments_and_resolves_from_team_queue(live_server, page):  # noqa: F811
    team = TeamFactory(name="Service Desk")
    agent = AgentFactory(username="wsagent", first_name="Alex", last_name="Agent")
    team.members.add(agent)
    caller = UserFactory(username="wscaller", first_name="Casey", last_name="Caller", email="casey@example.com")
    target = incident_factory(
        by=agent,
        caller=caller,
        assignment_group=team,
        impact=1,
        urgency=1,
        short_description="Docking station not detected after update",
        description="Both monitors stay black since this morning's update.",
    )
    for text in ("VPN disconnects hourly", "Printer jams on floor 2", "Docking station firmware question"):
        incident_factory(by=agent, caller=caller, assignment_group=team, short_description=text)

    # Sign in, open the team's queue from the sidebar.
    login(page, live_server.url, "wsagent")
    page.click("#nav-teams a[data-team='Service Desk']")
    page.wait_for_url(re.compile(r"assignment_group=Service"))
    assert page.locator("#ticket-table").get_by_text(target.number).is_visible()
    assert page.locator("#ticket-table tbody tr").count() == 4
    shot(page, "workspace-queue")

    # Filter: priority Critical and text, through htmx (no page load), with j/k to move in the list.
    page.click("details[data-filter=priority] > summary")
    page.check("details[data-filter=priority] input[value='1']")
    page.wait_for_url(re.compile(r"priority=1"))
    page.fill("#id_q", "docking")
    page.keyboard.press("Escape")  # leave the field (shortcuts are off while typing)
    page.wait_for_url(re.compile(r"q=docking"))
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.locator("#ticket-table tbody tr")).to_have_count(1)
    page.click("details[data-filter=priority] > summary")  # close the dropdown
    page.keyboard.press("j")
    assert page.locator("#ticket-table tbody tr.is-current").get_by_text(target.number).is_visible()
    shot(page, "workspace-list")

    # Open it (Enter on the current row) and take it with the "a" shortcut.
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/workspace/incidents/{target.number}/")
    with page.expect_navigation():
        page.keyboard.press("a")
    assert Incident.objects.get(pk=target.pk).assigned_to == agent
    assert "Alex Agent" in page.locator("#ticket-assignee").inner_text()

    # Put it on hold with a reason: the transition's small form asks for it.
    page.click("details.action:has(form[data-transition=hold]) > summary")
    page.click("form[data-transition=hold] button[type=submit]")  # no reason yet: the form asks for it first
    assert page.locator("form[data-transition=hold] select[name=hold_reason]:invalid").count() == 1
    assert Incident.objects.get(pk=target.pk).state == IncidentState.NEW
    page.select_option("form[data-transition=hold] select[name=hold_reason]", "awaiting_vendor")
    page.click("form[data-transition=hold] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#ticket-state").inner_text() == "On Hold"
    assert Incident.objects.get(pk=target.pk).hold_reason.slug == "awaiting_vendor"

    # A work note (the composer's default, "c" focuses it, Ctrl+Enter posts) and a public comment.
    page.keyboard.press("c")
    page.keyboard.type("Vendor ticket V-4471 opened; internal only.")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert page.locator(".entry-work_note").filter(has_text="V-4471").is_visible()
    page.check("#composer input[value=comment]")
    page.fill("#id_c_body", "We are waiting for a replacement dock from the vendor.")
    page.click("#composer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".entry-comment").filter(has_text="replacement dock").is_visible()

    # Resolve with a close code and notes.
    page.click("details.action:has(form[data-transition=resolve]) > summary")
    page.select_option("form[data-transition=resolve] select[name=close_code]", "solution_provided")
    page.fill("form[data-transition=resolve] textarea[name=close_notes]", "Dock replaced; both monitors work.")
    page.click("form[data-transition=resolve] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#ticket-state").inner_text() == "Resolved"
    resolved = Incident.objects.get(pk=target.pk)
    assert resolved.state == IncidentState.RESOLVED and resolved.close_code.slug == "solution_provided"
    assert JournalEntry.objects.filter(ticket=target, kind=JournalKind.WORK_NOTE, body__contains="V-4471").exists()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "workspace-ticket")

    # The dashboards, and the shortcut help.
    page.goto(f"{live_server.url}/workspace/dashboard/team/?days=14")
    assert page.locator("#kpi-backlog .kpi-value").inner_text() == "4"
    shot(page, "workspace-team-dashboard")
    page.goto(f"{live_server.url}/workspace/dashboard/")
    shot(page, "workspace-dashboard")
    page.keyboard.press("?")
    assert page.locator("#kbd-help").is_visible()
    page.keyboard.press("Escape")

    # The caller sees the public comment in the portal, never the work note.
    logout(page)
    login(page, live_server.url, "wscaller")
    page.goto(f"{live_server.url}/portal/incidents/{target.number}/")
    body = page.locator("main").inner_text()
    assert "replacement dock" in body
    assert "V-4471" not in body and "internal only" not in body
