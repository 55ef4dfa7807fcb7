"""How incidents appear in the agent workspace (declared for itsm.workspace; no templates of their own)."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from incidents import services
from incidents.api.views import TRANSITIONS
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from incidents.selectors import incident_list_visible_to
from itsm.enums import TicketKind
from itsm.workspace import Column, LinkGroup, Practice, Transition, category_columns, register, shared_columns


def _links(incident: Incident) -> list[LinkGroup]:
    children = list(incident.children.order_by("number")[:50])
    return [
        LinkGroup(_("Parent incident"), [incident.parent] if incident.parent_id else []),
        LinkGroup(_("Child incidents"), children),
        LinkGroup(_("Problem"), [incident.problem] if incident.problem_id else []),
        LinkGroup(
            _("Caused by change"), [incident.caused_by_change] if getattr(incident, "caused_by_change_id", None) else []
        ),
    ]


register(
    Practice(
        slug="incidents",
        kind=TicketKind.INCIDENT,
        model=Incident,
        label=_("Incident"),
        label_plural=_("Incidents"),
        visible=incident_list_visible_to,
        filterset=IncidentFilterSet,
        filters=["state", "priority", "category", "assignment_group", "assigned_to", "major_incident"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("hold_reason", _("Hold reason"), attr="hold_reason.name", select_related=("hold_reason",)),
            Column("major_incident", _("Major"), kind="bool"),
            Column("problem", _("Problem"), attr="problem.number", select_related=("problem",)),
        ],
        default_columns=[
            "number",
            "short_description",
            "state",
            "priority",
            "category",
            "caller",
            "assignment_group",
            "assigned_to",
            "opened",
        ],
        transitions_table=TRANSITIONS,
        record_argument="incident",
        transitions=[
            Transition("start", _("Start work"), style="primary", bulk=True),
            Transition("resume", _("Resume"), style="primary", bulk=True),
            Transition("hold", _("Put on hold")),
            Transition("resolve", _("Resolve"), style="success"),
            Transition("reopen", _("Reopen")),
            Transition("close", _("Close"), bulk=True),
            Transition("cancel", _("Cancel incident"), style="danger"),
        ],
        update=services.incident_update,
        comment=services.incident_comment,
        edit_fields=[
            "short_description",
            "description",
            "category",
            "subcategory",
            "impact",
            "urgency",
            "assignment_group",
            "assigned_to",
            "service",
            "configuration_item",
            "major_incident",
        ],
        facts=[
            (_("Hold reason"), "hold_reason.name"),
            (_("Close code"), "close_code.name"),
            (_("Close notes"), "close_notes"),
        ],
        links=_links,
        create_url=reverse_lazy("incidents:incident_create"),
        order=10,
    )
)
