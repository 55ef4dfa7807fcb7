"""The incident record and its state machine, with admin-editable hold reasons and close codes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by

from incidents.enums import (
    INCIDENT_STATE_CATEGORIES,
    INCIDENT_STATE_CODES,
    IncidentState,
)
from itsm.enums import StateCategory, TicketKind
from itsm.models import Ticket
from itsm.rules import is_agent

S = IncidentState


def _agent(instance: Incident, user) -> bool:
    return is_agent(user)


def _agent_or_caller(instance: Incident, user) -> bool:
    return is_agent(user) or (user.is_authenticated and instance.caller_id == user.pk)


def _agent_or_awaited_caller(instance: Incident, user) -> bool:
    """The caller may take an incident off hold only when it is waiting for them."""
    awaited = instance.hold_reason is not None and instance.hold_reason.category == StateCategory.PENDING_CUSTOMER
    return is_agent(user) or (awaited and user.is_authenticated and instance.caller_id == user.pk)


class HoldReason(models.Model):
    """Why an incident is on hold; the category decides whether the customer or a third party is awaited."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    category = models.CharField(
        _("state category"),
        max_length=24,
        choices=[
            (StateCategory.PENDING_CUSTOMER, StateCategory.PENDING_CUSTOMER.label),
            (StateCategory.PENDING_THIRD_PARTY, StateCategory.PENDING_THIRD_PARTY.label),
        ],
        default=StateCategory.PENDING_THIRD_PARTY,
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("hold reason")
        verbose_name_plural = _("hold reasons")

    def __str__(self) -> str:
        return self.name


class CloseCode(models.Model):
    """How an incident was resolved."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("close code")
        verbose_name_plural = _("close codes")

    def __str__(self) -> str:
        return self.name


class Incident(ConcurrentTransitionMixin, Ticket):
    """An unplanned interruption or reduction in quality of a service."""

    KIND = TicketKind.INCIDENT
    STATE_CATEGORIES = INCIDENT_STATE_CATEGORIES

    ticket_ptr = models.OneToOneField(Ticket, parent_link=True, on_delete=models.CASCADE, related_name="incident")
    state = FSMField(_("state"), default=S.NEW, choices=S.choices, protected=True, db_index=True)
    hold_reason = models.ForeignKey(
        HoldReason, verbose_name=_("hold reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    close_code = models.ForeignKey(
        CloseCode, verbose_name=_("close code"), null=True, blank=True, on_delete=models.PROTECT
    )
    close_notes = models.TextField(_("close notes"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    major_incident = models.BooleanField(_("major incident"), default=False)
    problem = models.ForeignKey(
        "problems.Problem",
        verbose_name=_("problem"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    caused_by_change = models.ForeignKey(
        "changes.Change",
        verbose_name=_("caused by change"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caused_incidents",
    )
    reopen_count = models.PositiveSmallIntegerField(_("reopen count"), default=0, editable=False)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [("work_incident", "Can work incidents (agent)")]

    @property
    def state_code(self) -> int:
        return INCIDENT_STATE_CODES[self.state]

    def sync_state_category(self, state: str) -> None:
        super().sync_state_category(state)
        if state == S.ON_HOLD and self.hold_reason is not None:
            self.state_category = self.hold_reason.category

    # --- transitions: they change fields on self and nothing else -------------------------------------------

    @fsm_log_by
    @transition(field=state, source=S.NEW, target=S.IN_PROGRESS, permission=_agent)
    def start(self, *, by=None) -> None:
        """Work begins."""

    @fsm_log_by
    @transition(field=state, source=[S.NEW, S.IN_PROGRESS, S.ON_HOLD], target=S.ON_HOLD, permission=_agent)
    def hold(self, *, reason: HoldReason, by=None) -> None:
        """Wait for the caller, a problem, a vendor or a change (holding again changes the reason)."""
        self.hold_reason = reason

    @fsm_log_by
    @transition(field=state, source=S.ON_HOLD, target=S.IN_PROGRESS, permission=_agent_or_awaited_caller)
    def resume(self, *, by=None) -> None:
        """Work goes on (an agent resumes it, or the caller's reply does)."""
        self.hold_reason = None

    @fsm_log_by
    @transition(field=state, source=[S.NEW, S.IN_PROGRESS, S.ON_HOLD], target=S.RESOLVED, permission=_agent)
    def resolve(self, *, close_code: CloseCode, close_notes: str, by=None) -> None:
        """Service is restored; the caller is asked to confirm."""
        self.hold_reason = None
        self.close_code = close_code
        self.close_notes = close_notes
        self.resolved_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=S.RESOLVED, target=S.IN_PROGRESS, permission=_agent_or_caller)
    def reopen(self, *, by=None) -> None:
        """The fix did not hold."""
        self.close_code = None
        self.close_notes = ""
        self.resolved_at = None
        self.reopen_count += 1

    @fsm_log_by
    @transition(field=state, source=S.RESOLVED, target=S.CLOSED, permission=_agent_or_caller)
    def close(self, *, by=None) -> None:
        """The resolution is confirmed, by the caller, an agent or the auto-close timer."""
        self.closed_at = timezone.now()

    @fsm_log_by
    @transition(field=state, source=[S.NEW, S.IN_PROGRESS, S.ON_HOLD], target=S.CANCELED, permission=_agent)
    def cancel(self, *, by=None) -> None:
        """Not an incident, a duplicate, or raised in error."""
        self.hold_reason = None
        self.closed_at = timezone.now()
