"""Triggers: on a ticket event, when their conditions hold, set fields, run a transition through the practice's
service, notify through the kernel outbox and add a work note.

They hear events through the kernel's event listeners (`itsm.registry.event_listener_register`, registered in
AutomationConfig.ready): ticket.updated, ticket.state_changed, ticket.commented (by the caller) and sla.warning /
sla.breached; 'created' is fired by `apply_rules_on_create` after the rules. A trigger never fires on changes made
while it runs (the loop guard), nesting stops at MAX_DEPTH, and a TriggerRun row per (trigger, event) makes an event
heard twice fire once.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from automation.conditions import conditions_hold
from automation.enums import NotifyWhom, TriggerEvent
from automation.models import Trigger, TriggerRun
from itsm.configcache import ConfigCache
from itsm.enums import JournalKind
from itsm.models import Category, Team, Ticket
from itsm.services import journal_add, journal_display, journal_field_changes, outbox_enqueue, ticket_field_errors

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
_RUNNING: ContextVar[tuple[int, ...]] = ContextVar("automation_running_triggers", default=())

EVENTS = {
    "ticket.updated": TriggerEvent.UPDATED,
    "ticket.state_changed": TriggerEvent.STATE_CHANGED,
    "ticket.commented": TriggerEvent.CALLER_COMMENTED,
    "sla.warning": TriggerEvent.SLA_WARNING,
    "sla.breached": TriggerEvent.SLA_BREACHED,
}
# The practices whose transitions a trigger may run: the API's transitions table (input serializer, service, input
# mapping) and the service's record argument, so a trigger's input is validated exactly as the API's.
TRANSITION_VIEWSETS = {
    "incident": "incidents.api.views.IncidentViewSet",
    "problem": "problems.api.views.ProblemViewSet",
    "change": "changes.api.views.ChangeViewSet",
    "request": "requests_app.api.views.RequestViewSet",
}
SERVICE_ERRORS = (TransitionNotAllowed, ConcurrentTransition, PermissionDenied, ValidationError)


def practice_record(ticket: Ticket) -> Ticket:
    """The practice's own record (Incident, Change ...) for a kernel Ticket row."""
    if type(ticket) is not Ticket:
        return ticket
    for model in apps.get_models():
        if issubclass(model, Ticket) and model is not Ticket and getattr(model, "KIND", None) == ticket.kind:
            record = model.objects.filter(pk=ticket.pk).first()
            if record is not None:
                return record
    return ticket


def trigger_on_event(*, event: str, ticket: Any, key: str, data: dict[str, Any]) -> None:
    """The kernel event listener: map the event to a trigger event and fire the triggers that listen to it."""
    name = EVENTS.get(event)
    if name is None or ticket is None:
        return
    from automation.services import is_creating

    if name == TriggerEvent.UPDATED and is_creating():
        return
    # Watching a ticket changes who hears of it, not the ticket: no "fields updated" trigger fires for it.
    if name == TriggerEvent.UPDATED and set(data.get("changes") or {}) <= {"watchers"}:
        return
    if not _listened(ticket.kind, name):
        return  # no trigger of the practice listens: not even the caller's name is needed
    if name == TriggerEvent.CALLER_COMMENTED:
        caller = Ticket.objects.filter(pk=ticket.pk).values_list("caller__username", flat=True).first()
        if not data.get("actor") or data.get("actor") != caller:
            return
    triggers_fire(ticket=ticket, event=name, key=f"{event}:{key}")


# Which (practice, event) pairs have an active trigger, per process for a few seconds (itsm.configcache): most
# events have none, and the SLA sweep alone raises thousands.
ACTIVE_TRIGGERS = ConfigCache(
    lambda: frozenset(Trigger.objects.filter(active=True).values_list("practice", "event")), model="automation.Trigger"
)


def _listened(kind: str, event: str | None) -> bool:
    """Whether an active trigger of this practice (or of every practice) listens to the event (None: to any)."""
    return any(practice in ("", kind) and event in (None, on) for practice, on in ACTIVE_TRIGGERS.get())


