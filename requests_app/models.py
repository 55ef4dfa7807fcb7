"""Service requests: the request (REQ), its requested items (RITM) with their state machine and submitted answers,
fulfilment tasks (TASK), the requester's manager, and satisfaction ratings of resolved tickets."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by

from itsm.enums import TicketKind
from itsm.models import Ticket
from itsm.rules import is_agent
from requests_app.enums import (
    CANCELABLE_STATES,
    FULFILMENT_TASK_STATE_CATEGORIES,
    OPEN_TASK_STATES,
    PLAIN_STATES,
    REQUEST_STATE_CATEGORIES,
    REQUESTED_ITEM_STATE_CATEGORIES,
    WITHDRAWABLE_STATES,
    FulfilmentTaskState,
    RequestedItemCloseCode,
    RequestedItemState,
    RequestState,
)

R = RequestedItemState
T = FulfilmentTaskState


def _agent(instance: models.Model, user) -> bool:
    return is_agent(user)


def _system(instance: models.Model, user) -> bool:
    """Transitions the services drive (approvals, task sequencing): no user takes them directly."""
    return False


def _agent_or_requester(instance: Ticket, user) -> bool:
    return is_agent(user) or (user.is_authenticated and instance.caller_id == user.pk)


def _agent_or_requester_before_fulfilment(instance: RequestedItem, user) -> bool:
    """Agents cancel any open item; the requester withdraws it until fulfilment has started."""
    if is_agent(user):
        return True
    return user.is_authenticated and instance.caller_id == user.pk and instance.state in WITHDRAWABLE_STATES


class Profile(models.Model):
    """What the desk knows about a person beyond their account: their manager (who approves their requests)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="requester_profile"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    department = models.CharField(_("department"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return str(self.user)


class Request(ConcurrentTransitionMixin, Ticket):
    """One order from the portal or the API: a cart of requested items for one requester (the caller)."""

    KIND = TicketKind.REQUEST
    STATE_CATEGORIES = REQUEST_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_request")
    state = FSMField(_("state"), default=RequestState.OPEN, choices=RequestState.choices, protected=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")

    @fsm_log_by
    @transition(field=state, source=RequestState.OPEN, target=RequestState.CLOSED, permission=_system)
    def close(self, *, by=None) -> None:
        """Every item has ended (the service decides)."""
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=RequestState.OPEN, target=RequestState.CANCELED, permission=_system)
    def cancel(self, *, by=None) -> None:
        """Every item was withdrawn or rejected."""
        self.closed_at = timezone.now()


class RequestedItem(ConcurrentTransitionMixin, Ticket):
    """One catalog item ordered in a request, with the answers given and the item version they answer."""

    KIND = TicketKind.REQUESTED_ITEM
    STATE_CATEGORIES = REQUESTED_ITEM_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(
        Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_requested_item"
    )
    state = FSMField(_("state"), default=R.SUBMITTED, choices=R.choices, protected=True, db_index=True)
    request = models.ForeignKey(Request, verbose_name=_("request"), on_delete=models.PROTECT, related_name="items")
    catalog_item = models.ForeignKey(
        "catalog.CatalogItem", verbose_name=_("catalog item"), on_delete=models.PROTECT, related_name="+"
    )
    item_version = models.ForeignKey(
        "catalog.CatalogItemVersion", verbose_name=_("item version"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    variables = models.JSONField(_("answers"), default=dict, blank=True)
    variable_display = models.JSONField(_("answers as shown"), default=dict, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    due_date = models.DateTimeField(
        _("due date"), null=True, blank=True, help_text=_("When the requester should have it (set by agents).")
    )
    close_code = models.CharField(
        _("close code"), max_length=12, choices=RequestedItemCloseCode.choices, blank=True, editable=False
    )
    close_notes = models.TextField(_("close notes"), blank=True)

    class Meta:
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")
        permissions = [("work_requesteditem", "Can work requested items and fulfilment tasks (agent)")]

    @property
    def plain_state(self) -> str:
        return PLAIN_STATES[self.state]

    def answers(self) -> list[tuple[str, str]]:
        """(question, answer) pairs as the requester gave them, in the order of the version's form."""
        return [
            (var["label"], self.variable_display[var["name"]])
            for var in self.item_version.definition.get("variables", [])
            if var["name"] in self.variable_display
        ]

    @property
    def answers_text(self) -> str:
        """The answers as lines of text (the workspace shows them as a fact)."""
        return "\n".join(f"{label}: {text}" for label, text in self.answers())

    # --- transitions: they change fields on self and nothing else -------------------------------------------

    @fsm_log_by
    @transition(field=state, source=R.SUBMITTED, target=R.AWAITING_APPROVAL, permission=_system)
    def request_approval(self, *, by=None) -> None:
        """The item's approval policy asks its approvers."""

    @fsm_log_by
    @transition(field=state, source=[R.SUBMITTED, R.AWAITING_APPROVAL], target=R.APPROVED, permission=_system)
    def approve(self, *, by=None) -> None:
        """Approved by its policy (or needing none)."""

    @fsm_log_by
    @transition(field=state, source=R.AWAITING_APPROVAL, target=R.REJECTED, permission=_system)
    def reject(self, *, reason: str, by=None) -> None:
        """An approver said no; the requester is told why."""
        self.rejection_reason = reason
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=R.APPROVED, target=R.IN_FULFILMENT, permission=_system)
    def start_fulfilment(self, *, by=None) -> None:
        """The fulfilment tasks are created."""

    @fsm_log_by
    @transition(field=state, source=R.IN_FULFILMENT, target=R.FULFILLED, permission=_system)
    def fulfil(self, *, close_notes: str = "", by=None) -> None:
        """Every task is done: the requester has what they asked for."""
        self.close_code = RequestedItemCloseCode.FULFILLED
        self.close_notes = close_notes
        self.resolved_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=R.IN_FULFILMENT, target=R.CLOSED, permission=_system)
    def close_incomplete(self, *, close_notes: str, by=None) -> None:
        """A task could not be completed: the item ends without being delivered in full."""
        self.close_code = RequestedItemCloseCode.INCOMPLETE
        self.close_notes = close_notes
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=R.FULFILLED, target=R.CLOSED, permission=_agent_or_requester)
    def close(self, *, by=None) -> None:
        """Delivered and confirmed (by the requester, an agent or the auto-close timer)."""
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(
        field=state, source=list(CANCELABLE_STATES), target=R.CANCELED, permission=_agent_or_requester_before_fulfilment
    )
    def cancel(self, *, by=None) -> None:
        """Withdrawn by the requester (before fulfilment) or canceled by an agent; open tasks are skipped."""
        self.closed_at = timezone.now()


class FulfilmentTask(ConcurrentTransitionMixin, Ticket):
    """One piece of fulfilment work on a requested item, for a team, with the template's instructions."""

    KIND = TicketKind.TASK
    STATE_CATEGORIES = FULFILMENT_TASK_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(
        Ticket, parent_link=True, on_delete=models.CASCADE, related_name="as_fulfilment_task"
    )
    state = FSMField(_("state"), default=T.OPEN, choices=T.choices, protected=True, db_index=True)
    requested_item = models.ForeignKey(
        RequestedItem, verbose_name=_("requested item"), on_delete=models.PROTECT, related_name="tasks"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    instructions = models.TextField(_("instructions"), blank=True)
    due_date = models.DateTimeField(_("due date"), null=True, blank=True, help_text=_("When the work should be done."))
    close_notes = models.TextField(_("close notes"), blank=True)

    class Meta:
        ordering = ["requested_item", "position", "id"]
        verbose_name = _("fulfilment task")
        verbose_name_plural = _("fulfilment tasks")

    @fsm_log_by
    @transition(field=state, source=T.OPEN, target=T.WORK_IN_PROGRESS, permission=_agent)
    def start(self, *, by=None) -> None:
        """Work begins."""

    @fsm_log_by
    @transition(field=state, source=list(OPEN_TASK_STATES), target=T.CLOSED_COMPLETE, permission=_agent)
    def close_complete(self, *, close_notes: str = "", by=None) -> None:
        """Done."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=list(OPEN_TASK_STATES), target=T.CLOSED_INCOMPLETE, permission=_agent)
    def close_incomplete(self, *, close_notes: str, by=None) -> None:
        """Could not be done; the notes say why (the item then closes incomplete)."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=list(OPEN_TASK_STATES), target=T.CLOSED_SKIPPED, permission=_agent)
    def skip(self, *, close_notes: str = "", by=None) -> None:
        """Not needed (or its item was canceled)."""
        self.close_notes = close_notes
        self.closed_at = timezone.now()


class SatisfactionRating(models.Model):
    """The caller's rating (1-5 and a comment) of a resolved incident or a delivered request item, once per ticket."""

    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="rating")
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5")
        ]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}/5"


def upload_path(instance: Upload, filename: str) -> str:
    # As for attachments: the stored name is random, with the validated extension; never the user's name.
    return f"uploads/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class Upload(models.Model):
    """A file an API client uploaded ahead of an order, waiting to become the answer of an attachment question.

    Only its owner can use it (by its random id); ordering turns it into an attachment of the requested item and
    removes it; unused ones expire after ITSM_UPLOAD_EXPIRY_HOURS.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(upload_to=upload_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["owner", "created_at"], name="upload_owner_created")]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self) -> str:
        return self.filename

    @property
    def expires_at(self):
        return self.created_at + timedelta(hours=settings.ITSM_UPLOAD_EXPIRY_HOURS)
