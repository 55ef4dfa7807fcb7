"""The one-click category suggestion: shown on the workspace ticket page when it was not applied automatically and
would change the ticket, applied through the service (journaled with the confidence) or dismissed, and the same in
every practice's API (409 when nothing is pending; end users 404)."""

import pytest
from django.urls import reverse

from automation.models import CategorySuggestion
from itsm.enums import JournalKind
from itsm.models import Category, Team
from tests.conftest import client_for
from tests.factories import incident_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggested(agent, end_user):
    network = Category.objects.create(practice="incident", name="Network")
    team = Team.objects.create(name="Network team")
    incident = incident_factory(by=agent, caller=end_user, short_description="vpn down")
    CategorySuggestion.objects.create(
        ticket=incident, category=network, confidence=0.83, assignment_group=team, group_confidence=0.7
    )
    return incident, network, team


def _page(client, incident):
    return client.get(reverse("workspace:detail", args=["incidents", incident.number]))


def _post(client, incident, action):
    return client.post(reverse("workspace:suggestion", args=["incidents", incident.number]), {"action": action})


def test_ticket_page_shows_the_suggestion_and_apply_applies_it(client, agent, suggested):
    incident, network, team = suggested
    client.force_login(agent)
    body = _page(client, incident).content.decode()
    assert "Suggested:" in body and "Network / Network team" in body and "(83 %)" in body
    response = _post(client, incident, "apply")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.category, incident.assignment_group) == (network, team)
    note = incident.journal.get(kind=JournalKind.WORK_NOTE, body__startswith="Applied from the categoriser")
    assert note.actor == agent and "83%" in note.body
    assert incident.journal.filter(kind=JournalKind.FIELD_CHANGE, field="category", actor=agent).exists()
    assert "Suggested:" not in _page(client, incident).content.decode()
    assert _post(client, incident, "apply").status_code == 409


def test_dismiss_hides_it_and_changes_nothing_but_a_note(client, agent, suggested):
    incident, _network, _team = suggested
    client.force_login(agent)
    assert _post(client, incident, "dismiss").status_code == 302
    incident.refresh_from_db()
    assert incident.category is None
    assert CategorySuggestion.objects.get(ticket=incident).dismissed_by == agent
    assert incident.journal.filter(kind=JournalKind.WORK_NOTE, body__startswith="Dismissed").exists()
    assert "Suggested:" not in _page(client, incident).content.decode()


def test_not_shown_when_applied_automatically_or_already_matching(client, agent, suggested):
    incident, network, team = suggested
    client.force_login(agent)
    CategorySuggestion.objects.filter(ticket=incident).update(applied=True)
    assert "Suggested:" not in _page(client, incident).content.decode()
    CategorySuggestion.objects.filter(ticket=incident).update(applied=False)
    incident.category, incident.assignment_group = network, team
    incident.save(update_fields=["category", "assignment_group"])
    assert "Suggested:" not in _page(client, incident).content.decode()


def test_api_apply_suggestion_then_409(agent, suggested):
    incident, _network, _team = suggested
    url = f"/api/v1/incidents/{incident.number}/apply-suggestion/"
    response = client_for(agent).post(url)
    assert response.status_code == 200 and response.json()["category"] == "Network"
    assert response.json()["category_suggestion"]["accepted_by"] == agent.username
    again = client_for(agent).post(url)
    assert again.status_code == 409 and "suggestion" in again.json()


def test_api_apply_suggestion_with_if_match(agent, suggested):
    """The precondition is the ticket as read before applying (applying bumps its version)."""
    incident, _network, _team = suggested
    api = client_for(agent)
    etag = api.get(f"/api/v1/incidents/{incident.number}/")["ETag"]
    url = f"/api/v1/incidents/{incident.number}/apply-suggestion/"
    response = api.post(url, HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.json()["category"] == "Network"
    assert response["ETag"] != etag
    assert api.post(url, HTTP_IF_MATCH=etag).status_code == 412


def test_api_dismiss_suggestion_and_409_without_one(agent, suggested):
    incident, _network, _team = suggested
    api = client_for(agent)
    assert api.post(f"/api/v1/incidents/{incident.number}/dismiss-suggestion/").status_code == 204
    assert api.post(f"/api/v1/incidents/{incident.number}/apply-suggestion/").status_code == 409
    bare = incident_factory(by=agent)
    assert api.post(f"/api/v1/incidents/{bare.number}/apply-suggestion/").status_code == 409


def test_end_users_get_404_even_on_their_own_ticket(client, end_user, suggested):
    incident, _network, _team = suggested
    api = client_for(end_user)
    for action in ("apply-suggestion", "dismiss-suggestion"):
        assert api.post(f"/api/v1/incidents/{incident.number}/{action}/").status_code == 404
    client.force_login(end_user)
    assert _post(client, incident, "apply").status_code == 404
    incident.refresh_from_db()
    assert incident.category is None
