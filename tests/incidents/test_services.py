"""Incident services: happy paths, guards, permissions, side effects (journal, outbox), auto-close."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from incidents import services
from incidents.models import Incident
from itsm.enums import JournalKind, OutboxStatus, StateCategory
from itsm.models import JournalEntry, OutboxMessage
from tests.factories import AgentFactory, close_code, hold_reason, incident_factory, incident_in_state

pytestmark = pytest.mark.django_db


def test_incident_create_numbers_and_journals(agent, end_user):
    first = incident_factory(by=agent, caller=end_user)
    second = incident_factory(by=agent, caller=end_user)
    assert first.number[:3] == "INC" and int(second.number[3:]) == int(first.number[3:]) + 1
    assert first.state == "new" and first.state_category == StateCategory.NEW and first.active
    entry = first.journal.get()
    assert (entry.kind, entry.transition, entry.to_state, entry.actor) == ("transition", "create", "new", agent)


def test_incident_create_end_user_is_caller(end_user, other_end_user):
    incident = services.incident_create(by=end_user, short_description="Mouse broken")
    assert incident.caller == end_user
    with pytest.raises(ValidationError) as exc:
        services.incident_create(by=end_user, short_description="x", caller=other_end_user)
    assert "caller" in exc.value.message_dict


def test_incident_create_sends_confirmation_after_commit(agent, end_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incident = incident_factory(by=agent, caller=end_user)
    message = OutboxMessage.objects.get(ticket=incident)
    assert message.event == "incident.created" and message.to_email == end_user.email
    assert message.status == OutboxStatus.PENDING
    assert len(callbacks) == 1
    from itsm.services import outbox_send

    assert outbox_send(message_id=message.pk) is True
    assert outbox_send(message_id=message.pk) is False  # idempotent: sent once
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith(f"[{incident.number}]")
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"


def test_incident_create_query_count(end_user, other_end_user, django_assert_max_num_queries):
    """As mail ingestion and the portal create: an end user logs an incident that starts an SLA clock and confirms to
    the caller. Configuration (the priority matrix, assignment rules, the categoriser, templates, triggers, webhook
    endpoints) is read once per process, not per incident; numbering is one statement, the confirmation one insert."""
    from slas.models import SLADefinition

    SLADefinition.objects.create(
        name="Response 1h",
        target="response",
        practice="incident",
        active=True,
        start_condition={"state_category": ["new"]},
        stop_condition={"state_category": ["active", "resolved", "closed", "cancelled"]},
        duration_seconds=3600,
    )
    services.incident_create(by=other_end_user, short_description="The first one reads the configuration")
    # Savepoint and release (2), the caller's roles, the number, the ticket and incident rows (2), the version, the
    # creation entry; the SLA evaluation (definitions' version, clocks, the new clock: 3); the confirmation: queued
    # already?, the caller's preference, the row (3). 28 before configuration was cached per process.
    with django_assert_max_num_queries(14):
        incident = services.incident_create(by=end_user, short_description="Printer broken")
    assert incident.sla_clocks.count() == 1
    assert OutboxMessage.objects.filter(ticket=incident, event="incident.created").count() == 1


def test_incident_hold_awaiting_caller_requires_comment(agent):
    incident = incident_in_state("in_progress", by=agent)
    with pytest.raises(ValidationError) as exc:
        services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_caller"))
    assert "comment" in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.state == "in_progress"


def test_incident_hold_again_changes_reason(agent):
    incident = incident_in_state("on_hold", by=agent)
    services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_change"))
    incident.refresh_from_db()
    assert incident.state == "on_hold" and incident.hold_reason.slug == "awaiting_change"


def test_caller_comment_resumes_awaiting_caller(agent, end_user):
    incident = incident_in_state("in_progress", by=agent, caller=end_user, assigned_to=None)
    services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_caller"), comment="Which PC?")
    assert incident.state_category == StateCategory.PENDING_CUSTOMER
    services.incident_comment(incident=incident, by=end_user, body="PC-042")
    incident.refresh_from_db()
    assert incident.state == "in_progress" and incident.hold_reason is None
    assert incident.journal.filter(kind="transition", transition="resume", actor=end_user).exists()


def test_caller_comment_does_not_resume_other_holds(agent, end_user):
    incident = incident_in_state("on_hold", by=agent, caller=end_user)
    services.incident_comment(incident=incident, by=end_user, body="Any news?")
    incident.refresh_from_db()
    assert incident.state == "on_hold"


def test_agent_comment_does_not_resume_awaiting_caller(agent, end_user):
    incident = incident_in_state("in_progress", by=agent, caller=end_user)
    services.incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_caller"), comment="Which PC?")
    services.incident_comment(incident=incident, by=agent, body="Reminder: which PC?")
    incident.refresh_from_db()
    assert incident.state == "on_hold"


def test_comment_permissions(agent, end_user, other_end_user):
    incident = incident_factory(by=agent, caller=end_user)
    with pytest.raises(PermissionDenied):
        services.incident_comment(incident=incident, by=end_user, body="x", kind=JournalKind.WORK_NOTE)
    with pytest.raises(PermissionDenied):
        services.incident_comment(incident=incident, by=other_end_user, body="x")
    with pytest.raises(ValidationError):
        services.incident_comment(incident=incident, by=agent, body="   ")
    assert not incident.journal.filter(kind__in=["comment", "work_note"]).exists()


def test_incident_resolve_requires_notes_and_sets_resolved_at(agent):
    incident = incident_in_state("in_progress", by=agent)
    with pytest.raises(ValidationError) as exc:
        services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="")
    assert "close_notes" in exc.value.message_dict
    services.incident_resolve(incident=incident, by=agent, close_code=close_code(), close_notes="Rebooted")
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at is not None
    assert incident.state_category == StateCategory.RESOLVED and incident.active


def test_incident_reopen_clears_resolution(agent, end_user):
    incident = incident_in_state("resolved", by=agent, caller=end_user)
    services.incident_reopen(incident=incident, by=end_user, comment="Not fixed")
    incident.refresh_from_db()
    assert incident.state == "in_progress" and incident.resolved_at is None and incident.close_code is None
    assert incident.reopen_count == 1


def test_incident_transition_permission_denied_for_end_user(end_user):
    incident = incident_factory(caller=end_user)
    for name in ("start", "cancel"):
        with pytest.raises(PermissionDenied):
            getattr(services, f"incident_{name}")(incident=incident, by=end_user)
    incident.refresh_from_db()
    assert incident.state == "new"


def test_incident_transition_other_end_user_cannot_close(agent, end_user, other_end_user):
    incident = incident_in_state("resolved", by=agent, caller=end_user)
    with pytest.raises(PermissionDenied):
        services.incident_close(incident=incident, by=other_end_user)


def test_incident_illegal_transition_changes_nothing(agent):
    incident = incident_in_state("closed", by=agent)
    journal = JournalEntry.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.incident_reopen(incident=incident, by=agent)
    assert JournalEntry.objects.count() == journal
    assert Incident.objects.get(pk=incident.pk).state == "closed"


def test_incident_update_rejects_closed(agent):
    incident = incident_in_state("closed", by=agent)
    with pytest.raises(ValidationError):
        services.incident_update(incident=incident, by=agent, impact=1)


def test_incident_update_parent_cycle_refused(agent):
    a = incident_factory(by=agent)
    b = incident_factory(by=agent, parent=a)
    with pytest.raises(ValidationError) as exc:
        services.incident_update(incident=a, by=agent, parent=b)
    assert "parent" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.incident_update(incident=a, by=agent, parent=a)


def test_parent_resolve_resolves_open_children_and_tells_callers(agent):
    parent = incident_in_state("in_progress", by=agent, major_incident=True, short_description="Email outage")
    children = [incident_factory(by=agent, parent=parent) for _ in range(2)]
    held = incident_in_state("on_hold", by=agent, parent=parent)
    done = incident_in_state("closed", by=agent, parent=parent)
    services.incident_resolve(
        incident=parent, by=agent, close_code=close_code("workaround_provided"), close_notes="Failover"
    )
    for child in [*children, held]:
        child.refresh_from_db()
        assert child.state == "resolved"
        assert child.close_code.slug == "workaround_provided"
        assert parent.number in child.close_notes
        assert OutboxMessage.objects.filter(ticket=child, event="incident.resolved", recipient=child.caller).exists()
    done.refresh_from_db()
    assert done.state == "closed"


def test_auto_close_closes_old_resolved_only(agent, settings):
    settings.ITSM_INCIDENT_AUTO_CLOSE_DAYS = 7
    old = incident_in_state("resolved", by=agent)
    fresh = incident_in_state("resolved", by=agent)
    Incident.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    assert services.incident_auto_close() == 1
    assert services.incident_auto_close() == 0  # safe to run twice
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == "closed" and fresh.state == "resolved"
    entry = old.journal.get(transition="close")
    assert entry.actor is None


def test_assignee_must_be_agent_in_group(agent, team, end_user):
    outsider = AgentFactory()
    with pytest.raises(ValidationError) as exc:
        incident_factory(by=agent, assignment_group=team, assigned_to=outsider)
    assert "assigned_to" in exc.value.message_dict
    with pytest.raises(ValidationError):
        incident_factory(by=agent, assigned_to=end_user)


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_comment_on_inactive_incident_refused(agent, end_user, state):
    incident = incident_in_state(state, by=agent, caller=end_user)
    with pytest.raises(ValidationError) as exc:
        services.incident_comment(incident=incident, by=end_user, body="Hello?")
    assert "body" in exc.value.message_dict
    assert not incident.journal.filter(kind="comment").exists()
