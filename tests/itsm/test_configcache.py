"""Configuration read once per process: answered without a query until a row of its model changes here."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import PriorityRule
from itsm.selectors import priority_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_priority_matrix_is_read_once_and_follows_an_edit_in_this_process():
    assert priority_for(impact=2, urgency=2) == 3
    with CaptureQueriesContext(connection) as queries:
        assert priority_for(impact=1, urgency=1) == 1
    assert len(queries) == 0
    cell = PriorityRule.objects.get(impact=2, urgency=2)
    cell.priority = 1
    cell.save()  # as the admin does
    assert priority_for(impact=2, urgency=2) == 1
    cell.delete()
    assert priority_for(impact=2, urgency=2) == 4  # a removed cell means Low


def test_an_unrelated_many_to_many_change_keeps_the_cached_answers():
    priority_for(impact=1, urgency=1)
    UserFactory(username="someone").groups.add(Group.objects.create(name="Some group"))
    with CaptureQueriesContext(connection) as queries:
        priority_for(impact=1, urgency=1)
    assert len(queries) == 0