def _triggers(ticket: Ticket, event: str | None) -> list[Trigger]:
    if not _listened(ticket.kind, event):
        return []
    triggers = Trigger.objects.filter(active=True, practice__in=["", ticket.kind]).order_by("order", "name")
    if event:
        triggers = triggers.filter(event=event)
    return list(triggers)


def triggers_fire(*, ticket: Ticket, event: str, key: str) -> list[TriggerRun]:
    """Fire, in order, the active triggers for this event whose conditions hold; skip those already running."""
    running = _RUNNING.get()
    if len(running) >= MAX_DEPTH:
        return []
    runs = []
    record = None
    for trigger in _triggers(ticket, event):
        if trigger.pk in running:
            continue  # the loop guard: a trigger's own changes never fire it again
        record = record or practice_record(ticket)
        if not conditions_hold(trigger.conditions, record):
            continue
        try:
            with transaction.atomic():
                run = TriggerRun.objects.create(trigger=trigger, ticket_id=ticket.pk, event_key=key[:100])
        except IntegrityError:
            continue  # this event fired this trigger already
        token = _RUNNING.set((*running, trigger.pk))
        try:
            run.outcome = _act(trigger, record, key)
        finally:
            _RUNNING.reset(token)
        run.save(update_fields=["outcome"])
        runs.append(run)
    return runs


def _resolve(trigger: Trigger, record: Ticket) -> tuple[dict[str, Any], list[str]]:
    """The trigger's `set_fields` as values for this ticket, and what could not be resolved."""
    values: dict[str, Any] = {}
    problems = []
    for name, raw in trigger.set_fields.items():
        text = str(raw).strip()
        if name == "priority":
            values[name] = int(raw)
        elif name == "assignment_group":
            team = Team.objects.filter(active=True).filter(**_by_name_or_id(text, "name")).first()
            values[name] = team if team is not None else problems.append(f"no team '{text}'")
        elif name == "assigned_to":
            group = values.get("assignment_group") or record.assignment_group
            if text == "@group_manager":
                user = group.manager if group is not None else None
            else:
                from django.contrib.auth import get_user_model

                user = get_user_model().objects.filter(**_by_name_or_id(text, "username")).first()
            values[name] = user if user is not None else problems.append(f"no user for '{text}'")
        elif name in ("category", "subcategory"):
            found = Category.objects.filter(practice=record.kind, active=True, parent__isnull=name == "category")
            values[name] = found.filter(**_by_name_or_id(text, "name")).first()
    return {k: v for k, v in values.items() if v is not None or k in ("category", "subcategory")}, problems


def _by_name_or_id(text: str, name_field: str) -> dict[str, Any]:
    return {"pk": int(text)} if text.isdigit() else {f"{name_field}__iexact": text}


def _set_fields(trigger: Trigger, record: Ticket) -> tuple[list[str], list[str]]:
    values, problems = _resolve(trigger, record)
    if values.get("assigned_to") is not None and record.assignment_group is not None:
        group = values.get("assignment_group") or record.assignment_group
        if not group.members.filter(pk=values["assigned_to"].pk).exists():
            # A manager outside the team takes the ticket out of the team's queue.
            values.setdefault("assignment_group", None)
    if "assignment_group" in values and values["assignment_group"] is None and "assigned_to" not in values:
        values.pop("assignment_group")
    diffs = [(name, getattr(record, name), value) for name, value in values.items() if getattr(record, name) != value]
    if not diffs:
        return [], problems
    saved = {name: getattr(record, name) for name, _old, _new in diffs}
    for name, _old, value in diffs:
        setattr(record, name, value)
    errors = ticket_field_errors(record, assignable="tickets")
    bad = [name for name, _old, _new in diffs if name in errors]
    if bad:
        for name, value in saved.items():
            setattr(record, name, value)
        return [], [*problems, *(f"{name}: {errors[name]}" for name in bad)]
    record.save(update_fields=[*(name for name, _old, _new in diffs), "updated_at"])
    entries = journal_field_changes(ticket=record, actor=None, changes=diffs)
    from slas.services import sla_evaluate

    sla_evaluate(ticket=record, at=entries[0].created_at)
    return [f"{name.replace('_', ' ')} → {journal_display(new) or 'none'}" for name, _old, new in diffs], problems


