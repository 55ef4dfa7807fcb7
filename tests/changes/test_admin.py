"""Change admin: every changes model is registered and its pages render, saves and actions go through the services,
windows are edited with weekday checkboxes and recompute conflicts, nothing is deleted."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from changes.models import (
    Change,
    ChangeConflict,
    ChangeTask,
    ChangeWindow,
)
from changes.services import change_task_create
from tests.factories import ConfigurationItemFactory, change_factory, change_in_state
from tests.itsm.test_admin import _form_data

pytestmark = pytest.mark.django_db

MODELS = tuple(apps.get_app_config("changes").get_models())
T0 = datetime(2030, 6, 3, 8, tzinfo=UTC)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(agent):
    """A row of every changes model: a change with risk answers, a task, a conflict, a window, a template."""
    from tests.changes.test_services import _questionnaire

    web = ConfigurationItemFactory(name="web-01")
    impact, tested, options = _questionnaire()
    first = change_factory(by=agent, affected_cis=[web], planned_start=T0, planned_end=T0 + timedelta(hours=2))
    from changes.services import change_assess, change_assess_risk

    change_assess(change=first, by=agent)
    change_assess_risk(change=first, by=agent, answers={impact.pk: options["one"].pk, tested.pk: options["yes"].pk})
    change_factory(by=agent, affected_cis=[web], planned_start=T0, planned_end=T0 + timedelta(hours=1))
    change_task_create(change=first, by=agent, short_description="Drain the node")
    ChangeWindow.objects.create(
        kind="blackout", name="Freeze", start=T0 + timedelta(days=30), end=T0 + timedelta(days=31)
    )
    change_in_state("scheduled", change_type="standard", by=agent)  # a template
    assert ChangeConflict.objects.exists()
    return first


def test_admin_registers_every_changes_model():
    assert {m for m in admin.site._registry if m._meta.app_label == "changes"} == set(MODELS)
    assert {Change, ChangeTask, ChangeWindow, ChangeConflict} <= set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_render(admin_client, one_of_each, model):
    obj = model.objects.first()
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    page = admin_client.get(_url(model, "change", obj.pk))
    assert page.status_code == 200
    if admin.site._registry[model].has_add_permission(page.wsgi_request):
        assert admin_client.get(_url(model, "add")).status_code == 200
    if model in (Change, ChangeTask):
        assert 'name="state"' not in page.content.decode()


def test_admin_change_page_shows_conflicts_and_tasks(admin_client, one_of_each):
    page = admin_client.get(_url(Change, "change", one_of_each.pk)).content.decode()
    assert "also changes web-01" in page and "Drain the node" in page


def test_admin_change_task_add_goes_through_the_service(admin_client, admin_user, one_of_each):
    page = admin_client.get(_url(ChangeTask, "add"))
    data = _form_data(page, change=one_of_each.pk, short_description="Check the backups")
    response = admin_client.post(_url(ChangeTask, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task = ChangeTask.objects.get(short_description="Check the backups")
    assert task.number.startswith("CTASK") and task.change == one_of_each
    assert task.journal.filter(transition="create", actor=admin_user).exists()
    assert one_of_each.journal.filter(body=f"Added task {task.number}.").exists()


def test_admin_actions_call_services_and_skip_refusals(admin_client, one_of_each):
    """Schedule is refused for the conflicting change (listed as skipped); task actions run the services."""
    change = Change.objects.get(pk=one_of_each.pk)
    response = admin_client.post(
        _url(Change, "changelist"), {"action": "schedule_selected", "_selected_action": [change.pk]}, follow=True
    )
    assert "Skipped 1" in response.content.decode()
    assert Change.objects.get(pk=change.pk).state == change.state
    task = ChangeTask.objects.get(change=change)
    admin_client.post(_url(ChangeTask, "changelist"), {"action": "start_selected", "_selected_action": [task.pk]})
    admin_client.post(_url(ChangeTask, "changelist"), {"action": "close_selected", "_selected_action": [task.pk]})
    task.refresh_from_db()
    assert task.state == "closed" and task.journal.filter(transition="close").exists()


def test_admin_weekly_window_with_checkboxes_recomputes_conflicts(admin_client, one_of_each):
    page = admin_client.get(_url(ChangeWindow, "add"))
    web = one_of_each.affected_cis.get()
    data = _form_data(
        page,
        kind="maintenance",
        name="Web Sundays",
        recurrence="weekly",
        weekdays=["7"],
        start_time="01:00",
        end_time="05:00",
        time_zone="Europe/London",
        configuration_items=[web.pk],
    )
    response = admin_client.post(_url(ChangeWindow, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    window = ChangeWindow.objects.get(name="Web Sundays")
    assert window.weekdays == "7" and window.describe() == "Sun 01:00-05:00 Europe/London"
    assert ChangeConflict.objects.filter(change=one_of_each, kind="maintenance", window=None).exists()


def test_admin_window_refuses_bad_input_naming_the_field(admin_client):
    page = admin_client.get(_url(ChangeWindow, "add"))
    data = _form_data(page, kind="blackout", name="Bad", recurrence="once", start="2030-06-02 10:00:00", end=None)
    response = admin_client.post(_url(ChangeWindow, "add"), data)
    assert response.status_code == 200 and "end" in response.context["adminform"].form.errors
    data = _form_data(page, kind="blackout", name="Bad", recurrence="weekly", time_zone="Mars/Olympus")
    errors = admin_client.post(_url(ChangeWindow, "add"), data).context["adminform"].form.errors
    assert {"weekdays", "start_time", "end_time", "time_zone"} <= set(errors)
    assert not ChangeWindow.objects.filter(name="Bad").exists()


def test_admin_never_deletes_changes_or_conflicts(admin_client, one_of_each):
    for model in (Change, ChangeTask, ChangeConflict):
        obj = model.objects.first()
        assert admin_client.get(_url(model, "delete", obj.pk)).status_code == 403
