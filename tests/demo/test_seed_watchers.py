"""The demo's watch lists: open incidents watched through the kernel service, and the password rule's watcher."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from automation.models import AssignmentRule
from itsm.models import JournalEntry, TicketWatcher

pytestmark = pytest.mark.django_db


def test_seed_demo_puts_watchers_on_open_incidents_and_the_password_rule(db):
    call_command("seed_demo", incidents=40, stdout=StringIO())
    watched = TicketWatcher.objects.values_list("ticket", flat=True).distinct()
    assert 1 <= len(watched) <= 6
    assert not TicketWatcher.objects.filter(ticket__active=False).exists()
    assert not TicketWatcher.objects.filter(ticket__caller=F("user")).exists()
    assert JournalEntry.objects.filter(ticket__in=watched, field="watchers").count() == len(watched)
    rule = AssignmentRule.objects.get(name="Password resets to Identity")
    assert list(rule.add_watchers.all()) == [rule.set_assignment_group.manager]
