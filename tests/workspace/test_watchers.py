"""The ticket page's watchers panel: Watch / Stop watching for the current agent and add-by-username (htmx swaps the
panel), journaled through the kernel service; its query count does not grow with the watch list."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.models import JournalEntry, TicketWatcher
from itsm.services import ticket_watchers_add
from tests.factories import AgentFactory, UserFactory, incident_factory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def _urls(incident):
    args = ["incidents", incident.number]
    return reverse("workspace:detail", args=args), reverse("workspace:watchers", args=args)


def test_watch_and_stop_watching_swap_the_panel(agent_client, agent):
    incident = incident_factory(by=agent)
    page, url = _urls(incident)
    body = agent_client.get(page).content.decode()
    assert 'id="watchers"' in body and 'data-watch="on"' in body and f'hx-post="{url}"' in body
    watched = agent_client.post(url, {"action": "watch"}, **HTMX)
    assert watched.status_code == 200
    panel = watched.content.decode()
    assert panel.lstrip().startswith('<section class="card watchers" id="watchers" data-swap-errors')
    assert 'data-watch="off"' in panel
    assert f'data-watcher="{agent.username}"' in panel
    assert TicketWatcher.objects.filter(ticket=incident, user=agent, added_by=agent).exists()
    unwatched = agent_client.post(url, {"action": "unwatch"}, **HTMX)
    assert 'data-watch="on"' in unwatched.content.decode()
    assert [(e.old_value, e.new_value) for e in JournalEntry.objects.filter(ticket=incident, field="watchers")] == [
        ("", agent.username),
        (agent.username, ""),
    ]


def test_add_and_remove_by_username_without_htmx_redirects(agent_client, agent):
    incident = incident_factory(by=agent)
    page, url = _urls(incident)
    UserFactory(username="manager_of_caller")
    response = agent_client.post(url, {"action": "add", "username": "manager_of_caller"})
    assert response.status_code == 302 and response.url == page + "#watchers"
    assert 'data-watcher="manager_of_caller"' in agent_client.get(page).content.decode()
    agent_client.post(url, {"action": "remove", "username": "manager_of_caller"})
    assert not TicketWatcher.objects.exists()


def test_unknown_username_is_a_400_naming_it_and_changes_nothing(agent_client, agent):
    incident = incident_factory(by=agent)
    _page, url = _urls(incident)
    response = agent_client.post(url, {"action": "add", "username": "<b>ghost</b>"}, **HTMX)
    assert response.status_code == 400
    body = response.content.decode()
    assert "No active user" in body and "&lt;b&gt;ghost&lt;/b&gt;" in body and "<b>ghost" not in body
    for name in ("a\x00b", "x" * 200):  # no username can be these (and NUL would fail in the database driver)
        assert agent_client.post(url, {"action": "add", "username": name}, **HTMX).status_code == 400
    assert not TicketWatcher.objects.exists() and not JournalEntry.objects.filter(field="watchers").exists()


def test_end_users_get_404(client, agent, end_user):
    incident = incident_factory(by=agent, caller=end_user)
    client.force_login(end_user)
    _page, url = _urls(incident)
    assert client.post(url, {"action": "watch"}).status_code == 404
    assert not TicketWatcher.objects.exists()


def test_ticket_page_query_count_does_not_grow_with_watchers(agent_client, agent):
    incident = incident_factory(by=agent)
    page, _url = _urls(incident)
    ticket_watchers_add(ticket=incident, users=[AgentFactory()], by=agent)
    cache.clear()
    with CaptureQueriesContext(connection) as one:
        assert agent_client.get(page).status_code == 200
    ticket_watchers_add(ticket=incident, users=[UserFactory() for _ in range(12)], by=agent)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        body = agent_client.get(page).content.decode()
    assert body.count("data-watcher=") == 13
    assert len(many.captured_queries) == len(one.captured_queries) <= 30
