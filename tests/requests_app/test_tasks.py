"""The auto-close beat task: fulfilled requested items close themselves after ITSM_REQUEST_AUTO_CLOSE_DAYS, journaled
as the system; a comment from the requester restarts the wait; the request follows its items."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings

from requests_app import services
from requests_app.enums import RequestedItemState as R
from requests_app.enums import RequestState
from requests_app.models import Request, RequestedItem
from requests_app.tasks import requested_item_auto_close_task
from tests.factories.requests import laptop_item, ritm_of

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fulfil(ritm, agent):
    while task := ritm.tasks.filter(active=True).order_by("position").first():
        services.fulfilment_task_close_complete(task=task, by=agent)
    return RequestedItem.objects.get(pk=ritm.pk)


def test_beat_schedule_runs_the_request_auto_close():
    entry = django_settings.CELERY_BEAT_SCHEDULE["requests-auto-close"]
    assert entry["task"] == requested_item_auto_close_task.name == "requests_app.auto_close"
    assert django_settings.ITSM_REQUEST_AUTO_CLOSE_DAYS == 7


def test_fulfilled_item_closes_after_the_window_only(end_user, agent, settings):
    settings.ITSM_REQUEST_AUTO_CLOSE_DAYS = 7
    item = laptop_item(approval=False)
    with time_machine.travel(START, tick=False) as clock:
        old = fulfil(ritm_of(services.request_create(by=end_user, items=[_line(item)])), agent)
        clock.shift(timedelta(days=3))
        fresh = fulfil(ritm_of(services.request_create(by=end_user, items=[_line(item)])), agent)
        clock.shift(timedelta(days=4, seconds=-1))
        assert requested_item_auto_close_task() == 0  # one second short of 7 days
        clock.shift(timedelta(seconds=1))
        assert requested_item_auto_close_task() == 1
        assert requested_item_auto_close_task() == 0  # safe to run twice
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, old.active, old.closed_at) == (R.CLOSED, False, START + timedelta(days=7))
    assert fresh.state == R.FULFILLED and fresh.active is True
    entry = old.journal.get(transition="close")
    assert entry.actor is None and entry.from_state == R.FULFILLED
    assert "automatically 7 days after delivery" in entry.body
    assert Request.objects.get(pk=old.request_id).state == RequestState.CLOSED


def test_requester_comment_restarts_the_wait(end_user, agent, settings):
    settings.ITSM_REQUEST_AUTO_CLOSE_DAYS = 7
    with time_machine.travel(START, tick=False) as clock:
        ritm = fulfil(ritm_of(services.request_create(by=end_user, items=[_line(laptop_item(approval=False))])), agent)
        clock.shift(timedelta(days=5))
        services.requested_item_comment(item=ritm, by=end_user, body="Only half of it arrived.")
        services.requested_item_comment(item=ritm, by=agent, body="Checking.")  # an agent's reply does not
        clock.shift(timedelta(days=3))
        assert requested_item_auto_close_task() == 0
        ritm.refresh_from_db()
        assert ritm.state == R.FULFILLED
        clock.shift(timedelta(days=4))
        assert requested_item_auto_close_task() == 1
    ritm.refresh_from_db()
    assert ritm.state == R.CLOSED


def test_request_closes_once_its_last_item_ends(end_user, agent, settings):
    settings.ITSM_REQUEST_AUTO_CLOSE_DAYS = 7
    item = laptop_item(approval=False)
    with time_machine.travel(START, tick=False) as clock:
        request = services.request_create(by=end_user, items=[_line(item), _line(item)])
        first, second = RequestedItem.objects.filter(request=request).order_by("number")
        first = fulfil(first, agent)
        clock.shift(timedelta(days=8))
        assert requested_item_auto_close_task() == 1
        assert Request.objects.get(pk=request.pk).state == RequestState.OPEN  # the second is still in fulfilment
        second = fulfil(second, agent)
        assert Request.objects.get(pk=request.pk).state == RequestState.CLOSED
        clock.shift(timedelta(days=8))
        assert requested_item_auto_close_task() == 1
    assert set(RequestedItem.objects.filter(request=request).values_list("state", flat=True)) == {R.CLOSED}


def test_items_in_other_states_are_left_alone(end_user, agent, settings):
    settings.ITSM_REQUEST_AUTO_CLOSE_DAYS = 1
    with time_machine.travel(START, tick=False) as clock:
        item = laptop_item(approval=False)
        in_fulfilment = ritm_of(services.request_create(by=end_user, items=[_line(item)]))
        canceled = ritm_of(services.request_create(by=end_user, items=[_line(item)]))
        services.requested_item_cancel(item=canceled, by=agent)
        clock.shift(timedelta(days=30))
        assert requested_item_auto_close_task() == 0
    assert RequestedItem.objects.get(pk=in_fulfilment.pk).state == R.IN_FULFILMENT
    assert RequestedItem.objects.get(pk=canceled.pk).state == R.CANCELED


def _line(item):
    return {"catalog_item": item.pk, "quantity": 1, "variables": {"model": "Standard"}}
