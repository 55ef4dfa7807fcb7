"""The service-request must-show in a real browser: an end user searches, orders a laptop through a form with a
show-when rule and sees it awaiting approval; the manager approves it in the portal; an agent closes the fulfilment
tasks through the API; the end user sees it delivered and rates it. Every page is photographed at desktop width and
at 375 px into var/screenshots/portal/ (git-ignored)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from itsm.models import Approval
from requests_app.enums import RequestedItemState as R
from requests_app.models import RequestedItem, SatisfactionRating
from tests.browser.test_smoke import browser, login  # noqa: F401  (the browser fixture)
from tests.factories import AgentFactory, UserFactory
from tests.factories.knowledge import article_factory
from tests.factories.requests import laptop_item, set_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "portal"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 760}


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shoot(page, name: str) -> None:
    """The page as it is now, full length, at desktop width and at 375 px; the page must not scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}-375.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than a 375px screen"
    page.set_viewport_size(DESKTOP)


def sign_out(page) -> None:
    page.click(".usermenu summary")
    page.click(".usermenu button[type=submit]")
    page.wait_for_url("**/accounts/login/")


def test_order_a_laptop_approve_fulfil_and_rate(live_server, page):
    agent = AgentFactory(username="fulfil_agent", first_name="Alex", last_name="Agent")
    manager = UserFactory(username="mgr", first_name="Morgan", last_name="Manager")
    user = UserFactory(username="emma", first_name="Emma", last_name="Employee")
    set_manager(user, manager)
    item = laptop_item()
    item.groups.clear()
    article_factory(
        "Set up your new laptop", "Unbox it, plug it in and sign in with your work account.", category="Hardware"
    )

    # The end user searches from the home page and opens the laptop.
    login(page, live_server.url, "emma")
    assert page.url.endswith("/portal/")
    shoot(page, "01-home")
    page.fill("#portal-search", "laptop")
    page.press("#portal-search", "Enter")
    page.wait_for_url("**/portal/search/?q=laptop")
    assert page.get_by_role("link", name="Set up your new laptop").is_visible()
    shoot(page, "02-search")
    page.click(f"a[href='/portal/catalog/items/{item.pk}/']")
    page.wait_for_url(f"**/portal/catalog/items/{item.pk}/")

    # The memory question shows only for the developer model (live in the page, no reload).
    ram = page.locator("#var_ram_wrap")
    assert ram.is_hidden()
    page.check("input[name=model][value=Developer]")
    assert ram.is_visible()
    page.check("input[name=model][value=Standard]")
    assert ram.is_hidden()
    page.check("input[name=model][value=Developer]")
    page.check("input[name=ram][value='32 GB']")
    page.check("input[name=accessories][value=Dock]")
    page.fill("#var_cost_centre", "CC-42")
    shoot(page, "03-item-form")
    page.click("button[value=order]")
    page.wait_for_load_state("networkidle")
    # The server checks the same rules: a bad cost centre is an error on that question, and nothing is ordered.
    assert page.locator("#var_cost_centre_error").inner_text() == "Like CC-1234."
    assert not RequestedItem.objects.exists()
    shoot(page, "04-item-form-error")
    page.fill("#var_cost_centre", "CC-4242")
    page.click("button[value=order]")
    page.wait_for_url("**/portal/requests/RITM*/")
    ritm = RequestedItem.objects.get()
    assert ritm.state == R.AWAITING_APPROVAL
    assert page.locator(".pill").first.inner_text() == "Waiting for approval"
    assert page.get_by_text("Morgan Manager").is_visible()
    shoot(page, "05-request-awaiting-approval")
    sign_out(page)

    # The manager approves it from the portal.
    login(page, live_server.url, "mgr")
    assert page.get_by_text(ritm.number).is_visible()
    page.click("text=Approvals")
    page.wait_for_url("**/portal/approvals/")
    shoot(page, "06-approvals")
    page.click(f"text={ritm.short_description}")
    page.wait_for_url("**/portal/approvals/*/")
    assert page.get_by_text("32 GB").is_visible()
    page.fill("#id_comment", "Approved for the new project.")
    shoot(page, "07-approval-detail")
    page.click("button[value=approve]")
    page.wait_for_url("**/portal/approvals/")
    assert Approval.objects.get(ticket=ritm).state == "approved"
    ritm.refresh_from_db()
    assert ritm.state == R.IN_FULFILMENT
    sign_out(page)

    # An agent closes the fulfilment tasks through the API (over HTTP, with a token).
    api = page.context.request
    headers = {"Authorization": f"Token {Token.objects.create(user=agent).key}"}
    for _ in range(2):
        listed = api.get(
            f"{live_server.url}/api/v1/fulfilment-tasks/?requested_item={ritm.pk}&state=open", headers=headers
        ).json()
        [task] = listed["results"]
        closed = api.post(
            f"{live_server.url}/api/v1/fulfilment-tasks/{task['number']}/close_complete/",
            headers=headers,
            data={"close_notes": "Done"},
        )
        assert closed.status == 200, closed.text()
    ritm.refresh_from_db()
    assert ritm.state == R.FULFILLED

    # The end user sees it delivered and rates it.
    login(page, live_server.url, "emma")
    page.click("text=My tickets")
    page.wait_for_url("**/portal/tickets/")
    shoot(page, "08-my-tickets")
    page.click(f"text={ritm.short_description}")
    page.wait_for_url(f"**/portal/requests/{ritm.number}/")
    assert page.locator(".pill").first.inner_text() == "Delivered"
    shoot(page, "09-request-delivered")
    page.check("#rating-form input[name=score][value='5']")
    page.fill("#rating-form textarea[name=comment]", "Fast and friendly, thank you!")
    page.click("#rating-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/portal/requests/{ritm.number}/#rating$"))
    assert SatisfactionRating.objects.get(ticket=ritm).score == 5
    assert page.get_by_text("5/5").is_visible()
    shoot(page, "10-request-rated")

    # The knowledge base and the report form (suggestions while typing), for the record.
    page.goto(f"{live_server.url}/portal/report/")
    page.fill("input[name=short_description]", "new laptop setup")
    page.wait_for_selector("#suggestions .suggestion")
    shoot(page, "11-report-suggestions")
    page.goto(f"{live_server.url}/portal/kb/")
    shoot(page, "12-knowledge-base")
