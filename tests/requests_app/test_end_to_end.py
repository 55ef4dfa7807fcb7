"""End to end through the API and the portal: a rejection reaches the requester with its reason (API record, public
journal, mail, portal page), and a withdrawal by the requester (API and portal) ends the item, its approvals and the
request, and is refused once fulfilment started."""

import pytest

from itsm.enums import ApprovalState
from itsm.models import Approval, OutboxMessage
from requests_app.enums import RequestedItemState as R
from requests_app.enums import RequestState
from requests_app.models import Request, RequestedItem
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.factories.requests import laptop_item, order, ritm_of, set_manager

pytestmark = pytest.mark.django_db

RITMS = "/api/v1/requested-items/"


@pytest.fixture
def manager():
    return UserFactory(username="boss", first_name="Morgan", last_name="Boss")


@pytest.fixture
def waiting(end_user, manager):
    set_manager(end_user, manager)
    return ritm_of(order(end_user, laptop_item()))


def test_rejection_through_the_api_tells_the_requester_why(waiting, end_user, manager, client):
    approval = Approval.objects.get(ticket=waiting)
    url = f"/api/v1/approvals/{approval.pk}/reject/"
    blank = client_for(manager).post(url, {"comment": " "}, format="json")
    assert blank.status_code == 400 and "comment" in blank.json()
    assert client_for(manager).post(url, {"comment": "Not in this year's budget"}, format="json").status_code == 200
    # The API record and the public journal, as the requester reads them.
    record = client_for(end_user).get(f"{RITMS}{waiting.number}/").json()
    assert record["state"] == R.REJECTED and record["rejection_reason"] == "Not in this year's budget"
    journal = client_for(end_user).get(f"{RITMS}{waiting.number}/journal/").json()["results"]
    comments = [e["body"] for e in journal if e["kind"] == "comment"]
    assert comments == ["Your request was not approved. Reason: Not in this year's budget"]
    # The mail.
    mail = OutboxMessage.objects.get(event="request.rejected")
    assert mail.recipient == end_user and "Not in this year's budget" in mail.body and "Morgan Boss" in mail.body
    # The portal page.
    client.force_login(end_user)
    page = client.get(f"/portal/requests/{waiting.number}/").content.decode()
    assert "Your request was not approved." in page and "Not in this year&#x27;s budget" in page
    assert Request.objects.get(pk=waiting.request_id).state == RequestState.CANCELED


def test_rejection_from_the_portal_reaches_the_requester(waiting, end_user, manager, client):
    approval = Approval.objects.get(ticket=waiting)
    client.force_login(manager)
    response = client.post(f"/portal/approvals/{approval.pk}/", {"decision": "reject", "comment": "Ask again in May"})
    assert response.status_code == 302
    record = client_for(end_user).get(f"{RITMS}{waiting.number}/").json()
    assert record["rejection_reason"] == "Ask again in May"
    client.force_login(end_user)
    assert "Ask again in May" in client.get(f"/portal/requests/{waiting.number}/").content.decode()


def test_withdraw_through_the_api_ends_item_approvals_and_request(waiting, end_user, manager, client):
    response = client_for(end_user).post(f"{RITMS}{waiting.number}/cancel/", {"reason": "Got one"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == R.CANCELED
    assert Approval.objects.get(ticket=waiting).state == ApprovalState.WITHDRAWN
    assert Request.objects.get(pk=waiting.request_id).state == RequestState.CANCELED
    entry = RequestedItem.objects.get(pk=waiting.pk).journal.get(transition="cancel")
    assert entry.actor == end_user and entry.body == "Withdrawn by the requester. Got one"
    # The manager no longer has it waiting; the requester reads "Withdrawn" in the portal.
    client.force_login(manager)
    assert waiting.number not in client.get("/portal/approvals/").content.decode()
    client.force_login(end_user)
    assert "Withdrawn" in client.get(f"/portal/requests/{waiting.number}/").content.decode()
    again = client_for(end_user).post(f"{RITMS}{waiting.number}/cancel/", {}, format="json")
    assert again.status_code == 409


def test_withdraw_from_the_portal_and_not_once_fulfilment_started(waiting, end_user, client):
    client.force_login(end_user)
    assert client.post(f"/portal/requests/{waiting.number}/withdraw/", {"reason": "Changed my mind"}).status_code == 302
    assert RequestedItem.objects.get(pk=waiting.pk).state == R.CANCELED
    started = ritm_of(order(end_user, laptop_item(approval=False, name="Pre-approved")))
    assert started.state == R.IN_FULFILMENT
    assert client.post(f"/portal/requests/{started.number}/withdraw/").status_code == 409
    api = client_for(end_user).post(f"{RITMS}{started.number}/cancel/", {}, format="json")
    assert api.status_code == 403  # the state allows cancel (agents may), the requester may not
    assert RequestedItem.objects.get(pk=started.pk).state == R.IN_FULFILMENT
