"""Kernel models: teams, the Ticket parent of every practice record, numbering, the priority matrix, the journal,
attachments, the notification outbox, and approvals with their policies."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from itsm.enums import (
    INACTIVE_CATEGORIES,
    ApprovalRule,
    ApprovalState,
    ApproverSource,
    Impact,
    JournalKind,
    OutboxStatus,
    Priority,
    StateCategory,
    TicketKind,
    Urgency,
)


class Team(models.Model):
    """An assignment group: agents who work tickets together, with a manager."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class NumberSequence(models.Model):
    """The last number handed out for one prefix; a row lock makes numbering safe under concurrent creation."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last_value = models.BigIntegerField(default=1000)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.prefix}{self.last_value:07d}"


class PriorityRule(models.Model):
    """One cell of the impact x urgency -> priority matrix, editable by admins."""

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique_cell")]
        verbose_name = _("priority rule")
        verbose_name_plural = _("priority matrix")

    def __str__(self) -> str:
        return f"impact {self.impact} x urgency {self.urgency} -> {self.priority}"


class Category(models.Model):
    """A ticket category of one practice or, with a parent, one of its subcategories (two levels, admin-editable)."""

    practice = models.CharField(_("practice"), max_length=20, choices=TicketKind.choices)
    name = models.CharField(_("name"), max_length=80)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("Set for a subcategory."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["practice", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"], condition=models.Q(parent__isnull=True), name="category_unique_top_name"
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_sub_name"),
        ]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id is not None:
            if self.parent.parent_id is not None:
                raise ValidationError({"parent": _("A subcategory cannot have subcategories.")})
            if self.parent.practice != self.practice:
                raise ValidationError({"parent": _("The parent category belongs to another practice.")})
            if self.pk is not None and self.parent_id == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own parent.")})


class Ticket(models.Model):
    """The parent of every record people work (incident, problem, change, request, task): multi-table inheritance."""

    # Each practice maps every one of its states to a StateCategory.
    STATE_CATEGORIES: dict[str, str] = {}

    number = models.CharField(_("number"), max_length=16, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=TicketKind.choices, editable=False, db_index=True)
    short_description = models.CharField(_("short description"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("caller"), on_delete=models.PROTECT, related_name="tickets_called"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets_opened",
    )
    assignment_group = models.ForeignKey(
        Team,
        verbose_name=_("assignment group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets_assigned",
    )
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    configuration_item = models.ForeignKey(
        "catalog.ConfigurationItem",
        verbose_name=_("configuration item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": True},
    )
    subcategory = models.ForeignKey(
        Category,
        verbose_name=_("subcategory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": False},
    )
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices, default=Impact.LOW)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.LOW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.LOW, editable=False
    )
    state_category = models.CharField(
        _("state category"), max_length=24, choices=StateCategory.choices, default=StateCategory.NEW, editable=False
    )
    active = models.BooleanField(_("active"), default=True, editable=False)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Bumped by the kernel on every field change and transition (itsm.services.ticket_version_bump): the workspace
    # and the API's If-Match / ETag refuse to overwrite a ticket someone else changed meanwhile.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # The watch list (ServiceNow's): people kept informed of the ticket's public progress; changed only through
    # itsm.services.ticket_watcher_add / ticket_watcher_remove, which journal it.
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        through="TicketWatcher",
        through_fields=("ticket", "user"),
        blank=True,
        related_name="watched_tickets",
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # With the id: lists order by (opened_at, id), and the bench's copied histories share opened_at values
            # (a page then sorted every tie through its joins).
            models.Index(fields=["kind", "-opened_at", "-id"], name="ticket_kind_opened_id"),
            models.Index(fields=["assignment_group", "state_category", "priority"], name="ticket_group_queue"),
            models.Index(fields=["assigned_to", "active"], name="ticket_assignee_active"),
            models.Index(fields=["caller", "-opened_at"], name="ticket_caller_opened"),
            models.Index(fields=["state_category", "priority", "opened_at"], name="ticket_category_priority"),
            # The workspace queues: keyset pages over (sort column, id) within a kind, a team or an assignee.
            models.Index(fields=["kind", "active", "-opened_at", "-id"], name="ticket_kind_active_opened"),
            models.Index(fields=["assignment_group", "active", "-opened_at", "-id"], name="ticket_group_active_opened"),
            models.Index(fields=["assigned_to", "active", "-opened_at", "-id"], name="ticket_assignee_opened"),
            # A practice's list filtered by team, open or not (its page and capped count: 12 and 25 ms -> 1 and 2 ms
            # at 200,000 incidents, where the kind index read every ticket of the practice to find the team's).
            models.Index(fields=["assignment_group", "kind", "-opened_at", "-id"], name="ticket_group_kind_opened"),
            # The same ordered by priority and age (the API's filtered list, the queue sorted by priority): the team's
            # rows are walked in order until a page of them is in the wanted state (12 ms -> 4 ms at a million
            # incidents, where the team's 5,000 incidents were hashed against the 40,000 in the state, then sorted).
            models.Index(
                fields=["assignment_group", "kind", "priority", "opened_at", "id"], name="ticket_group_kind_priority"
            ),
            models.Index(fields=["kind", "-updated_at", "-id"], name="ticket_kind_updated"),
            models.Index(fields=["kind", "priority", "-opened_at", "-id"], name="ticket_kind_priority"),
            # Open tickets on the same configuration item (the ticket page's "related" card).
            models.Index(fields=["configuration_item", "active", "-opened_at", "-id"], name="ticket_ci_active_opened"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    def sync_state_category(self, state: str) -> None:
        """Derive the category and active flag from the practice state; called after every transition."""
        self.state_category = self.STATE_CATEGORIES[state]
        self.active = self.state_category not in INACTIVE_CATEGORIES


class TicketWatcher(models.Model):
    """One person on a ticket's watch list: who added them and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="watcher_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watcher_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("watcher")
        verbose_name_plural = _("watchers")
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_watcher_unique")]
        # "Tickets I watch": the unique constraint serves the ticket side.
        indexes = [models.Index(fields=["user", "ticket"], name="ticket_watcher_user")]

    def __str__(self) -> str:
        return f"{self.user} watches {self.ticket_id}"


