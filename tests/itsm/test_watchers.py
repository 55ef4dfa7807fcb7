"""The watch list: kernel services (journaled as a field change, no version bump) and the API every practice shares
(`watchers/`: agents add and remove; end users read it on their own tickets only)."""

import pytest

from itsm.enums import JournalKind
from itsm.models import JournalEntry, TicketWatcher
from itsm.services import ticket_watcher_remove, ticket_watchers_add
from tests.conftest import client_for
from tests.factories import AgentFactory, UserFactory, incident_factory, problem_factory

pytestmark = pytest.mark.django_db


def _url(incident, suffix=""):
    return f"/api/v1/incidents/{incident.number}/watchers/{suffix}"


def _watch_changes(ticket):
    return list(JournalEntry.objects.filter(ticket=ticket, kind=JournalKind.FIELD_CHANGE, field="watchers"))


def test_watchers_add_journals_the_list_without_bumping_the_version(agent):
    incident = incident_factory(by=agent)
    version = incident.version
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    assert ticket_watchers_add(ticket=incident, users=[bob, alice, bob], by=agent) == [bob, alice]
    assert ticket_watchers_add(ticket=incident, users=[alice], by=agent) == []  # already on it: nothing journaled
    [entry] = _watch_changes(incident)
    assert (entry.old_value, entry.new_value, entry.actor) == ("", "alice, bob", agent)
    incident.refresh_from_db()
    assert incident.version == version
    assert ticket_watcher_remove(ticket=incident, user=alice, by=agent) is True
    assert ticket_watcher_remove(ticket=incident, user=alice, by=agent) is False
    assert [(e.old_value, e.new_value) for e in _watch_changes(incident)][-1] == ("alice, bob", "bob")
    assert TicketWatcher.objects.get(ticket=incident).added_by == agent


def test_watchers_add_refuses_end_users_and_inactive_people(agent, end_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    incident = incident_factory(by=agent, caller=end_user)
    with pytest.raises(PermissionDenied):
        ticket_watchers_add(ticket=incident, users=[end_user], by=end_user)
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as error:
        ticket_watchers_add(ticket=incident, users=[gone], by=agent)
    assert "watchers" in error.value.message_dict
    assert not TicketWatcher.objects.exists() and not _watch_changes(incident)


def test_api_agent_adds_lists_and_removes_a_watcher(agent):
    incident = incident_factory(by=agent)
    UserFactory(username="carol", first_name="Carol", last_name="King")
    api = client_for(agent)
    added = api.post(_url(incident), {"username": "carol"}, format="json")
    assert added.status_code == 201
    assert added.json() == [
        {"username": "carol", "name": "Carol King", "added_by": agent.username, "added_at": added.json()[0]["added_at"]}
    ]
    again = api.post(_url(incident), {"username": "carol"}, format="json")
    assert again.status_code == 200 and len(again.json()) == 1
    assert [w["username"] for w in api.get(_url(incident)).json()] == ["carol"]
    assert api.delete(_url(incident, "carol/")).status_code == 204
    assert api.get(_url(incident)).json() == []
    assert [(e.old_value, e.new_value) for e in _watch_changes(incident)] == [("", "carol"), ("carol", "")]


def test_api_unknown_user_is_a_400_naming_the_field_and_changes_nothing(agent):
    incident = incident_factory(by=agent)
    response = client_for(agent).post(_url(incident), {"username": "nobody-here"}, format="json")
    assert response.status_code == 400 and "username" in response.json()
    missing = client_for(agent).post(_url(incident), {}, format="json")
    assert missing.status_code == 400 and "username" in missing.json()
    assert client_for(agent).delete(_url(incident, "nobody-here/")).status_code == 404
    assert not TicketWatcher.objects.exists() and not _watch_changes(incident)


def test_api_watchers_on_every_practice(agent):
    problem = problem_factory(by=agent)
    other = AgentFactory(username="watching_agent")
    url = f"/api/v1/problems/{problem.number}/watchers/"
    assert client_for(agent).post(url, {"username": other.username}, format="json").status_code == 201
    assert [w["username"] for w in client_for(agent).get(url).json()] == [other.username]


def test_end_users_cannot_watch_agents_work(agent, end_user):
    """A problem (or any kind end users never see) takes agents only: an end user on its list would be mailed what
    the desk keeps to itself. Their callers' kinds (incidents, requests) take anyone."""
    from django.core.exceptions import ValidationError

    problem = problem_factory(by=agent)
    with pytest.raises(ValidationError) as error:
        ticket_watchers_add(ticket=problem, users=[end_user], by=agent)
    assert "watchers" in error.value.message_dict and not TicketWatcher.objects.exists()
    response = client_for(agent).post(
        f"/api/v1/problems/{problem.number}/watchers/", {"username": end_user.username}, format="json"
    )
    assert response.status_code == 400 and "watchers" in response.json()
    assert ticket_watchers_add(ticket=incident_factory(by=agent), users=[end_user], by=agent) == [end_user]


def test_api_end_user_sees_the_people_on_their_side_only(agent, end_user):
    """The caller reads who else of theirs follows the ticket, not the agents working it, nor who added whom."""
    incident = incident_factory(by=agent, caller=end_user)
    colleague = UserFactory(username="colleague")
    ticket_watchers_add(ticket=incident, users=[colleague, AgentFactory(username="second_line")], by=agent)
    rows = client_for(end_user).get(_url(incident)).json()
    assert [(row["username"], row["added_by"]) for row in rows] == [("colleague", None)]
    rows = client_for(agent).get(_url(incident)).json()
    assert [(row["username"], row["added_by"]) for row in rows] == [
        ("colleague", agent.username),
        ("second_line", agent.username),
    ]


def test_api_end_user_reads_own_list_but_cannot_change_it(agent, end_user, other_end_user):
    own = incident_factory(by=agent, caller=end_user)
    theirs = incident_factory(by=agent, caller=other_end_user)
    ticket_watchers_add(ticket=theirs, users=[agent], by=agent)
    api = client_for(end_user)
    assert api.get(_url(own)).status_code == 200
    # Changing the list is the desk's: 403 before the input is read, so usernames cannot be probed.
    for username in (end_user.username, "nobody-here"):
        assert api.post(_url(own), {"username": username}, format="json").status_code == 403
    assert api.delete(_url(own, f"{end_user.username}/")).status_code == 403
    # Someone else's ticket does not exist for them (IDOR): 404 for reading and changing.
    assert api.get(_url(theirs)).status_code == 404
    assert api.post(_url(theirs), {"username": end_user.username}, format="json").status_code == 404
    assert api.delete(_url(theirs, f"{agent.username}/")).status_code == 404
    assert list(TicketWatcher.objects.values_list("ticket_id", "user_id")) == [(theirs.pk, agent.pk)]


def test_api_agents_only_practice_is_404_for_end_users(agent, end_user):
    problem = problem_factory(by=agent)
    response = client_for(end_user).get(f"/api/v1/problems/{problem.number}/watchers/")
    assert response.status_code == 404


def test_api_delete_stays_refused_on_the_record_itself(agent):
    incident = incident_factory(by=agent)
    assert client_for(agent).delete(f"/api/v1/incidents/{incident.number}/").status_code == 405
