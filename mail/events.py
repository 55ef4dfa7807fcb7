"""The notification events: what practices, approvals and the SLA engine tell people, and which are on by default."""

from django.utils.translation import gettext_lazy as _

NOTIFICATION_EVENTS: dict[str, str] = {
    "incident.created": _("Incident logged (to the caller)"),
    "incident.assigned": _("Incident assigned to you"),
    "incident.commented": _("New comment on your incident"),
    "incident.resolved": _("Your incident is resolved"),
    "incident.caller_replied": _("The caller replied to an incident awaiting them"),
    "problem.assigned": _("Problem assigned to you"),
    "problem_task.assigned": _("Problem task assigned to you"),
    "change.assigned": _("Change assigned to you"),
    "approval.requested": _("Your approval is requested"),
    "sla.warning": _("SLA warning"),
    "sla.breached": _("SLA breached"),
    "ticket.state_changed": _("A ticket you raised changed state"),
    "ticket.caller_commented": _("The caller commented on a ticket assigned to you"),
    "ticket.watch_commented": _("New comment on a ticket you watch"),
    "ticket.watch_state_changed": _("A ticket you watch changed state (resolved, on hold ...)"),
    "ticket.watch_work_noted": _("New work note on a ticket you watch (agents only)"),
}

# Opt-in events: the practices already tell callers about the states that matter (logged, resolved); work notes by
# mail are opt-in for watching agents too (nobody else is mailed work notes).
DEFAULT_OFF = frozenset({"ticket.state_changed", "ticket.watch_work_noted"})


def event_label(event: str) -> str:
    return str(NOTIFICATION_EVENTS.get(event, event))
