"""Service request use cases: ordering, approvals by the requester's manager, fulfilment tasks in order or in
parallel, withdrawal, closing, ratings, versions kept, and the SLA engine on requested items."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from catalog.models import CatalogVariable
from catalog.services import catalog_item_publish
from itsm.enums import JournalKind
from itsm.models import Approval, JournalEntry
from itsm.services import approval_approve, approval_reject
from requests_app import services
from requests_app.enums import FulfilmentTaskState as T
from requests_app.enums import RequestedItemState as R
from requests_app.enums import RequestState
from requests_app.models import FulfilmentTask, Request, RequestedItem, SatisfactionRating
from tests.factories import UserFactory
from tests.factories.requests import laptop_item, order, ritm_of, set_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(username="boss", first_name="Morgan", last_name="Boss")


@pytest.fixture
def requester(end_user, manager):
    set_manager(end_user, manager)
    return end_user


def close_all_tasks(ritm, agent):
    while task := ritm.tasks.filter(active=True).order_by("position").first():
        services.fulfilment_task_close_complete(task=task, by=agent, close_notes="done")


def test_order_with_manager_approval_waits_for_the_manager(requester, manager):
    request = order(requester, laptop_item(), model="Developer", ram="32 GB")
    ritm = ritm_of(request)
    assert request.number.startswith("REQ") and ritm.number.startswith("RITM")
    assert ritm.state == R.AWAITING_APPROVAL
    assert ritm.state_category == "pending_customer"
    approval = Approval.objects.get(ticket=ritm)
    assert approval.approver == manager
    assert ritm.variables == {"model": "Developer", "ram": "32 GB"}
    assert ritm.answers() == [("Which model?", "Developer"), ("Memory", "32 GB")]
    assert ritm.assignment_group.name == "Hardware"


def test_manager_approval_starts_ordered_fulfilment(requester, manager, agent):
    ritm = ritm_of(order(requester, laptop_item()))
    approval_approve(approval=Approval.objects.get(ticket=ritm), by=manager, comment="ok")
    ritm.refresh_from_db()
    assert ritm.state == R.IN_FULFILMENT
    # Ordered: only the first task exists until it closes.
    assert list(ritm.tasks.values_list("short_description", "state")) == [("Prepare the laptop", T.OPEN)]
    first = ritm.tasks.get()
    assert first.assignment_group.name == "Hardware"
    services.fulfilment_task_start(task=first, by=agent)
    services.fulfilment_task_close_complete(task=first, by=agent)
    ritm.refresh_from_db()
    assert ritm.state == R.IN_FULFILMENT
    second = ritm.tasks.get(active=True)
    assert second.short_description == "Hand the laptop over"
    assert second.instructions == "Book a slot with the requester."
    services.fulfilment_task_close_complete(task=second, by=agent)
    ritm.refresh_from_db()
    assert ritm.state == R.FULFILLED
    assert ritm.close_code == "fulfilled"
    assert Request.objects.get(pk=ritm.request_id).state == RequestState.CLOSED
    assert JournalEntry.objects.filter(ticket=ritm, kind=JournalKind.COMMENT, body__contains="fulfilled").exists()


def test_parallel_tasks_are_created_together(end_user, agent):
    ritm = ritm_of(order(end_user, laptop_item(approval=False, parallel=True)))
    assert ritm.state == R.IN_FULFILMENT
    assert ritm.tasks.count() == 2
    close_all_tasks(ritm, agent)
    ritm.refresh_from_db()
    assert ritm.state == R.FULFILLED


def test_rejection_tells_the_requester_why(requester, manager):
    ritm = ritm_of(order(requester, laptop_item()))
    with pytest.raises(ValidationError):
        approval_reject(approval=Approval.objects.get(ticket=ritm), by=manager, comment="")
    approval_reject(approval=Approval.objects.get(ticket=ritm), by=manager, comment="Not in this year's budget")
    ritm.refresh_from_db()
    assert ritm.state == R.REJECTED
    assert ritm.rejection_reason == "Not in this year's budget"
    comment = JournalEntry.objects.get(ticket=ritm, kind=JournalKind.COMMENT)
    assert "Not in this year's budget" in comment.body
    assert Request.objects.get(pk=ritm.request_id).state == RequestState.CANCELED
    assert not ritm.tasks.exists()


def test_only_the_approver_decides(requester, manager, other_end_user):
    ritm = ritm_of(order(requester, laptop_item()))
    with pytest.raises(PermissionDenied):
        approval_approve(approval=Approval.objects.get(ticket=ritm), by=other_end_user)
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.AWAITING_APPROVAL


def test_requester_without_manager_falls_back_to_team_managers(end_user, team, manager):
    team.members.add(end_user)
    team.manager = manager
    team.save()
    ritm = ritm_of(order(end_user, laptop_item()))
    assert Approval.objects.get(ticket=ritm).approver == manager


def test_closed_incomplete_task_skips_the_rest_and_closes_the_item(end_user, agent):
    ritm = ritm_of(order(end_user, laptop_item(approval=False, parallel=True)))
    first, second = ritm.tasks.order_by("position")
    with pytest.raises(ValidationError) as caught:
        services.fulfilment_task_close_incomplete(task=first, by=agent, close_notes=" ")
    assert "close_notes" in caught.value.message_dict
    services.fulfilment_task_close_incomplete(task=first, by=agent, close_notes="Out of stock")
    ritm.refresh_from_db()
    assert ritm.state == R.CLOSED and ritm.close_code == "incomplete"
    assert FulfilmentTask.objects.get(pk=second.pk).state == T.CLOSED_SKIPPED
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ritm, by=end_user, score=5)


def test_requester_withdraws_before_fulfilment_only(requester, agent):
    ritm = ritm_of(order(requester, laptop_item()))
    services.requested_item_cancel(item=ritm, by=requester, reason="Changed my mind")
    ritm.refresh_from_db()
    assert ritm.state == R.CANCELED
    assert not Approval.objects.filter(ticket=ritm, state="requested").exists()
    started = ritm_of(order(requester, laptop_item(approval=False, name="Dock")))
    with pytest.raises(PermissionDenied):
        services.requested_item_cancel(item=started, by=requester)
    services.requested_item_cancel(item=started, by=agent, reason="Duplicate")
    assert not started.tasks.filter(active=True).exists()


def test_end_users_cannot_work_tasks(end_user, agent):
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    task = ritm.tasks.get()
    with pytest.raises(PermissionDenied):
        services.fulfilment_task_close_complete(task=task, by=end_user)
    with pytest.raises(PermissionDenied):
        services.fulfilment_task_comment(task=task, by=end_user, body="hi", kind=JournalKind.COMMENT)


def test_order_refuses_bad_lines_and_creates_nothing(end_user):
    item = laptop_item(approval=False)
    with pytest.raises(ValidationError) as caught:
        services.request_create(
            by=end_user,
            items=[
                {"catalog_item": item.pk, "variables": {"model": "Standard"}},
                {"catalog_item": item.pk, "quantity": 9, "variables": {"model": "Developer", "ram": "1 TB"}},
            ],
        )
    assert set(caught.value.message_dict) == {"items[1].quantity", "items[1].variables.ram"}
    assert not Request.objects.exists()
    with pytest.raises(ValidationError) as caught:
        services.request_create(by=end_user, items=[])
    assert "items" in caught.value.message_dict


def test_items_for_chosen_groups_only(end_user, other_end_user):
    from django.contrib.auth.models import Group

    finance = Group.objects.create(name="Finance")
    item = laptop_item(approval=False, availability="groups")
    item.groups.add(finance)
    other_end_user.groups.add(finance)
    with pytest.raises(ValidationError) as caught:
        order(end_user, item)
    assert "items[0].catalog_item" in caught.value.message_dict
    assert order(other_end_user, item)


def test_a_submitted_request_keeps_the_version_it_was_ordered_from(end_user):
    item = laptop_item(approval=False)
    ritm = ritm_of(order(end_user, item))
    CatalogVariable.objects.filter(item=item, name="model").update(label="Pick a model", choices="Tablet")
    catalog_item_publish(item=item)
    ritm.refresh_from_db()
    assert ritm.item_version.number == 1
    assert ritm.answers()[0] == ("Which model?", "Standard")
    with pytest.raises(ValidationError):
        order(end_user, item, model="Standard")
    assert ritm_of(order(end_user, item, model="Tablet")).item_version.number == 2


def test_rating_once_by_the_requester_after_delivery(requester, manager, agent, other_end_user):
    ritm = ritm_of(order(requester, laptop_item(approval=False)))
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ritm, by=requester, score=5)
    close_all_tasks(ritm, agent)
    ritm.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.ticket_rate(ticket=ritm, by=other_end_user, score=5)
    for bad in (0, 6, "x"):
        with pytest.raises(ValidationError) as caught:
            services.ticket_rate(ticket=ritm, by=requester, score=bad)
        assert "score" in caught.value.message_dict
    services.ticket_rate(ticket=ritm, by=requester, score=4, comment="Quick, thanks")
    assert SatisfactionRating.objects.get(ticket=ritm).score == 4
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ritm, by=requester, score=5)


def test_requester_closes_a_delivered_item(requester, agent):
    ritm = ritm_of(order(requester, laptop_item(approval=False)))
    with pytest.raises(TransitionNotAllowed):
        services.requested_item_close(item=ritm, by=requester)
    close_all_tasks(ritm, agent)
    ritm = RequestedItem.objects.get(pk=ritm.pk)
    services.requested_item_close(item=ritm, by=requester)
    assert RequestedItem.objects.get(pk=ritm.pk).state == R.CLOSED


def test_requested_items_and_tasks_run_sla_clocks(end_user, agent):
    from slas.models import SLAClock, SLADefinition

    for practice in ("requested_item", "task"):
        SLADefinition.objects.create(
            name=f"Deliver {practice}",
            target="resolution",
            practice=practice,
            active=True,
            start_condition={"state_category": ["new", "active"]},
            stop_condition={"state_category": ["resolved", "closed"]},
            duration_seconds=3 * 86400,
        )
    ritm = ritm_of(order(end_user, laptop_item(approval=False)))
    task = ritm.tasks.get()
    assert SLAClock.objects.get(ticket=ritm).stage == "in_progress"
    assert SLAClock.objects.get(ticket=task).stage == "in_progress"
    close_all_tasks(ritm, agent)
    assert SLAClock.objects.get(ticket=task).stage == "completed"
    assert SLAClock.objects.get(ticket=ritm).stage == "completed"
