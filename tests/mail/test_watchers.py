"""Watchers hear of a ticket's public progress through the outbox: comments and state changes (resolved included);
work notes only when they are agents who asked for them; never their own changes; their preferences apply."""

import pytest

from incidents.services import incident_comment, incident_resolve, incident_start
from itsm.models import OutboxMessage
from itsm.services import ticket_watchers_add
from mail.models import NotificationPreference
from tests.factories import AgentFactory, UserFactory, close_code, incident_factory, problem_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(agent, end_user):
    """An incident called by end_user, watched by an agent, an end user (a colleague) and the caller herself."""
    incident = incident_factory(by=agent, caller=end_user)
    desk_watcher = AgentFactory(username="watching_agent")
    colleague = UserFactory(username="colleague")
    ticket_watchers_add(ticket=incident, users=[desk_watcher, colleague, end_user, agent], by=agent)
    return incident, desk_watcher, colleague


def _recipients(incident, event):
    return set(OutboxMessage.objects.filter(ticket=incident, event=event).values_list("recipient__username", flat=True))


def test_watchers_get_the_comment_mail_but_not_the_author_or_the_caller(agent, end_user, watched):
    incident, desk_watcher, colleague = watched
    incident_comment(incident=incident, by=agent, body="We are on it.")
    assert _recipients(incident, "ticket.watch_commented") == {desk_watcher.username, colleague.username}
    row = OutboxMessage.objects.get(event="ticket.watch_commented", recipient=colleague)
    assert "We are on it." in row.body and incident.number in row.subject
    # The caller hears as the caller (once), not a second time as a watcher.
    assert _recipients(incident, "incident.commented") == {end_user.username}


def test_an_end_user_watcher_never_gets_a_work_note(agent, watched):
    incident, desk_watcher, colleague = watched
    # Both opt in to work notes: only the agent may receive them.
    for user in (desk_watcher, colleague):
        NotificationPreference.objects.create(user=user, event="ticket.watch_work_noted", enabled=True)
    incident_comment(incident=incident, by=agent, body="Internal: vendor ticket 4711", kind="work_note")
    assert _recipients(incident, "ticket.watch_work_noted") == {desk_watcher.username}
    assert not OutboxMessage.objects.filter(recipient=colleague, body__contains="4711").exists()


def test_work_notes_by_mail_are_opt_in_for_watching_agents(agent, watched):
    incident, _desk_watcher, _colleague = watched
    incident_comment(incident=incident, by=agent, body="Internal only", kind="work_note")
    assert _recipients(incident, "ticket.watch_work_noted") == set()


def test_watchers_hear_of_state_changes_and_the_resolution(agent, watched):
    incident, desk_watcher, colleague = watched
    other = AgentFactory(username="resolver")
    incident_start(incident=incident, by=other)
    incident_resolve(incident=incident, by=other, close_code=close_code(), close_notes="Replaced the toner.")
    rows = OutboxMessage.objects.filter(ticket=incident, event="ticket.watch_state_changed", recipient=colleague)
    assert [row.subject.split(":")[0] for row in rows.order_by("id")] == [
        f"[{incident.number}] Now in progress",
        f"[{incident.number}] Now resolved",
    ]
    # `agent` watches too and did not make these changes: told as well.
    assert _recipients(incident, "ticket.watch_state_changed") == {
        desk_watcher.username,
        colleague.username,
        agent.username,
    }


def test_a_watcher_who_opted_out_gets_nothing(agent, watched):
    incident, desk_watcher, colleague = watched
    NotificationPreference.objects.create(user=colleague, event="ticket.watch_commented", enabled=False)
    incident_comment(incident=incident, by=agent, body="Update")
    assert _recipients(incident, "ticket.watch_commented") == {desk_watcher.username}


def test_watchers_of_any_practice_hear_of_comments(agent):
    problem = problem_factory(by=agent)
    watcher = AgentFactory(username="problem_watcher")
    ticket_watchers_add(ticket=problem, users=[watcher], by=agent)
    from problems.services import problem_comment

    problem_comment(problem=problem, by=agent, body="Root cause found", kind="comment")
    assert _recipients(problem, "ticket.watch_commented") == {watcher.username}


def test_an_end_user_on_an_agents_only_ticket_is_never_mailed(agent):
    """Should an end user be on a problem's list anyway (added before the rule, or by hand in the database), the
    watch mail still goes to agents only."""
    from itsm.models import TicketWatcher
    from problems.services import problem_comment

    problem = problem_factory(by=agent)
    outsider = UserFactory(username="outsider")
    watcher = AgentFactory(username="problem_watcher")
    TicketWatcher.objects.create(ticket=problem, user=outsider, added_by=agent)
    TicketWatcher.objects.create(ticket=problem, user=watcher, added_by=agent)
    problem_comment(problem=problem, by=agent, body="Root cause found", kind="comment")
    assert _recipients(problem, "ticket.watch_commented") == {watcher.username}