def _transition(trigger: Trigger, record: Ticket) -> str:
    path = TRANSITION_VIEWSETS.get(record.kind)
    if path is None:
        return f"transition '{trigger.transition}' skipped: {record.kind} transitions are not available to triggers"
    viewset = import_string(path)
    entry = viewset.transitions_table.get(trigger.transition)
    if entry is None:
        return f"transition '{trigger.transition}' skipped: unknown"
    input_serializer, service, to_arguments = entry
    serializer = input_serializer(data=trigger.transition_input)
    if not serializer.is_valid():
        return f"transition '{trigger.transition}' skipped: {serializer.errors}"
    try:
        with transaction.atomic():
            service(**{viewset.record_argument: record, "by": None}, **to_arguments(serializer.validated_data))
    except SERVICE_ERRORS as error:
        return f"transition '{trigger.transition}' refused: {error}"
    return f"transition '{trigger.transition}' done"


def notify_recipients(whom: str, record: Ticket) -> list:
    if whom == NotifyWhom.ASSIGNEE:
        return [record.assigned_to] if record.assigned_to else []
    if whom == NotifyWhom.CALLER:
        return [record.caller]
    group = record.assignment_group
    if group is None:
        return []
    if whom == NotifyWhom.GROUP_MANAGER:
        return [group.manager] if group.manager else []
    if whom == NotifyWhom.GROUP:
        return list(group.members.filter(is_active=True))
    return []


def _act(trigger: Trigger, record: Ticket, key: str) -> str:
    """Carry out the trigger's actions on the record; returns (and journals) what it did."""
    done, problems = _set_fields(trigger, record) if trigger.set_fields else ([], [])
    if trigger.transition:
        done.append(_transition(trigger, record))
        record.refresh_from_db()
    if trigger.notify:
        recipients = notify_recipients(trigger.notify, record)
        for recipient in recipients:
            outbox_enqueue(
                event="automation.trigger",
                ticket=record,
                recipient=recipient,
                subject=f"[{record.number}] {trigger.name}",
                body=f"{trigger.message}\n\n{record.number}: {record.short_description}",
                key=f"trigger{trigger.pk}:{key}",
            )
        who = ", ".join(r.get_username() for r in recipients) or "nobody (no recipient)"
        done.append(f"notified {who}")
    outcome = "; ".join(done) or "no change"
    if problems:
        outcome += f". Skipped: {'; '.join(problems)}"
    body = f"Trigger '{trigger.name}' ({trigger.get_event_display().lower()}): {outcome}."
    if trigger.work_note:
        body += f"\n{trigger.work_note}"
    journal_add(ticket=record, actor=None, kind=JournalKind.WORK_NOTE, body=body)
    return outcome


def trigger_plans(*, ticket: Ticket, event: str | None = None) -> list[dict[str, Any]]:
    """For the dry run: each trigger (for one event, or all) whose conditions hold now, and what it would do."""
    plans = []
    for trigger in _triggers(ticket, event):
        if not conditions_hold(trigger.conditions, ticket):
            continue
        values, problems = _resolve(trigger, ticket) if trigger.set_fields else ({}, [])
        changes = [
            {"field": name, "old": journal_display(getattr(ticket, name)), "new": journal_display(value)}
            for name, value in values.items()
            if getattr(ticket, name) != value
        ]
        recipients = notify_recipients(trigger.notify, ticket) if trigger.notify else []
        plans.append(
            {
                "trigger": trigger.name,
                "event": trigger.event,
                "changes": changes,
                "transition": trigger.transition,
                "notify": [r.get_username() for r in recipients] if trigger.notify else [],
                "work_note": trigger.work_note,
                "skipped": problems,
            }
        )
    return plans
