"""How requested items and fulfilment tasks appear in the agent workspace (declared for itsm.workspace)."""

from django.utils.translation import gettext_lazy as _

from itsm.enums import TicketKind
from itsm.workspace import Column, LinkGroup, Practice, Transition, category_columns, register, shared_columns
from requests_app import services
from requests_app.api.views import ITEM_TRANSITIONS, TASK_TRANSITIONS
from requests_app.filtersets import FulfilmentTaskFilterSet, RequestedItemFilterSet
from requests_app.models import FulfilmentTask, RequestedItem
from requests_app.selectors import fulfilment_task_list_visible_to, requested_item_list_visible_to

register(
    Practice(
        slug="requested-items",
        kind=TicketKind.REQUESTED_ITEM,
        model=RequestedItem,
        label=_("Requested item"),
        label_plural=_("Requested items"),
        visible=requested_item_list_visible_to,
        filterset=RequestedItemFilterSet,
        filters=["state", "catalog_item", "category", "assignment_group", "assigned_to"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column("request", _("Request"), attr="request.number", select_related=("request",)),
            Column("catalog_item", _("Catalog item"), attr="catalog_item.name", select_related=("catalog_item",)),
            Column("quantity", _("Quantity"), kind="number"),
        ],
        default_columns=[
            "number",
            "short_description",
            "state",
            "category",
            "caller",
            "assignment_group",
            "assigned_to",
            "opened",
        ],
        transitions_table=ITEM_TRANSITIONS,
        record_argument="item",
        transitions=[
            Transition("close", _("Close (delivered)"), style="success", bulk=True),
            Transition("cancel", _("Cancel request"), style="danger"),
        ],
        update=services.requested_item_update,
        comment=services.requested_item_comment,
        edit_fields=list(services.ITEM_UPDATABLE_FIELDS),
        facts=[
            (_("Answers"), "answers_text"),
            (_("Rejection reason"), "rejection_reason"),
            (_("Close notes"), "close_notes"),
        ],
        links=lambda item: [
            LinkGroup(_("Request"), [item.request]),
            LinkGroup(_("Fulfilment tasks"), list(item.tasks.order_by("position", "pk"))),
        ],
        order=40,
    )
)

register(
    Practice(
        slug="fulfilment-tasks",
        kind=TicketKind.TASK,
        model=FulfilmentTask,
        label=_("Fulfilment task"),
        label_plural=_("Fulfilment tasks"),
        visible=fulfilment_task_list_visible_to,
        filterset=FulfilmentTaskFilterSet,
        filters=["state", "category", "assignment_group", "assigned_to"],
        columns=[
            *shared_columns(),
            *category_columns(),
            Column(
                "requested_item", _("Requested item"), attr="requested_item.number", select_related=("requested_item",)
            ),
        ],
        default_columns=[
            "number",
            "short_description",
            "state",
            "requested_item",
            "assignment_group",
            "assigned_to",
            "opened",
        ],
        transitions_table=TASK_TRANSITIONS,
        record_argument="task",
        transitions=[
            Transition("start", _("Start work"), style="primary", bulk=True),
            Transition("close_complete", _("Close complete"), style="success", bulk=True),
            Transition("close_incomplete", _("Close incomplete"), style="danger"),
            Transition("skip", _("Skip")),
        ],
        update=services.fulfilment_task_update,
        comment=services.fulfilment_task_comment,
        edit_fields=list(services.TASK_UPDATABLE_FIELDS),
        facts=[(_("Instructions"), "instructions"), (_("Close notes"), "close_notes")],
        links=lambda task: [LinkGroup(_("Requested item"), [task.requested_item])],
        order=45,
    )
)
