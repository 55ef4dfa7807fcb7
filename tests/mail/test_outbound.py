"""Outgoing notifications: templates per event and audience, preferences, headers, back-off, at-most-once."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.utils import timezone

from incidents.services import incident_create, incident_update
from itsm.enums import OutboxStatus
from itsm.models import OutboxMessage
from itsm.services import OUTBOX_MAX_ATTEMPTS, outbox_flush, outbox_retry, outbox_send
from mail.models import Mailbox, NotificationPreference, NotificationTemplate
from mail.outbound import our_message_id, parse_our_ids
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _created(agent, caller, **fields):
    incident = incident_create(
        by=agent, caller=caller, short_description=fields.pop("short", "Printer on fire"), **fields
    )
    return incident, OutboxMessage.objects.get(ticket=incident, event="incident.created")


def _raw(index: int = -1):
    return message_from_bytes(mail.outbox[index].message().as_bytes(), policy=policy.default)


def test_created_mail_has_number_message_id_threading_and_auto_submitted(agent, end_user):
    Mailbox.objects.create(name="Desk", address="desk@example.com")
    incident, row = _created(agent, end_user)
    assert outbox_send(message_id=row.pk) is True
    sent = _raw()
    assert f"[{incident.number}]" in sent["Subject"]
    assert sent["Message-ID"] == our_message_id("m", row.pk)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["In-Reply-To"] == our_message_id("t", incident.pk)
    assert our_message_id("t", incident.pk) in sent["References"]
    assert sent["Reply-To"] == "desk@example.com"
    assert parse_our_ids(sent["Message-ID"]) == [("m", row.pk)]
    assert sent.get_body(("html",)) is not None and sent.get_body(("plain",)) is not None


def test_forged_message_id_signature_is_not_ours(agent, end_user):
    incident, _row = _created(agent, end_user)
    forged = our_message_id("t", incident.pk).replace("itsm.t", "itsm.t1")
    assert parse_our_ids(forged) == []


def test_template_renders_public_fields_only_for_end_users_and_escapes_html(agent, end_user, team):
    NotificationTemplate.objects.update_or_create(
        event="incident.created",
        defaults={
            "subject": "Logged {{ ticket.number }}",
            "text_body": "Hi {{ recipient.name }} [{{ ticket.assignment_group }}] {{ ticket.short_description }}",
            "html_body": "<p>{{ ticket.short_description }} [{{ ticket.assignment_group }}]</p>",
        },
    )
    incident, row = _created(agent, end_user, short="<script>alert(1)</script>", assignment_group=team)
    assert row.subject == f"Logged {incident.number}"
    assert "[]" in row.body and team.name not in row.body  # the group is not a public field
    assert "<script>" not in row.html_body and "&lt;script&gt;" in row.html_body
    assert "<script>alert(1)</script>" in row.body  # plain text is not escaped: it is text


def test_agents_see_desk_fields(agent, end_user, team):
    NotificationTemplate.objects.update_or_create(
        event="incident.assigned", defaults={"text_body": "group={{ ticket.assignment_group }}", "html_body": ""}
    )
    incident, _row = _created(agent, end_user, assignment_group=team)
    other = type(agent).objects.create_user("agent_c", "c@example.com")
    from itsm.enums import Role

    other.groups.add(__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(name=Role.AGENT))
    team.members.add(other)
    incident_update(incident=incident, by=agent, assigned_to=other)
    row = OutboxMessage.objects.get(event="incident.assigned")
    assert row.body == f"group={team.name}" and row.html_body == ""


def test_opted_out_user_gets_no_row_and_api_changes_choice(agent, end_user, api):
    client = client_for(end_user)
    response = client.put(
        "/api/v1/notification-preferences/", [{"event": "incident.created", "enabled": False}], format="json"
    )
    assert response.status_code == 200
    assert {r["event"]: r["enabled"] for r in response.json()}["incident.created"] is False
    incident = incident_create(by=agent, caller=end_user, short_description="x")
    assert not OutboxMessage.objects.filter(ticket=incident, event="incident.created").exists()
    bad = client.put("/api/v1/notification-preferences/", {"event": "nope", "enabled": True}, format="json")
    assert bad.status_code == 400 and "event" in bad.json()
    assert NotificationPreference.objects.filter(user=end_user).count() == 1


def test_state_change_mail_is_opt_in(agent, end_user):
    from incidents.services import incident_start

    incident, _row = _created(agent, end_user)
    incident_start(incident=incident, by=agent)
    assert not OutboxMessage.objects.filter(event="ticket.state_changed").exists()
    NotificationPreference.objects.create(user=end_user, event="ticket.state_changed", enabled=True)
    from incidents.models import HoldReason
    from incidents.services import incident_hold

    incident_hold(incident=incident, by=agent, reason=HoldReason.objects.first(), comment="Which printer?")
    assert OutboxMessage.objects.filter(event="ticket.state_changed", recipient=end_user).count() == 1


def test_newlines_in_every_user_value_never_reach_a_header(agent, end_user):
    Mailbox.objects.create(name="Desk", address="desk@example.com")
    end_user.first_name = "Eve\r\nBcc: victim@example.com"
    end_user.last_name = "X\nX-Injected: 1"
    end_user.save()
    NotificationTemplate.objects.update_or_create(
        event="incident.created",
        defaults={"subject": "{{ ticket.short_description }}\nCc: admin-edit@example.com", "html_body": ""},
    )
    _incident, row = _created(agent, end_user, short="Hi\r\nBcc: evil@example.com\r\n\r\nbody")
    OutboxMessage.objects.filter(pk=row.pk).update(event="incident.created\r\nX-Evil: 1")
    assert outbox_send(message_id=row.pk) is True
    raw = mail.outbox[-1].message().as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    for name in ("Bcc", "Cc", "X-Injected", "X-Evil"):
        assert parsed[name] is None, name
    assert [a.addr_spec for a in parsed["To"].addresses] == [end_user.email]
    header_block = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in header_block and b"\nX-Evil" not in header_block


def test_bad_recipient_address_fails_instead_of_injecting(agent, end_user):
    _incident, row = _created(agent, end_user)
    OutboxMessage.objects.filter(pk=row.pk).update(to_email="a@example.com\nBcc: b@example.com")
    assert outbox_send(message_id=row.pk) is False
    assert mail.outbox == []
    assert "valid recipient" in OutboxMessage.objects.get(pk=row.pk).last_error


class Broken:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_failures_back_off_then_fail_visibly(agent, end_user, settings):
    settings.EMAIL_BACKEND = "tests.mail.test_outbound.Broken"
    _incident, row = _created(agent, end_user)
    assert outbox_send(message_id=row.pk) is False
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and row.next_attempt_at > timezone.now()
    assert outbox_flush() == 0 and OutboxMessage.objects.get(pk=row.pk).attempts == 1  # waits for its back-off
    for attempt in range(2, OUTBOX_MAX_ATTEMPTS + 1):
        OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        outbox_flush()
        row.refresh_from_db()
        assert row.attempts == attempt
    assert row.status == OutboxStatus.FAILED and "smtp down" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_retry(message_id=row.pk) is True and len(mail.outbox) == 1


def test_a_worker_dying_mid_send_never_causes_a_second_send(agent, end_user):
    _incident, row = _created(agent, end_user)
    # A worker claimed the row, sent it and died before recording the outcome.
    OutboxMessage.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(hours=1), attempts=1)
    assert outbox_flush() == 0 and outbox_send(message_id=row.pk) is False
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "may have gone out" in row.last_error
    assert mail.outbox == []


def test_compose_many_answers_as_compose_does_one_by_one_in_two_queries(agent, end_user, other_end_user, team):
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mail.outbound import notification_compose, notification_compose_many

    NotificationTemplate.objects.update_or_create(
        event="sla.warning", defaults={"text_body": "{{ ticket.number }} group={{ ticket.assignment_group }}"}
    )
    incident, _row = _created(agent, end_user, assignment_group=team)
    NotificationPreference.objects.create(user=end_user, event="sla.warning", enabled=False)  # opted out
    NotificationPreference.objects.create(user=other_end_user, event="ticket.state_changed", enabled=True)  # opt-in
    pairs = [
        (agent, "sla.warning"),
        (end_user, "sla.warning"),
        (end_user, "sla.breached"),
        (other_end_user, "ticket.state_changed"),
        (agent, "ticket.state_changed"),  # off by default
    ]

    def messages():  # fresh user objects: nobody's roles are known yet
        users = User.objects.in_bulk([user.pk for user, _event in pairs])
        return [
            {"event": e, "ticket": incident, "recipient": users[u.pk], "subject": "s", "body": "b"} for u, e in pairs
        ]

    one_by_one = [notification_compose(**message) for message in messages()]
    batch = messages()
    with CaptureQueriesContext(connection) as queries:
        together = notification_compose_many(batch)
    assert together == one_by_one
    assert [content is not None for content in together] == [True, False, True, True, False]
    assert together[0]["body"] == f"{incident.number} group={team.name}"  # the agent sees the desk's fields
    assert len(queries) == 2  # preferences and roles, for every recipient at once


def test_outbox_insert_refuses_a_key_queued_meanwhile_and_the_transaction_goes_on(agent, end_user):
    from itsm.services import _outbox_insert

    incident, row = _created(agent, end_user)
    twin = OutboxMessage(
        dedupe_key=row.dedupe_key, event=row.event, ticket=incident, recipient=end_user, to_email="x@example.com"
    )
    assert _outbox_insert(twin) is False and twin.pk is None
    assert OutboxMessage.objects.get(dedupe_key=row.dedupe_key).pk == row.pk  # no savepoint needed to go on
    fresh = OutboxMessage(dedupe_key="other", event=row.event, ticket=incident, recipient=end_user, to_email="y@x.org")
    assert _outbox_insert(fresh) is True
    assert OutboxMessage.objects.get(pk=fresh.pk).to_email == "y@x.org" and fresh.status == OutboxStatus.PENDING


def test_ticket_context_labels_are_django_s_in_the_active_language(agent):
    from django.utils import translation

    from mail.outbound import ticket_context
    from tests.factories import incident_factory

    incident = incident_factory(by=agent, impact=1, urgency=2)
    for language in ("en", "de"):
        with translation.override(language):
            context = ticket_context(incident, agent=True)
            assert context["state"] == incident.get_state_display()
            assert context["kind"] == incident.get_kind_display()
            assert (context["priority"], context["impact"], context["urgency"]) == (
                incident.get_priority_display(),
                incident.get_impact_display(),
                incident.get_urgency_display(),
            )
