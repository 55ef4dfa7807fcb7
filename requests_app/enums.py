"""Service request states (REQ, RITM, TASK) with their state categories, and how end users read them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.enums import StateCategory


class RequestState(models.TextChoices):
    """The request (REQ): open while any of its items is, then closed (or canceled when every item was)."""

    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


REQUEST_STATE_CATEGORIES = {
    RequestState.OPEN: StateCategory.ACTIVE,
    RequestState.CLOSED: StateCategory.CLOSED,
    RequestState.CANCELED: StateCategory.CANCELLED,
}


class RequestedItemState(models.TextChoices):
    """The requested item (RITM) life cycle."""

    SUBMITTED = "submitted", _("Submitted")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting Approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_FULFILMENT = "in_fulfilment", _("In Fulfilment")
    FULFILLED = "fulfilled", _("Fulfilled")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


REQUESTED_ITEM_STATE_CATEGORIES = {
    RequestedItemState.SUBMITTED: StateCategory.NEW,
    RequestedItemState.AWAITING_APPROVAL: StateCategory.PENDING_CUSTOMER,
    RequestedItemState.APPROVED: StateCategory.ACTIVE,
    RequestedItemState.REJECTED: StateCategory.CLOSED,
    RequestedItemState.IN_FULFILMENT: StateCategory.ACTIVE,
    RequestedItemState.FULFILLED: StateCategory.RESOLVED,
    RequestedItemState.CLOSED: StateCategory.CLOSED,
    RequestedItemState.CANCELED: StateCategory.CANCELLED,
}

FINAL_REQUESTED_ITEM_STATES = (RequestedItemState.REJECTED, RequestedItemState.CLOSED, RequestedItemState.CANCELED)
# The requester may withdraw an item until its fulfilment has started.
WITHDRAWABLE_STATES = (
    RequestedItemState.SUBMITTED,
    RequestedItemState.AWAITING_APPROVAL,
    RequestedItemState.APPROVED,
)
CANCELABLE_STATES = (*WITHDRAWABLE_STATES, RequestedItemState.IN_FULFILMENT)


class RequestedItemCloseCode(models.TextChoices):
    """How a requested item ended."""

    FULFILLED = "fulfilled", _("Fulfilled")
    INCOMPLETE = "incomplete", _("Closed incomplete")


class FulfilmentTaskState(models.TextChoices):
    """The fulfilment task (TASK) life cycle."""

    OPEN = "open", _("Open")
    WORK_IN_PROGRESS = "work_in_progress", _("Work in Progress")
    CLOSED_COMPLETE = "closed_complete", _("Closed Complete")
    CLOSED_INCOMPLETE = "closed_incomplete", _("Closed Incomplete")
    CLOSED_SKIPPED = "closed_skipped", _("Closed Skipped")


FULFILMENT_TASK_STATE_CATEGORIES = {
    FulfilmentTaskState.OPEN: StateCategory.NEW,
    FulfilmentTaskState.WORK_IN_PROGRESS: StateCategory.ACTIVE,
    FulfilmentTaskState.CLOSED_COMPLETE: StateCategory.CLOSED,
    FulfilmentTaskState.CLOSED_INCOMPLETE: StateCategory.CLOSED,
    FulfilmentTaskState.CLOSED_SKIPPED: StateCategory.CANCELLED,
}

OPEN_TASK_STATES = (FulfilmentTaskState.OPEN, FulfilmentTaskState.WORK_IN_PROGRESS)

# What the requester reads in the portal for each item state.
PLAIN_STATES = {
    RequestedItemState.SUBMITTED: _("Received"),
    RequestedItemState.AWAITING_APPROVAL: _("Waiting for approval"),
    RequestedItemState.APPROVED: _("Approved"),
    RequestedItemState.REJECTED: _("Not approved"),
    RequestedItemState.IN_FULFILMENT: _("Being prepared"),
    RequestedItemState.FULFILLED: _("Delivered"),
    RequestedItemState.CLOSED: _("Closed"),
    RequestedItemState.CANCELED: _("Withdrawn"),
}
