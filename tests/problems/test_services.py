"""Problem services: every use case's happy path, each guard, and permission denied for end users; and the
must-show scenario (a problem resolving the three incidents on hold for it in one step)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from incidents.enums import IncidentState
from incidents.services import incident_hold
from itsm.enums import JournalKind
from itsm.models import JournalEntry, OutboxMessage
from problems import services
from problems.models import KnowledgeArticle, Problem
from problems.selectors import known_errors_for
from tests.factories import (
    ConfigurationItemFactory,
    ServiceFactory,
    UserFactory,
    hold_reason,
    incident_factory,
    incident_in_state,
    problem_factory,
    problem_in_state,
    problem_task_in_state,
)

pytestmark = pytest.mark.django_db


def _transitions(ticket):
    return list(ticket.journal.filter(kind=JournalKind.TRANSITION).values_list("transition", flat=True))


# --- create and update ------------------------------------------------------------------------------------------


def test_problem_create_numbers_journals_and_derives_priority(agent, team):
    problem = services.problem_create(
        by=agent, short_description=" Mail queue stalls ", impact=1, urgency=2, assignment_group=team
    )
    assert problem.number.startswith("PRB") and len(problem.number) == 10
    assert problem.short_description == "Mail queue stalls"
    assert problem.priority == 2 and problem.caller == agent and problem.opened_by == agent
    assert problem.state == "new" and problem.state_category == "new"
    assert _transitions(problem) == ["create"]


def test_problem_create_takes_service_from_ci(agent):
    ci = ConfigurationItemFactory(service=ServiceFactory(name="Mail"))
    problem = services.problem_create(by=agent, short_description="x", configuration_item=ci)
    assert problem.service.name == "Mail"


def test_problem_create_blank_description_is_refused(agent):
    with pytest.raises(ValidationError) as error:
        services.problem_create(by=agent, short_description="   ")
    assert "short_description" in error.value.message_dict
    assert not Problem.objects.exists()


def test_problem_create_assignee_outside_group_is_refused(agent, other_agent, team):
    with pytest.raises(ValidationError) as error:
        services.problem_create(by=agent, short_description="x", assignment_group=team, assigned_to=other_agent)
    assert "assigned_to" in error.value.message_dict


def test_problem_create_by_end_user_is_denied(end_user):
    with pytest.raises(PermissionDenied):
        services.problem_create(by=end_user, short_description="x")
    assert not Problem.objects.exists()


def test_problem_update_journals_each_change_and_priority(agent):
    problem = problem_factory(by=agent)
    services.problem_update(problem=problem, by=agent, impact=1, urgency=1, workaround="Restart the spooler.")
    changes = {e.field: (e.old_value, e.new_value) for e in problem.journal.filter(kind=JournalKind.FIELD_CHANGE)}
    assert changes["impact"] == ("3", "1")
    assert changes["priority"] == ("4", "1")
    assert changes["workaround"] == ("", "Restart the spooler.")


def test_problem_update_unknown_field_and_state_are_refused(agent):
    problem = problem_factory(by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_update(problem=problem, by=agent, state="closed", known_error=True)
    assert set(error.value.message_dict) == {"state", "known_error"}


def test_problem_update_closed_problem_is_refused(agent):
    problem = problem_in_state("closed", by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_update(problem=problem, by=agent, description="more")
    assert "state" in error.value.message_dict


def test_problem_update_by_end_user_is_denied(agent, end_user):
    problem = problem_factory(by=agent)
    with pytest.raises(PermissionDenied):
        services.problem_update(problem=problem, by=end_user, description="more")


# --- transitions --------------------------------------------------------------------------------------------------


def test_problem_walks_every_state_with_journal(agent):
    problem = problem_factory(by=agent)
    services.problem_assess(problem=problem, by=agent)
    services.problem_analyze(problem=problem, by=agent)
    services.problem_fix(problem=problem, by=agent, cause_notes="Certificate expired.")
    services.problem_resolve(problem=problem, by=agent, resolution_code="fix_applied", fix_notes="Renewed it.")
    assert problem.resolved_at is not None and problem.state_category == "resolved"
    services.problem_reopen(problem=problem, by=agent, comment="It expired again.")
    assert problem.state == "root_cause_analysis" and problem.reopen_count == 1 and problem.resolution_code == ""
    services.problem_fix(problem=problem, by=agent)
    services.problem_resolve(problem=problem, by=agent, resolution_code="fix_applied", fix_notes="Auto-renewal.")
    services.problem_close(problem=problem, by=agent)
    problem.refresh_from_db()
    assert problem.state == "closed" and problem.active is False and problem.closed_at is not None
    assert _transitions(problem) == [
        "create",
        "assess",
        "analyze",
        "fix",
        "resolve",
        "reopen",
        "fix",
        "resolve",
        "close",
    ]


def test_problem_fix_needs_a_root_cause(agent):
    problem = problem_in_state("root_cause_analysis", by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_fix(problem=problem, by=agent, cause_notes="  ")
    assert "cause_notes" in error.value.message_dict
    problem.refresh_from_db()
    assert problem.state == "root_cause_analysis"


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"resolution_code": "fix_applied"}, {"cause_notes", "fix_notes"}),
        ({"resolution_code": "fix_applied", "cause_notes": "c"}, {"fix_notes"}),
        ({"resolution_code": "risk_accepted"}, {"cause_notes", "close_notes"}),
        ({"resolution_code": "risk_accepted", "cause_notes": "c"}, {"close_notes"}),
        ({"resolution_code": "duplicate"}, {"duplicate_of"}),
        ({"resolution_code": "canceled", "close_notes": " "}, {"close_notes"}),
        ({"resolution_code": "bogus"}, {"resolution_code"}),
    ],
)
def test_problem_resolve_requires_the_notes_of_its_code(agent, kwargs, fields):
    problem = problem_in_state("assess", by=agent)
    journal = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        services.problem_resolve(problem=problem, by=agent, **kwargs)
    assert set(error.value.message_dict) == fields
    problem.refresh_from_db()
    assert problem.state == "assess" and JournalEntry.objects.count() == journal


def test_problem_resolve_duplicate_of_itself_or_in_a_cycle_is_refused(agent):
    problem = problem_in_state("assess", by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_resolve(problem=problem, by=agent, resolution_code="duplicate", duplicate_of=problem)
    assert "duplicate_of" in error.value.message_dict
    other = problem_in_state("assess", by=agent)
    services.problem_resolve(problem=other, by=agent, resolution_code="duplicate", duplicate_of=problem)
    with pytest.raises(ValidationError) as error:
        services.problem_resolve(problem=problem, by=agent, resolution_code="duplicate", duplicate_of=other)
    assert "duplicate_of" in error.value.message_dict


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution_code": "fix_applied", "cause_notes": "c", "fix_notes": "f"},
        {"resolution_code": "risk_accepted", "cause_notes": "c", "close_notes": "Too costly to fix."},
        {"resolution_code": "canceled", "close_notes": "Not a problem after all."},
    ],
)
def test_problem_resolve_with_each_code(agent, kwargs):
    problem = problem_in_state("root_cause_analysis", by=agent)
    services.problem_resolve(problem=problem, by=agent, **kwargs)
    problem.refresh_from_db()
    assert problem.state == "resolved" and problem.resolution_code == kwargs["resolution_code"]


def test_problem_resolve_duplicate_records_the_original(agent):
    original, copy = problem_factory(by=agent), problem_factory(by=agent)
    services.problem_resolve(problem=copy, by=agent, resolution_code="duplicate", duplicate_of=original)
    copy.refresh_from_db()
    assert copy.duplicate_of == original and copy.state == "resolved"


def test_problem_resolve_from_closed_is_not_allowed_and_changes_nothing(agent):
    problem = problem_in_state("closed", by=agent)
    journal = JournalEntry.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.problem_resolve(problem=problem, by=agent, resolution_code="canceled", close_notes="x")
    assert JournalEntry.objects.count() == journal


@pytest.mark.parametrize(
    ("service", "state", "kwargs"),
    [
        ("problem_assess", "new", {}),
        ("problem_analyze", "assess", {}),
        ("problem_fix", "root_cause_analysis", {"cause_notes": "c"}),
        ("problem_resolve", "assess", {"resolution_code": "canceled", "close_notes": "n"}),
        ("problem_close", "resolved", {}),
        ("problem_cancel", "new", {}),
        ("problem_reopen", "resolved", {}),
    ],
)
def test_problem_transition_by_end_user_is_denied(agent, end_user, service, state, kwargs):
    problem = problem_in_state(state, by=agent)
    with pytest.raises(PermissionDenied):
        getattr(services, service)(problem=problem, by=end_user, **kwargs)
    problem.refresh_from_db()
    assert problem.state == state


def test_problem_cancel_journals_the_reason(agent):
    problem = problem_in_state("root_cause_analysis", by=agent)
    services.problem_cancel(problem=problem, by=agent, reason="Raised twice.")
    assert problem.state == "canceled" and problem.state_category == "cancelled" and not problem.active
    assert problem.journal.get(transition="cancel").body == "Raised twice."


# --- incidents ----------------------------------------------------------------------------------------------------


def test_problem_create_from_incident_copies_and_links(agent, team):
    ci = ConfigurationItemFactory(name="mail-01", service=ServiceFactory(name="Email"))
    incident = incident_factory(
        by=agent,
        short_description="Mail stuck in outbox",
        description="Since 9:00.",
        configuration_item=ci,
        assignment_group=team,
    )
    problem = services.problem_create_from_incident(incident=incident, by=agent)
    incident.refresh_from_db()
    assert incident.problem == problem
    assert (problem.short_description, problem.description) == ("Mail stuck in outbox", "Since 9:00.")
    assert (problem.service.name, problem.configuration_item, problem.assignment_group) == ("Email", ci, team)
    assert problem.journal.filter(kind=JournalKind.WORK_NOTE, body__contains=incident.number).exists()
    link = incident.journal.get(kind=JournalKind.FIELD_CHANGE, field="problem")
    assert (link.old_value, link.new_value) == ("", problem.number)


def test_problem_create_from_incident_already_linked_is_refused(agent):
    incident = incident_factory(by=agent)
    services.problem_create_from_incident(incident=incident, by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_create_from_incident(incident=incident, by=agent)
    assert "problem" in error.value.message_dict
    assert Problem.objects.count() == 1


def test_problem_create_from_incident_by_end_user_is_denied(end_user):
    incident = incident_factory(caller=end_user)
    with pytest.raises(PermissionDenied):
        services.problem_create_from_incident(incident=incident, by=end_user)
    assert not Problem.objects.exists()


def test_problem_link_and_unlink_incident_journal_on_both(agent):
    problem, incident = problem_factory(by=agent), incident_factory(by=agent)
    services.problem_link_incident(problem=problem, incident=incident, by=agent)
    incident.refresh_from_db()
    assert incident.problem == problem
    services.problem_unlink_incident(problem=problem, incident=incident, by=agent)
    incident.refresh_from_db()
    assert incident.problem is None
    notes = list(problem.journal.filter(kind=JournalKind.WORK_NOTE).values_list("body", flat=True))
    assert notes == [f"Linked incident {incident.number}.", f"Unlinked incident {incident.number}."]
    assert incident.journal.filter(kind=JournalKind.FIELD_CHANGE, field="problem").count() == 2


def test_problem_link_to_closed_problem_or_unlink_foreign_is_refused(agent, end_user):
    closed, incident = problem_in_state("closed", by=agent), incident_factory(by=agent)
    with pytest.raises(ValidationError):
        services.problem_link_incident(problem=closed, incident=incident, by=agent)
    with pytest.raises(ValidationError):
        services.problem_unlink_incident(problem=problem_factory(by=agent), incident=incident, by=agent)
    with pytest.raises(PermissionDenied):
        services.problem_link_incident(problem=problem_factory(by=agent), incident=incident, by=end_user)


def test_problem_fix_applied_resolves_three_incidents_on_hold_for_it_in_one_step(
    agent, django_capture_on_commit_callbacks
):
    """Must show: a problem linked to three on-hold incidents, resolved with "fix applied", resolves the three
    incidents in one step, with journal entries on all four, and their callers are told."""
    problem = problem_in_state("fix_in_progress", by=agent)
    callers = [UserFactory() for _ in range(3)]
    waiting = []
    for caller in callers:
        incident = incident_in_state("in_progress", by=agent, caller=caller)
        services.problem_link_incident(problem=problem, incident=incident, by=agent)
        incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_problem"))
        waiting.append(incident)
    # Linked but waiting for a vendor, and waiting for a problem but not linked: both stay as they are.
    vendor = incident_in_state("on_hold", by=agent)
    services.problem_link_incident(problem=problem, incident=vendor, by=agent)
    unlinked = incident_in_state("in_progress", by=agent)
    incident_hold(incident=unlinked, by=agent, reason=hold_reason("awaiting_problem"))

    with django_capture_on_commit_callbacks(execute=True):
        services.problem_resolve(
            problem=problem,
            by=agent,
            resolution_code="fix_applied",
            fix_notes="Rolled back the print driver to 5.1 on all print servers.",
            resolve_incidents=True,
        )

    problem.refresh_from_db()
    assert problem.state == "resolved" and problem.resolution_code == "fix_applied"
    assert problem.journal.filter(kind=JournalKind.TRANSITION, transition="resolve").count() == 1
    note = problem.journal.get(kind=JournalKind.WORK_NOTE, body__startswith="Resolved 3")
    for incident, caller in zip(waiting, callers, strict=True):
        incident.refresh_from_db()
        assert incident.state == IncidentState.RESOLVED
        assert incident.close_code.slug == "resolved_by_problem"
        assert problem.number in incident.close_notes and "Rolled back" in incident.close_notes
        entry = incident.journal.get(kind=JournalKind.TRANSITION, transition="resolve")
        assert entry.actor == agent and entry.from_state == "on_hold"
        assert incident.number in note.body
        assert OutboxMessage.objects.filter(ticket=incident, event="incident.resolved", recipient=caller).exists()
    vendor.refresh_from_db()
    unlinked.refresh_from_db()
    assert vendor.state == unlinked.state == IncidentState.ON_HOLD


def test_problem_resolve_without_resolve_incidents_leaves_them_on_hold(agent):
    problem = problem_in_state("fix_in_progress", by=agent)
    incident = incident_in_state("in_progress", by=agent)
    services.problem_link_incident(problem=problem, incident=incident, by=agent)
    incident_hold(incident=incident, by=agent, reason=hold_reason("awaiting_problem"))
    services.problem_resolve(problem=problem, by=agent, resolution_code="fix_applied", fix_notes="f")
    incident.refresh_from_db()
    assert incident.state == IncidentState.ON_HOLD


# --- known errors -------------------------------------------------------------------------------------------------


def test_problem_mark_known_error_publishes_an_article_findable_by_ci_and_service(agent):
    ci = ConfigurationItemFactory(name="print-01", service=ServiceFactory(name="Printing"))
    problem = problem_in_state("root_cause_analysis", by=agent, configuration_item=ci)
    article = services.problem_mark_known_error(
        problem=problem, by=agent, workaround="Print via print-02.", cause_notes="Driver 5.2 leaks memory."
    )
    problem.refresh_from_db()
    assert problem.known_error and problem.workaround == "Print via print-02."
    assert article.published and article.kind == "known_error" and article.problem == problem
    assert "Print via print-02." in article.body and "Driver 5.2 leaks memory." in article.body
    # End users read the article: the internal problem record behind it is not named in its text.
    assert problem.number not in article.body and problem.number not in article.title
    assert list(known_errors_for(user=agent, configuration_item=ci)) == [article]
    assert list(known_errors_for(user=agent, service=ci.service)) == [article]
    assert list(known_errors_for(user=agent, service=ServiceFactory(name="Other"))) == []
    fields = set(problem.journal.filter(kind=JournalKind.FIELD_CHANGE).values_list("field", flat=True))
    assert fields == {"known_error", "workaround", "cause_notes"}


def test_problem_mark_known_error_again_updates_the_same_article(agent):
    problem = problem_in_state("root_cause_analysis", by=agent)
    services.problem_mark_known_error(problem=problem, by=agent, workaround="w1", cause_notes="c1")
    services.problem_mark_known_error(problem=problem, by=agent, workaround="w2")
    services.problem_update(problem=problem, by=agent, short_description="Renamed")
    article = KnowledgeArticle.objects.get()
    assert "w2" in article.body and "c1" in article.body and article.title == "Known error: Renamed"


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({}, {"workaround", "cause_notes"}),
        ({"workaround": "w"}, {"cause_notes"}),
        ({"cause_notes": "c"}, {"workaround"}),
    ],
)
def test_problem_mark_known_error_needs_workaround_and_cause(agent, kwargs, fields):
    problem = problem_in_state("assess", by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_mark_known_error(problem=problem, by=agent, **kwargs)
    assert set(error.value.message_dict) == fields
    assert not KnowledgeArticle.objects.exists()


def test_problem_mark_known_error_refused_when_closed_or_by_end_user(agent, end_user):
    with pytest.raises(ValidationError):
        services.problem_mark_known_error(
            problem=problem_in_state("canceled", by=agent), by=agent, workaround="w", cause_notes="c"
        )
    with pytest.raises(PermissionDenied):
        services.problem_mark_known_error(
            problem=problem_factory(by=agent), by=end_user, workaround="w", cause_notes="c"
        )
    assert not KnowledgeArticle.objects.exists()


def test_known_errors_for_end_users_are_published_only(agent, end_user):
    problem = problem_in_state("assess", by=agent)
    article = services.problem_mark_known_error(problem=problem, by=agent, workaround="w", cause_notes="c")
    assert list(known_errors_for(user=end_user)) == [article]
    KnowledgeArticle.objects.update(published=False)
    assert list(known_errors_for(user=end_user)) == []
    assert list(known_errors_for(user=agent)) == [article]


# --- tasks and comments -------------------------------------------------------------------------------------------


def test_problem_task_create_journals_on_task_and_problem(agent, team):
    problem = problem_factory(by=agent, impact=1, urgency=1)
    task = services.problem_task_create(
        problem=problem, by=agent, short_description="Collect logs", assignment_group=team, assigned_to=agent
    )
    assert task.number.startswith("PTASK") and task.problem == problem and task.priority == 1
    assert _transitions(task) == ["create"]
    assert problem.journal.filter(kind=JournalKind.WORK_NOTE, body=f"Added task {task.number}.").exists()


def test_problem_task_create_refused_on_resolved_problem_or_for_end_user(agent, end_user):
    with pytest.raises(ValidationError) as error:
        services.problem_task_create(problem=problem_in_state("resolved", by=agent), by=agent, short_description="x")
    assert "problem" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.problem_task_create(problem=problem_factory(by=agent), by=end_user, short_description="x")


def test_problem_task_walks_to_closed_with_notes(agent):
    task = problem_task_in_state("new", by=agent)
    services.problem_task_assess(task=task, by=agent)
    services.problem_task_start(task=task, by=agent)
    services.problem_task_close(task=task, by=agent, close_notes="Logs attached to the problem.")
    task.refresh_from_db()
    assert task.state == "closed" and task.close_notes == "Logs attached to the problem." and not task.active
    assert _transitions(task) == ["create", "assess", "start", "close"]


def test_problem_task_close_needs_notes_and_agents(agent, end_user):
    task = problem_task_in_state("work_in_progress", by=agent)
    with pytest.raises(ValidationError) as error:
        services.problem_task_close(task=task, by=agent, close_notes=" ")
    assert "close_notes" in error.value.message_dict
    for name, kwargs in (("assess", {}), ("start", {}), ("close", {"close_notes": "n"})):
        fresh = problem_task_in_state("new", by=agent)
        with pytest.raises(PermissionDenied):
            getattr(services, f"problem_task_{name}")(task=fresh, by=end_user, **kwargs)
    task.refresh_from_db()
    assert task.state == "work_in_progress"


def test_problem_task_update_journals_and_refuses_end_users(agent, end_user, team):
    task = problem_task_in_state("new", by=agent)
    services.problem_task_update(task=task, by=agent, assignment_group=team)
    assert task.journal.filter(kind=JournalKind.FIELD_CHANGE, field="assignment_group").exists()
    with pytest.raises(PermissionDenied):
        services.problem_task_update(task=task, by=end_user, description="x")


def test_problem_comment_agents_only_and_not_blank(agent, end_user):
    problem = problem_factory(by=agent)
    entry = services.problem_comment(problem=problem, by=agent, body="Looking at the logs.")
    assert entry.kind == JournalKind.WORK_NOTE
    with pytest.raises(ValidationError):
        services.problem_comment(problem=problem, by=agent, body="  ")
    with pytest.raises(PermissionDenied):
        services.problem_comment(problem=problem, by=end_user, body="hello")
    task = problem_task_in_state("new", by=agent, problem=problem)
    assert services.problem_task_comment(task=task, by=agent, body="On it.", kind=JournalKind.COMMENT).kind == "comment"
