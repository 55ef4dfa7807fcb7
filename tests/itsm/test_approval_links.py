"""Signed one-click approval links: in the approval email; GET only confirms (mail scanners prefetch); POST decides
through the approval services; only for the approver it was issued to; expired, tampered, used and withdrawn links
answer clearly and change nothing."""

import re
import time

import pytest
from django.core import signing
from django.urls import reverse

from changes import services
from changes.enums import ChangeState as S
from changes.models import Change
from itsm.approval_links import approval_link_token
from itsm.models import Approval, OutboxMessage
from tests.factories import AgentFactory, approval_policy_factory, change_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(agent):
    """A change waiting for two approvers (any of them)."""
    approvers = [AgentFactory(username="cab1"), AgentFactory(username="cab2")]
    approval_policy_factory(approvers=approvers, name="CAB", ticket_type="normal")
    change = change_factory(by=agent)
    services.change_assess(change=change, by=agent)
    services.change_request_approval(change=change, by=agent)
    return change, {a.approver.username: a for a in Approval.objects.filter(ticket=change).select_related("approver")}


def _link(approval) -> str:
    return reverse("approval_link", kwargs={"token": approval_link_token(approval)})


def test_the_approval_email_carries_each_approver_their_own_link(client, pending):
    change, approvals = pending
    links = {}
    for username, approval in approvals.items():
        body = OutboxMessage.objects.get(event="approval.requested", recipient=approval.approver).body
        links[username] = re.search(r"https?://\S+(/approvals/link/\S+/)", body).group(1)
        assert username in body and change.number in body
    client.force_login(approvals["cab1"].approver)
    assert client.get(links["cab1"]).status_code == 200
    assert client.get(links["cab2"]).status_code == 404


def test_get_only_confirms_and_post_approves(client, pending):
    change, approvals = pending
    approval = approvals["cab1"]
    client.force_login(approval.approver)
    page = client.get(_link(approval))
    assert page.status_code == 200 and change.number in page.content.decode()
    assert 'value="approve"' in page.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == "requested"  # a prefetch decides nothing
    done = client.post(_link(approval), {"decision": "approve", "comment": "Fine by me"})
    assert done.status_code == 200 and "You approved it" in done.content.decode()
    approval.refresh_from_db()
    assert approval.state == "approved" and approval.comment == "Fine by me"
    assert Change.objects.get(pk=change.pk).state == S.SCHEDULED
    used = client.get(_link(approval))
    assert used.status_code == 409 and "no longer waiting" in used.content.decode()
    assert client.post(_link(approval), {"decision": "reject", "comment": "x"}).status_code == 409
    assert Approval.objects.get(pk=approval.pk).state == "approved"


def test_reject_needs_a_comment_then_returns_the_change_to_new(client, pending):
    change, approvals = pending
    approval = approvals["cab2"]
    client.force_login(approval.approver)
    refused = client.post(_link(approval), {"decision": "reject", "comment": "  "})
    assert refused.status_code == 400 and "Say why you reject" in refused.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == "requested"
    assert client.post(_link(approval), {"decision": "maybe"}).status_code == 400
    assert client.post(_link(approval), {"decision": "reject", "comment": "Backout untested"}).status_code == 200
    assert Change.objects.get(pk=change.pk).state == S.NEW
    withdrawn = client.get(_link(approvals["cab1"]))  # cab2's session, cab1's link: not theirs
    assert withdrawn.status_code == 404
    client.force_login(approvals["cab1"].approver)
    page = client.get(_link(approvals["cab1"]))
    assert page.status_code == 409 and "withdrawn" in page.content.decode()


def test_link_works_only_for_its_approver(client, pending, agent):
    _change, approvals = pending
    approval = approvals["cab1"]
    anonymous = client.get(_link(approval))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    for other in (agent, approvals["cab2"].approver):
        client.force_login(other)
        assert client.get(_link(approval)).status_code == 404
        assert client.post(_link(approval), {"decision": "approve"}).status_code == 404
    assert Approval.objects.get(pk=approval.pk).state == "requested"


def test_expired_and_tampered_links_change_nothing(client, pending, monkeypatch, settings):
    _change, approvals = pending
    approval = approvals["cab1"]
    client.force_login(approval.approver)
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 8 * 86400)
    old = _link(approval)
    monkeypatch.setattr(signing.time, "time", real_time)
    expired = client.post(old, {"decision": "approve"})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    settings.ITSM_APPROVAL_LINK_MAX_AGE_DAYS = 30
    assert client.get(old).status_code == 200  # the validity is a setting
    forged = signing.dumps({"a": approval.pk, "u": approval.approver_id}, salt="another-salt")
    assert client.post(reverse("approval_link", kwargs={"token": forged}), {"decision": "approve"}).status_code == 400
    assert Approval.objects.get(pk=approval.pk).state == "requested"
