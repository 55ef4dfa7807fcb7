"""Problem admin: every model's pages render, saves and actions go through the services, nothing is deleted."""

import pytest
from django.contrib import admin
from django.urls import reverse

from itsm.enums import JournalKind
from itsm.roles import roles_ensure
from problems.models import KnowledgeArticle, Problem, ProblemTask
from problems.services import problem_mark_known_error
from tests.factories import problem_in_state, problem_task_in_state
from tests.itsm.test_admin import _form_data

pytestmark = pytest.mark.django_db

MODELS = (Problem, ProblemTask, KnowledgeArticle)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(agent):
    problem = problem_in_state("root_cause_analysis", by=agent)
    problem_task_in_state("new", by=agent, problem=problem)
    problem_mark_known_error(problem=problem, by=agent, workaround="<b>w</b>", cause_notes="c")
    return problem


def test_admin_registers_every_problem_model():
    assert {m for m in admin.site._registry if m._meta.app_label == "problems"} == set(MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_admin_pages_render(admin_client, one_of_each, model):
    obj = model.objects.first()
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    page = admin_client.get(_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert admin_client.get(_url(model, "add")).status_code == 200
    if model is not KnowledgeArticle:
        assert 'name="state"' not in page.content.decode()


def test_admin_problem_add_goes_through_the_service(admin_client, admin_user):
    page = admin_client.get(_url(Problem, "add"))
    data = _form_data(page, short_description="Spooler deadlocks", impact=2, urgency=2)
    response = admin_client.post(_url(Problem, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    problem = Problem.objects.get(short_description="Spooler deadlocks")
    assert problem.number.startswith("PRB") and problem.priority == 3
    assert problem.journal.filter(transition="create", actor=admin_user).exists()


def test_admin_problem_actions_call_services_and_skip_refusals(admin_client, agent):
    new, closed = problem_in_state("new", by=agent), problem_in_state("closed", by=agent)
    response = admin_client.post(
        _url(Problem, "changelist"), {"action": "assess_selected", "_selected_action": [new.pk, closed.pk]}, follow=True
    )
    assert response.status_code == 200
    new.refresh_from_db()
    closed.refresh_from_db()
    assert new.state == "assess" and closed.state == "closed"
    assert new.journal.filter(kind=JournalKind.TRANSITION, transition="assess").exists()
    assert "Skipped 1" in response.content.decode()


def test_admin_problem_task_close_action(admin_client, agent):
    task = problem_task_in_state("work_in_progress", by=agent)
    admin_client.post(_url(ProblemTask, "changelist"), {"action": "close_selected", "_selected_action": [task.pk]})
    task.refresh_from_db()
    assert task.state == "closed" and task.close_notes


def test_admin_problems_and_tasks_cannot_be_deleted(admin_client, one_of_each):
    task = ProblemTask.objects.get()
    assert admin_client.post(_url(Problem, "delete", one_of_each.pk), {"post": "yes"}).status_code == 403
    assert admin_client.post(_url(ProblemTask, "delete", task.pk), {"post": "yes"}).status_code == 403
    assert Problem.objects.filter(pk=one_of_each.pk).exists() and ProblemTask.objects.exists()


def test_roles_grant_problems_to_agents_but_never_deletion():
    from django.contrib.auth.models import Group

    roles_ensure()
    agents = set(Group.objects.get(name="Agents").permissions.values_list("codename", flat=True))
    admins = set(Group.objects.get(name="Admins").permissions.values_list("codename", flat=True))
    assert {"view_problem", "change_problem", "work_problem", "add_problemtask", "view_knowledgearticle"} <= agents
    assert "delete_knowledgearticle" in admins
    assert not {"delete_problem", "delete_problemtask"} & (agents | admins)
