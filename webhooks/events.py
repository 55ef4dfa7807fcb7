"""The events an endpoint can subscribe to."""

from django.utils.translation import gettext_lazy as _

WEBHOOK_EVENTS: dict[str, str] = {
    "ticket.created": _("A ticket was created"),
    "ticket.state_changed": _("A ticket changed state"),
    "ticket.updated": _("Ticket fields changed"),
    "ticket.assigned": _("A ticket's assignment group or assignee changed"),
    "ticket.commented": _("A public comment was added"),
    "ticket.work_noted": _("An internal work note was added"),
    "approval.requested": _("An approval was requested"),
    "sla.warning": _("An SLA reached a warning threshold"),
    "sla.breached": _("An SLA was breached"),
    "incident.created": _("Incident logged (notification event)"),
    "incident.resolved": _("Incident resolved (notification event)"),
}