class JournalEntry(models.Model):
    """One line of a ticket's history: a comment, a work note, a field change or a transition, with actor and time."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="journal")
    kind = models.CharField(_("kind"), max_length=16, choices=JournalKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    body = models.TextField(_("body"), blank=True)
    field = models.CharField(_("field"), max_length=64, blank=True)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    transition = models.CharField(_("transition"), max_length=32, blank=True)
    from_state = models.CharField(_("from state"), max_length=32, blank=True)
    to_state = models.CharField(_("to state"), max_length=32, blank=True)
    # Machine-readable values, so the SLA engine can replay a ticket's history from its journal.
    state_category = models.CharField(_("state category after"), max_length=24, blank=True)
    old_raw = models.CharField(_("old raw value"), max_length=64, blank=True)
    new_raw = models.CharField(_("new raw value"), max_length=64, blank=True)
    # The ticket's version this entry produced (field changes and transitions): "what changed since version N".
    ticket_version = models.PositiveIntegerField(_("ticket version"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="journal_ticket_time")]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id} at {self.created_at:%Y-%m-%d %H:%M}"


class SavedFilter(models.Model):
    """A user's named list view in the workspace: a practice (or queue), its filters, sort and columns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    practice = models.CharField(_("list"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("query string"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["practice", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "practice", "name"], name="saved_filter_unique_name"),
        ]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.practice} / {self.name}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the user: it is a random id with the validated extension.
    suffix = PurePath(filename).suffix.lower()
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file attached to a ticket: size-limited, type allow-listed, always served as a download."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    public = models.BooleanField(_("visible to the caller"), default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class OutboxMessage(models.Model):
    """A notification written in the same transaction as the change that caused it, sent later by a worker."""

    event = models.CharField(_("event"), max_length=64)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt not before"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_pending")]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")

    def __str__(self) -> str:
        return f"{self.event} to {self.to_email}"


