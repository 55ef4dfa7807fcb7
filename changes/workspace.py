"""How changes appear in the agent workspace (declared for itsm.workspace)."""

from django.utils.translation import gettext_lazy as _

from changes import services
from changes.api.views import CHANGE_TASK_TRANSITIONS, CHANGE_TRANSITIONS
from changes.filtersets import ChangeFilterSet, ChangeTaskFilterSet
from changes.models import Change, ChangeTask
from changes.selectors import change_list_visible_to, change_task_list_visible_to
from itsm.enums import TicketKind
from itsm.workspace import Column, LinkGroup, Practice, Transition, category_columns, register, shared_columns


def _links(change: Change) -> list[LinkGroup]:
    groups = []
    caused = getattr(change, "caused_incidents", None)
    if caused is not None:
        groups.append(LinkGroup(_("Incidents caused"), list(caused.order_by("-opened_at")[:50])))
    tasks = getattr(change, "tasks", None)
    if tasks is not None:
        groups.append(LinkGroup(_("Change tasks"), list(tasks.order_by("number")[:50])))
    return groups


register(
    Practice(
        slug="changes",
        kind=TicketKind.CHANGE,
        model=Change,
        label=_("Change"),
        label_plural=_("Changes"),
        visible=change_list_visible_to,
        filterset=ChangeFilterSet,
        filters=["state", "change_type", "risk", "approval", "category", "assignment_group", "assigned_to"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("change_type", _("Type"), attr="get_change_type_display", sort="change_type"),
            Column("risk", _("Risk"), attr="get_risk_display"),
            Column("approval", _("Approval"), attr="get_approval_display"),
            Column("planned_start", _("Planned start"), kind="datetime"),
            Column("planned_end", _("Planned end"), kind="datetime"),
        ],
        default_columns=[
            "number",
            "short_description",
            "change_type",
            "category",
            "state",
            "risk",
            "planned_start",
            "assignment_group",
            "assigned_to",
        ],
        transitions_table=CHANGE_TRANSITIONS,
        record_argument="change",
        transitions=[
            Transition("assess", _("Assess"), style="primary"),
            Transition("request_approval", _("Request approval"), style="primary"),
            Transition("schedule", _("Schedule"), style="primary"),
            Transition("implement", _("Implement"), style="primary"),
            Transition("review", _("Review"), style="success"),
            Transition("close", _("Close"), style="success"),
            Transition("revert_to_new", _("Back to New")),
            Transition("cancel", _("Cancel change"), style="danger"),
        ],
        update=services.change_update,
        comment=services.change_comment,
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
            "justification",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "planned_start",
            "planned_end",
        ],
        facts=[
            (_("Close notes"), "close_notes"),
            (_("Post-implementation review"), "review_notes"),
            (_("Risk explanation"), "risk_explanation"),
        ],
        links=_links,
        order=40,
    )
)

register(
    Practice(
        slug="change-tasks",
        kind=TicketKind.CHANGE_TASK,
        model=ChangeTask,
        label=_("Change task"),
        label_plural=_("Change tasks"),
        visible=change_task_list_visible_to,
        filterset=ChangeTaskFilterSet,
        filters=["state", "category", "assignment_group", "assigned_to"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("change", _("Change"), attr="change.number", select_related=("change",)),
        ],
        default_columns=["number", "short_description", "state", "change", "assignment_group", "assigned_to", "opened"],
        transitions_table=CHANGE_TASK_TRANSITIONS,
        record_argument="task",
        transitions=[
            Transition("assess", _("Assess"), style="primary", bulk=True),
            Transition("start", _("Start work"), style="primary", bulk=True),
            Transition("close", _("Close task"), style="success"),
            Transition("cancel", _("Cancel task"), style="danger"),
        ],
        update=services.change_task_update,
        comment=services.change_task_comment,
        edit_fields=["short_description", "description", "category", "subcategory", "assignment_group", "assigned_to"],
        facts=[(_("Close notes"), "close_notes")],
        links=lambda task: [LinkGroup(_("Change"), [task.change])],
        order=42,
    )
)
