"""The portal through the Django test client: home, search, ordering with the same validation as the API, the cart,
my requests (withdraw, confirm, rate, comment, files), approvals, the knowledge base with votes, report-an-issue
deflection, and 404 for every portal URL of someone else's record."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.enums import JournalKind
from itsm.models import Approval, Attachment, JournalEntry
from knowledge.models import ArticleVote, Deflection
from requests_app.enums import RequestedItemState as R
from requests_app.models import Request, RequestedItem, SatisfactionRating
from requests_app.services import fulfilment_task_close_complete
from tests.factories import incident_factory
from tests.factories.knowledge import article_factory
from tests.factories.requests import laptop_item, order, ritm_of, set_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client, end_user):
    client.force_login(end_user)
    return client


@pytest.fixture
def manager(db):
    from tests.factories import UserFactory

    return UserFactory(username="boss", first_name="Morgan", last_name="Boss")


def deliver(ritm, agent):
    while task := ritm.tasks.filter(active=True).first():
        fulfilment_task_close_complete(task=task, by=agent)
    return RequestedItem.objects.get(pk=ritm.pk)


def test_home_shows_catalog_my_tickets_and_major_incidents_on_my_services(user_client, end_user, agent):
    from tests.factories import ServiceFactory

    mail, payroll = ServiceFactory(name="Email"), ServiceFactory(name="Payroll")
    laptop_item()
    incident_factory(by=agent, caller=end_user, short_description="Mail is slow", service=mail)
    incident_factory(by=agent, short_description="Mail outage", major_incident=True, service=mail)
    incident_factory(by=agent, short_description="Payroll outage", major_incident=True, service=payroll)
    body = user_client.get("/portal/").content.decode()
    assert "Laptop" in body and "Mail is slow" in body
    assert "Mail outage" in body and "Payroll outage" not in body
    assert 'role="search"' in body


def test_home_lists_approvals_waiting_for_me(client, end_user, manager):
    set_manager(end_user, manager)
    ritm = ritm_of(order(end_user, laptop_item()))
    client.force_login(manager)
    body = client.get("/portal/").content.decode()
    assert ritm.number in body and "Waiting for my approval" in body


def test_search_finds_catalog_items_and_articles(user_client):
    laptop_item()
    article_factory("Set up your new laptop", "Unbox it and sign in with your account.")
    article_factory("Reset your password", "Use the self-service page.")
    body = user_client.get("/portal/search/", {"q": "laptop"}).content.decode()
    assert "/portal/catalog/items/" in body
    assert "Set up your new laptop" in body
    assert "Reset your password" not in body


def test_item_page_renders_the_form_with_show_when_rule(user_client):
    item = laptop_item()
    body = user_client.get(f"/portal/catalog/items/{item.pk}/").content.decode()
    assert 'data-show-when="model" data-show-equals="Developer"' in body
    assert 'for="var_cost_centre"' in body and 'name="accessories"' in body
    assert "data-catalog-form" in body


def test_item_order_bad_answer_is_a_form_error_naming_the_question(user_client):
    item = laptop_item(approval=False)
    response = user_client.post(
        f"/portal/catalog/items/{item.pk}/", {"model": "Developer", "ram": "", "cost_centre": "12", "action": "order"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="var_ram_error"' in body and 'id="var_cost_centre_error"' in body
    assert "Like CC-1234." in body
    assert not Request.objects.exists()


def test_item_order_now_and_see_it_awaiting_approval(user_client, end_user, manager):
    set_manager(end_user, manager)
    item = laptop_item()
    response = user_client.post(
        f"/portal/catalog/items/{item.pk}/",
        {"model": "Developer", "ram": "32 GB", "accessories": ["Mouse", "Dock"], "keep_old": "no", "action": "order"},
    )
    ritm = RequestedItem.objects.get()
    assert response.status_code == 302 and response.url == f"/portal/requests/{ritm.number}/"
    assert ritm.variables["accessories"] == ["Mouse", "Dock"] and ritm.variables["keep_old"] is False
    body = user_client.get(response.url).content.decode()
    assert "Waiting for approval" in body and "Morgan Boss" in body and "32 GB" in body


def test_cart_orders_several_items_in_one_request(user_client):
    laptop = laptop_item(approval=False)
    dock = laptop_item(approval=False, name="Dock")
    user_client.post(f"/portal/catalog/items/{laptop.pk}/", {"model": "Standard", "action": "cart"})
    user_client.post(f"/portal/catalog/items/{dock.pk}/", {"model": "Standard", "quantity": "2", "action": "cart"})
    body = user_client.get("/portal/cart/").content.decode()
    assert "Dock" in body and "Which model?" in body
    response = user_client.post("/portal/cart/submit/")
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.items.count() == 2
    assert user_client.session["portal_cart"] == []


def test_request_page_withdraw_comment_confirm_and_rate(user_client, end_user, agent, manager):
    set_manager(end_user, manager)
    waiting = ritm_of(order(end_user, laptop_item()))
    assert user_client.post(f"/portal/requests/{waiting.number}/withdraw/", {"reason": "No need"}).status_code == 302
    assert RequestedItem.objects.get(pk=waiting.pk).state == R.CANCELED

    ritm = ritm_of(order(end_user, laptop_item(approval=False, name="Dock")))
    assert user_client.post(f"/portal/requests/{ritm.number}/withdraw/").status_code == 409
    assert (
        user_client.post(f"/portal/requests/{ritm.number}/comment/", {"body": "Before Friday please"}).status_code
        == 302
    )
    assert JournalEntry.objects.filter(ticket=ritm, kind=JournalKind.COMMENT, body="Before Friday please").exists()
    upload = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote")
    assert user_client.post(f"/portal/tickets/{ritm.number}/attach/", {"file": upload}).status_code == 302
    assert Attachment.objects.filter(ticket=ritm, public=True).count() == 1

    ritm = deliver(ritm, agent)
    body = user_client.get(f"/portal/requests/{ritm.number}/").content.decode()
    assert "Delivered" in body and "rating-form" in body
    assert (
        user_client.post(f"/portal/tickets/{ritm.number}/rate/", {"score": "5", "comment": "Great"}).status_code == 302
    )
    assert SatisfactionRating.objects.get(ticket=ritm).score == 5
    assert user_client.post(f"/portal/requests/{ritm.number}/confirm/").status_code == 302
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.CLOSED


def test_request_page_shows_the_promised_date_while_open(user_client, end_user, agent):
    from datetime import UTC, datetime

    from requests_app.services import requested_item_update

    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    url = f"/portal/requests/{ritm.number}/"
    assert 'id="due-date"' not in user_client.get(url).content.decode()
    requested_item_update(item=ritm, by=agent, due_date=datetime(2031, 3, 14, 12, 0, tzinfo=UTC))
    assert "We plan to have it with you by 14 Mar 2031." in user_client.get(url).content.decode()


def test_request_page_hides_work_notes_and_internal_fields(user_client, end_user, agent):
    from requests_app.services import requested_item_comment

    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    requested_item_comment(item=ritm, by=agent, body="Internal: order from supplier X", kind=JournalKind.WORK_NOTE)
    body = user_client.get(f"/portal/requests/{ritm.number}/").content.decode()
    assert "supplier X" not in body
    assert "Hardware" not in body  # the fulfilment team is internal


def test_manager_approves_and_rejects_from_the_portal(client, end_user, manager):
    set_manager(end_user, manager)
    first = ritm_of(order(end_user, laptop_item()))
    second = ritm_of(order(end_user, laptop_item(name="Monitor")))
    client.force_login(manager)
    approval = Approval.objects.get(ticket=first)
    body = client.get(f"/portal/approvals/{approval.pk}/").content.decode()
    assert "Which model?" in body and "decision-form" in body
    assert client.post(f"/portal/approvals/{approval.pk}/", {"decision": "approve", "comment": "ok"}).status_code == 302
    assert RequestedItem.objects.get(pk=first.pk).state == R.IN_FULFILMENT
    other = Approval.objects.get(ticket=second)
    response = client.post(f"/portal/approvals/{other.pk}/", {"decision": "reject", "comment": ""})
    assert response.status_code == 400 and "Say why you reject." in response.content.decode()
    assert (
        client.post(f"/portal/approvals/{other.pk}/", {"decision": "reject", "comment": "Too early"}).status_code == 302
    )
    assert RequestedItem.objects.get(pk=second.pk).rejection_reason == "Too early"


def test_every_portal_url_of_someone_elses_record_is_404(client, end_user, other_end_user, agent, manager):
    set_manager(end_user, manager)
    ritm = ritm_of(order(end_user, laptop_item()))
    incident = incident_factory(by=agent, caller=end_user, short_description="Mine")
    approval = Approval.objects.get(ticket=ritm)
    client.force_login(other_end_user)
    for url in (
        f"/portal/requests/{ritm.number}/",
        f"/portal/incidents/{incident.number}/",
        f"/portal/approvals/{approval.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/portal/requests/{ritm.number}/comment/", {"body": "x"}),
        (f"/portal/requests/{ritm.number}/withdraw/", {}),
        (f"/portal/requests/{ritm.number}/confirm/", {}),
        (f"/portal/tickets/{ritm.number}/rate/", {"score": 5}),
        (f"/portal/tickets/{ritm.number}/attach/", {}),
        (f"/portal/tickets/{incident.number}/rate/", {"score": 5}),
        (f"/portal/approvals/{approval.pk}/", {"decision": "approve"}),
    ):
        assert client.post(url, data).status_code == 404, url
    body = client.get("/portal/tickets/?show=all").content.decode()
    assert ritm.number not in body and incident.number not in body
    # The agent too: the portal is everyone's own view.
    client.force_login(agent)
    assert client.get(f"/portal/requests/{ritm.number}/").status_code == 404
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.AWAITING_APPROVAL


def test_knowledge_base_search_article_and_votes(user_client, end_user):
    article = article_factory("Connect to the VPN", "Open the VPN client and sign in.", category="Network")
    article_factory("Draft article", published=False)
    assert "Connect to the VPN" in user_client.get("/portal/kb/", {"q": "vpn"}).content.decode()
    assert user_client.get("/portal/kb/articles/draft-article/").status_code == 404
    assert user_client.get(f"/portal/kb/articles/{article.slug}/").status_code == 200
    user_client.post("/portal/kb/vote/", {"kind": "article", "pk": article.pk, "helpful": "yes"})
    user_client.post("/portal/kb/vote/", {"kind": "article", "pk": article.pk, "helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (0, 1)
    assert ArticleVote.objects.count() == 1


def test_known_errors_are_published_and_findable(user_client, agent):
    from problems.models import KnowledgeArticle

    known = KnowledgeArticle.objects.create(title="Printer queue stalls", body="Workaround: restart.", published=True)
    assert "Printer queue stalls" in user_client.get("/portal/kb/", {"q": "printer"}).content.decode()
    assert "Workaround: restart." in user_client.get(f"/portal/kb/known-errors/{known.pk}/").content.decode()
    user_client.post("/portal/kb/vote/", {"kind": "known_error", "pk": known.pk, "helpful": "yes"})
    assert ArticleVote.objects.get().known_error == known


def test_report_suggests_articles_and_major_incidents_and_counts_solved(user_client, agent):
    article = article_factory("Outlook keeps asking for my password", "Remove the saved credentials.")
    major = incident_factory(by=agent, short_description="Outlook down for everyone", major_incident=True)
    body = user_client.get("/portal/report/suggestions/", {"short_description": "outlook password"}).content.decode()
    assert "Outlook keeps asking for my password" in body and "Outlook down for everyone" in body
    assert (
        user_client.post("/portal/report/solved/", {"kind": "article", "pk": article.pk, "q": "outlook"}).status_code
        == 302
    )
    assert user_client.post("/portal/report/solved/", {"kind": "incident", "pk": major.pk}).status_code == 302
    article.refresh_from_db()
    assert article.solved_count == 1 and Deflection.objects.count() == 2


def test_report_with_a_bad_file_creates_nothing(user_client):
    from incidents.models import Incident

    bad = SimpleUploadedFile("x.pdf", b"not a pdf")
    response = user_client.post(
        "/portal/report/", {"short_description": "Broken", "urgency": 3, "service": "", "attachment": bad}
    )
    assert response.status_code == 400 and not Incident.objects.exists()
    good = SimpleUploadedFile("x.pdf", b"%PDF-1.4")
    response = user_client.post(
        "/portal/report/", {"short_description": "Broken", "urgency": 3, "service": "", "attachment": good}
    )
    assert response.status_code == 302 and Attachment.objects.count() == 1


def test_incident_page_rating_after_resolution(user_client, end_user, agent):
    from incidents.services import incident_resolve
    from tests.factories import close_code

    incident = incident_factory(by=agent, caller=end_user, short_description="Screen flickers")
    assert "rating-form" not in user_client.get(f"/portal/incidents/{incident.number}/").content.decode()
    incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="New cable")
    assert "rating-form" in user_client.get(f"/portal/incidents/{incident.number}/").content.decode()
    assert user_client.post(f"/portal/tickets/{incident.number}/rate/", {"score": "3"}).status_code == 302
    assert SatisfactionRating.objects.get(ticket=incident).score == 3


@pytest.mark.parametrize("url", ["/portal/", "/portal/tickets/?show=all"])
def test_portal_lists_query_count_constant(user_client, end_user, agent, url):
    item = laptop_item(approval=False)
    for _ in range(2):
        order(end_user, item)
        incident_factory(by=agent, caller=end_user, short_description="x")
    user_client.get(url)
    with CaptureQueriesContext(connection) as few:
        user_client.get(url)
    for _ in range(6):
        order(end_user, item)
        incident_factory(by=agent, caller=end_user, short_description="y")
    with CaptureQueriesContext(connection) as many:
        user_client.get(url)
    assert len(many) == len(few)