class ApprovalPolicy(models.Model):
    """Who must approve a practice's tickets of one type and risk: ordered stages, each with its approvers and rule.

    The first active policy (by order) whose practice, type and risk match is used; blank type or risk matches any.
    Type and risk values are the practice's own (checked against what the practice registered in the kernel).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    practice = models.CharField(_("practice"), max_length=20, choices=TicketKind.choices, default=TicketKind.CHANGE)
    ticket_type = models.CharField(
        _("type"), max_length=20, blank=True, help_text=_("The practice's type (a change type); blank for any.")
    )
    risk = models.CharField(_("risk"), max_length=20, blank=True, help_text=_("Blank for any risk."))
    order = models.PositiveSmallIntegerField(_("order"), default=100, help_text=_("Lower is tried first."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["practice", "order", "name"]
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from itsm.registry import approval_practice

        practice = approval_practice(self.practice)
        if practice is None:
            raise ValidationError({"practice": _("This practice has no approvals.")})
        errors = {}
        if self.ticket_type and self.ticket_type not in dict(practice.type_choices):
            errors["ticket_type"] = _("Must be one of: %s.") % ", ".join(dict(practice.type_choices))
        if self.risk and self.risk not in dict(practice.risk_choices):
            errors["risk"] = _("Must be one of: %s.") % ", ".join(dict(practice.risk_choices))
        if errors:
            raise ValidationError(errors)


class ApprovalStage(models.Model):
    """One stage of a policy: its approvers are asked together (in parallel); stages run one after another."""

    policy = models.ForeignKey(
        ApprovalPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="stages"
    )
    number = models.PositiveSmallIntegerField(_("stage"), default=1)
    source = models.CharField(
        _("approvers"), max_length=20, choices=ApproverSource.choices, default=ApproverSource.USERS
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="+")
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="approval_stages"
    )
    rule = models.CharField(_("rule"), max_length=10, choices=ApprovalRule.choices, default=ApprovalRule.ANY)
    required = models.PositiveSmallIntegerField(
        _("approvals required"), default=1, help_text=_("N, for the 'N of the approvers' rule.")
    )

    class Meta:
        ordering = ["policy", "number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="approval_stage_unique_number")]
        verbose_name = _("approval stage")
        verbose_name_plural = _("approval stages")

    def __str__(self) -> str:
        return f"{self.policy} stage {self.number}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.source == ApproverSource.TEAM and self.team_id is None:
            raise ValidationError({"team": _("Name the team whose members approve.")})
        if self.rule == ApprovalRule.N_OF_M and self.required < 1:
            raise ValidationError({"required": _("At least one approval is required.")})


def _is_approver(approval: Approval, user) -> bool:
    return user is not None and user.is_authenticated and user.pk == approval.approver_id


class Approval(ConcurrentTransitionMixin, models.Model):
    """One approver's decision on a ticket at one stage of its approval policy."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="approvals")
    policy = models.ForeignKey(
        ApprovalPolicy, verbose_name=_("policy"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.PositiveSmallIntegerField(_("stage"), default=1)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="approvals"
    )
    state = FSMField(
        _("state"), default=ApprovalState.REQUESTED, choices=ApprovalState.choices, protected=True, db_index=True
    )
    comment = models.TextField(_("comment"), blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["ticket", "stage", "id"]
        indexes = [
            models.Index(fields=["approver", "state"], name="approval_approver_state"),
            models.Index(fields=["ticket", "stage", "state"], name="approval_ticket_stage"),
        ]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")

    def __str__(self) -> str:
        return f"{self.ticket_id} stage {self.stage}: {self.approver_id} {self.state}"

    @transition(field=state, source=ApprovalState.REQUESTED, target=ApprovalState.APPROVED, permission=_is_approver)
    def approve(self, *, comment: str = "") -> None:
        """The approver agrees."""
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=ApprovalState.REQUESTED, target=ApprovalState.REJECTED, permission=_is_approver)
    def reject(self, *, comment: str = "") -> None:
        """The approver refuses."""
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=ApprovalState.REQUESTED, target=ApprovalState.WITHDRAWN)
    def withdraw(self) -> None:
        """The ticket no longer asks (rejected, reverted or canceled)."""
        self.decided_at = timezone.now()

    @transition(field=state, source=ApprovalState.REQUESTED, target=ApprovalState.SKIPPED)
    def skip(self) -> None:
        """The stage was met without this approver."""
        self.decided_at = timezone.now()
