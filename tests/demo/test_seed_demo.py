"""The seed_demo command: users and roles, every incident state, real journals, consistent times, idempotence."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.utils import timezone

from catalog.models import ConfigurationItem, Service
from incidents.enums import IncidentState
from incidents.models import Incident
from itsm.enums import JournalKind, Role
from itsm.models import JournalEntry, OutboxMessage, Team

pytestmark = pytest.mark.django_db

INCIDENTS = 40
# The demo mailbox's e-mail conversation opens one more (demo/mail_and_webhooks.py), and so does the password-reset
# e-mail the automation demo routes (demo/automation.py).
FROM_MAIL = 2


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", incidents=INCIDENTS, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded(db) -> str:
    return _seed()


def test_seed_demo_creates_users_with_their_roles_and_password(seeded):
    admin = User.objects.get(username="admin")
    agent1, agent2 = User.objects.get(username="agent1"), User.objects.get(username="agent2")

    assert admin.is_superuser and admin.is_staff
    assert admin.groups.filter(name=Role.ADMIN).exists()
    assert agent1.groups.filter(name=Role.AGENT).exists()
    assert agent1.teams.filter(name="Service Desk").exists()
    assert agent2.teams.filter(name="Network Operations").exists()
    assert Team.objects.get(name="Service Desk").manager.username == "manager1"
    for username in ("user1", "user2"):
        assert list(User.objects.get(username=username).groups.values_list("name", flat=True)) == [Role.END_USER]
    assert User.objects.filter(groups__name=Role.END_USER).count() >= 20
    for username in ("admin", "agent1", "user1"):
        assert authenticate(username=username, password=settings.ITSM_DEMO_PASSWORD) is not None
    assert authenticate(username="agent1", password="wrong") is None


def test_seed_demo_creates_teams_catalog_and_a_dependency_graph(seeded):
    assert set(Team.objects.values_list("name", flat=True)) >= {
        "Service Desk",
        "Network Operations",
        "Database Administration",
        "Desktop Support",
        "Application Support",
    }
    assert not Team.objects.filter(manager__isnull=True).exists()
    assert not Service.objects.filter(owner_team__isnull=True).exists()
    assert ConfigurationItem.objects.count() >= 30
    assert ConfigurationItem.depends_on.through.objects.count() >= 30


def test_seed_demo_reaches_every_state_with_real_journals(seeded):
    incidents = Incident.objects.annotate(entries=Count("journal"))

    assert incidents.count() == INCIDENTS + FROM_MAIL
    assert set(incidents.values_list("state", flat=True)) == set(IncidentState.values)
    assert not incidents.filter(entries=0).exists()
    creations = JournalEntry.objects.filter(kind=JournalKind.TRANSITION, transition="create", ticket__kind="incident")
    assert creations.count() == INCIDENTS + FROM_MAIL
    assert JournalEntry.objects.filter(kind=JournalKind.COMMENT).exists()
    assert JournalEntry.objects.filter(kind=JournalKind.WORK_NOTE).exists()
    for incident in incidents.select_related("assignment_group", "assigned_to"):
        if incident.assigned_to is not None:
            assert incident.assignment_group.members.filter(pk=incident.assigned_to.pk).exists()


def test_seed_demo_times_are_spread_and_consistent(seeded):
    now = timezone.now()
    span = Incident.objects.aggregate(first=Min("opened_at"), last=Max("opened_at"))

    assert span["first"] >= now - timedelta(days=61)
    assert span["last"] - span["first"] > timedelta(days=20)
    for incident in Incident.objects.all():
        times = list(incident.journal.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times), incident.number
        assert times[0] == incident.opened_at
        assert times[-1] <= now
        if incident.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
            assert incident.opened_at <= incident.resolved_at
        if incident.state == IncidentState.CLOSED:
            assert incident.resolved_at <= incident.closed_at
        if incident.state == IncidentState.RESOLVED:
            # Younger than the auto-close delay, so the sweep does not close the demo's resolved incidents at once.
            assert incident.resolved_at > now - timedelta(days=settings.ITSM_INCIDENT_AUTO_CLOSE_DAYS)


def test_seed_demo_major_incident_resolves_its_children(seeded):
    major = Incident.objects.get(major_incident=True)
    children = list(major.children.all())

    assert major.state == IncidentState.RESOLVED
    assert len(children) == 3
    assert {child.state for child in children} == {IncidentState.RESOLVED}
    assert all(major.number in child.close_notes for child in children)


def test_seed_demo_second_run_is_a_no_op(seeded):
    counts = (User.objects.count(), Incident.objects.count(), JournalEntry.objects.count())

    output = _seed()

    assert "already present" in output
    assert (User.objects.count(), Incident.objects.count(), JournalEntry.objects.count()) == counts


def test_seed_demo_sends_nothing_after_commit_by_default(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        output = _seed()

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert "dropped" in output


def test_seed_demo_keep_outbox_leaves_notifications_pending(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _seed(keep_outbox=True)

    assert callbacks == []
    assert OutboxMessage.objects.filter(status="pending").exists()


def test_seed_demo_rerun_resets_demo_passwords_when_the_setting_changed(seeded, settings):
    outsider = User.objects.create_user("someone_else", password="keep-me")
    settings.ITSM_DEMO_PASSWORD = "a-new-demo-password"

    output = _seed()

    assert "already present" in output
    for username in ("admin", "agent1", "agent2", "user1", "user2", "manager1", "jsmith"):
        assert authenticate(username=username, password="a-new-demo-password") is not None, username
        assert authenticate(username=username, password="demo") is None, username
    assert authenticate(username="someone_else", password="keep-me") is not None
    assert Incident.objects.count() == INCIDENTS + FROM_MAIL
    outsider.refresh_from_db()
    assert outsider.check_password("keep-me")


def test_seed_demo_rerun_leaves_matching_passwords_alone(seeded):
    before = dict(User.objects.values_list("username", "password"))

    output = _seed()

    assert dict(User.objects.values_list("username", "password")) == before
    assert "passwords reset" not in output


def test_seed_demo_service_levels_replay_consistently(seeded):
    from slas.models import Schedule, SLAClock, SLADefinition
    from slas.replay import live_states, replay_ticket

    assert SLADefinition.objects.filter(active=True, practice="incident").count() == 8
    office = Schedule.objects.get(name="Office hours (London)")
    assert office.holidays.filter(name__icontains="Christmas").exists()
    assert SLAClock.objects.filter(stage="completed").exists() and SLAClock.objects.filter(has_breached=True).exists()
    now = timezone.now()
    for incident in Incident.objects.order_by("pk")[:40]:
        live = sorted(s.comparable() for s in live_states(ticket=incident, until=now))
        assert live == sorted(r.state.comparable() for r in replay_ticket(ticket=incident, until=now))


def test_seed_demo_problems_in_every_state_with_known_errors_tasks_and_links(seeded):
    from problems.enums import ProblemState
    from problems.models import KnowledgeArticle, Problem, ProblemTask

    problems = Problem.objects.annotate(entries=Count("journal"))
    assert problems.count() >= 15
    assert set(problems.values_list("state", flat=True)) == set(ProblemState.values)
    assert not problems.filter(entries=0).exists()
    assert problems.filter(known_error=True).count() == 2
    assert KnowledgeArticle.objects.filter(published=True, kind="known_error").count() == 2
    assert ProblemTask.objects.count() >= 3
    linked = Incident.objects.filter(problem__isnull=False)
    assert linked.exists()
    assert linked.filter(close_code__slug="resolved_by_problem", state="resolved").exists()
    # Backdated like incidents: each problem's journal is in order and its opened time is its creation entry.
    for problem in Problem.objects.all():
        times = list(problem.journal.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times)
        assert problem.opened_at == times[0] and problem.updated_at == times[-1]
    for incident in linked:
        times = list(incident.journal.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times) and incident.updated_at == times[-1]


def test_seed_demo_changes_of_each_type_with_cab_policy_and_template(seeded):
    from changes.models import Change, ChangeTemplate
    from itsm.models import Approval, ApprovalPolicy

    changes = Change.objects.all()
    assert set(changes.values_list("change_type", flat=True)) == {"standard", "normal", "emergency"}
    assert {"new", "assess", "authorize", "scheduled", "implement", "review", "closed", "canceled"} <= set(
        changes.values_list("state", flat=True)
    )
    assert ChangeTemplate.objects.filter(active=True).exists()
    cab = ApprovalPolicy.objects.get(name="CAB: high and very high risk")
    assert cab.stages.get().users.count() == 3 and cab.stages.get().required == 2
    assert changes.filter(approval="rejected", state="new").exists()
    assert Approval.objects.filter(state="requested").exists() and Approval.objects.filter(state="skipped").exists()
    assert not changes.filter(journal__isnull=True).exists()


def test_seed_demo_change_calendar_has_windows_past_and_coming_changes_and_conflicts(seeded):
    from changes.models import Change, ChangeConflict, ChangeWindow

    now = timezone.now()
    assert ChangeWindow.objects.filter(kind="blackout", name="Year-end change freeze").exists()
    assert ChangeWindow.objects.filter(kind="maintenance", recurrence="weekly").count() == 2
    planned = Change.objects.exclude(planned_start=None)
    assert planned.filter(planned_end__lt=now, state="closed").count() >= 8
    assert planned.filter(planned_start__gt=now).count() >= 5
    for change in planned.filter(state="closed"):
        times = list(change.journal.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times) and change.closed_at == times[-1] <= now
    assert {"dependency", "assignee", "blackout", "maintenance"} <= set(
        ChangeConflict.objects.values_list("kind", flat=True)
    )
    overridden = JournalEntry.objects.filter(body__startswith="Conflicts overridden by manager1")
    assert overridden.exists()


def test_seed_demo_catalog_knowledge_and_requests(seeded):
    from catalog.models import CatalogItem
    from itsm.models import Approval
    from knowledge.models import Article
    from requests_app.models import RequestedItem, SatisfactionRating

    items = CatalogItem.objects.filter(active=True, versions__isnull=False).distinct()
    assert items.count() >= 12
    assert items.values("category").distinct().count() >= 4
    assert all(item.variables.exists() for item in items)
    assert items.filter(variables__show_when_variable__gt="").distinct().count() >= 4
    assert Article.objects.filter(published=True).count() == 20
    states = set(RequestedItem.objects.values_list("state", flat=True))
    assert {"awaiting_approval", "in_fulfilment", "fulfilled", "closed", "rejected", "canceled"} <= states
    # user2 is the demo end users' manager: their approvals wait for user2 in the portal.
    assert Approval.objects.filter(approver__username="user2", state="requested").count() >= 3
    assert SatisfactionRating.objects.count() >= 3
    # An agent promised the new starter's kit for a date (PATCH-able due date), journaled as a field change.
    promised = RequestedItem.objects.get(due_date__isnull=False, catalog_item__name="New starter")
    assert promised.journal.filter(kind="field_change", field="due_date").exists()


def test_seed_demo_automation_routes_categorises_and_trains(seeded):
    from automation.models import ImprovementInitiative, TrainingRun

    routed = Incident.objects.get(short_description="Password reset please")
    assert routed.assignment_group.name == "Identity" and routed.assigned_to is not None
    assert (routed.category.name, routed.subcategory.name) == ("Access", "Password")
    assert routed.journal.filter(body__startswith="Assignment rule 'Password resets to Identity'").exists()
    assert Incident.objects.filter(category__isnull=True).count() <= FROM_MAIL
    assert TrainingRun.objects.get().status == "done"
    assert ImprovementInitiative.objects.filter(state="in_progress").exists()


def test_seed_demo_files_problems_changes_and_requested_items_under_categories(seeded):
    from changes.models import Change
    from problems.models import Problem
    from requests_app.models import RequestedItem

    for model, practice in ((Problem, "problem"), (Change, "change"), (RequestedItem, "requested_item")):
        categorised = model.objects.filter(category__isnull=False)
        assert categorised.count() >= 3, practice
        assert not categorised.exclude(category__practice=practice).exists()
    # The laptop owns its SLA: its requested items run that clock, the others do not.
    from slas.models import SLAClock

    laptops = SLAClock.objects.filter(definition__match_catalog_items__name="Laptop")
    assert laptops.exists()
    assert not laptops.exclude(ticket__as_requested_item__catalog_item__name="Laptop").exists()
