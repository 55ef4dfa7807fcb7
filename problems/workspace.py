"""How problems and problem tasks appear in the agent workspace (declared for itsm.workspace)."""

from django.utils.translation import gettext_lazy as _

from itsm.enums import TicketKind
from itsm.workspace import Column, LinkGroup, Practice, Transition, category_columns, register, shared_columns
from problems import services
from problems.api.views import PROBLEM_TRANSITIONS, TASK_TRANSITIONS
from problems.filtersets import ProblemFilterSet, ProblemTaskFilterSet
from problems.models import Problem, ProblemTask
from problems.selectors import problem_list_visible_to, problem_task_list_visible_to

SHOWN = ["number", "short_description", "state", "priority", "assignment_group", "assigned_to", "opened"]


def _problem_links(problem: Problem) -> list[LinkGroup]:
    return [
        LinkGroup(_("Duplicate of"), [problem.duplicate_of] if problem.duplicate_of_id else []),
        LinkGroup(_("Incidents"), list(problem.incidents.order_by("-opened_at")[:50])),
        LinkGroup(_("Problem tasks"), list(problem.tasks.order_by("number")[:50])),
    ]


register(
    Practice(
        slug="problems",
        kind=TicketKind.PROBLEM,
        model=Problem,
        label=_("Problem"),
        label_plural=_("Problems"),
        visible=problem_list_visible_to,
        filterset=ProblemFilterSet,
        filters=["state", "priority", "category", "assignment_group", "assigned_to", "known_error"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("known_error", _("Known error"), kind="bool"),
            Column("resolution_code", _("Resolution"), attr="get_resolution_code_display"),
        ],
        default_columns=[*SHOWN[:4], "category", "known_error", *SHOWN[4:]],
        transitions_table=PROBLEM_TRANSITIONS,
        record_argument="problem",
        transitions=[
            Transition("assess", _("Assess"), style="primary", bulk=True),
            Transition("analyze", _("Start root cause analysis"), style="primary", bulk=True),
            Transition("fix", _("Fix in progress"), style="primary"),
            Transition("resolve", _("Resolve"), style="success"),
            Transition("reopen", _("Reopen")),
            Transition("close", _("Close"), bulk=True),
            Transition("cancel", _("Cancel problem"), style="danger"),
        ],
        update=services.problem_update,
        comment=services.problem_comment,
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
        ],
        facts=[
            (_("Root cause"), "cause_notes"),
            (_("Workaround"), "workaround"),
            (_("Fix"), "fix_notes"),
            (_("Close notes"), "close_notes"),
        ],
        links=_problem_links,
        order=20,
    )
)

register(
    Practice(
        slug="problem-tasks",
        kind=TicketKind.PROBLEM_TASK,
        model=ProblemTask,
        label=_("Problem task"),
        label_plural=_("Problem tasks"),
        visible=problem_task_list_visible_to,
        filterset=ProblemTaskFilterSet,
        filters=["state", "category", "assignment_group", "assigned_to"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("problem", _("Problem"), attr="problem.number", select_related=("problem",)),
        ],
        default_columns=[
            "number",
            "short_description",
            "state",
            "problem",
            "assignment_group",
            "assigned_to",
            "opened",
        ],
        transitions_table=TASK_TRANSITIONS,
        record_argument="task",
        transitions=[
            Transition("assess", _("Assess"), style="primary", bulk=True),
            Transition("start", _("Start work"), style="primary", bulk=True),
            Transition("close", _("Close task"), style="success"),
        ],
        update=services.problem_task_update,
        comment=services.problem_task_comment,
        edit_fields=["short_description", "description", "category", "subcategory", "assignment_group", "assigned_to"],
        facts=[(_("Close notes"), "close_notes")],
        links=lambda task: [LinkGroup(_("Problem"), [task.problem])],
        order=30,
    )
)
