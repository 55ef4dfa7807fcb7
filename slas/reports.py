"""SLA reports: compliance (met / breached / in progress) over a date range, grouped one way, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.enums import Priority, TicketKind
from itsm.models import Team
from slas.enums import ClockStage
from slas.models import SLAClock

# group_by -> (the column that keys a group, the column that names it, or None when the name comes from choices)
GROUPINGS: dict[str, tuple[str, str | None]] = {
    "definition": ("definition_id", "definition__name"),
    "practice": ("ticket__kind", None),
    "team": ("ticket__assignment_group_id", "ticket__assignment_group__name"),
    "service": ("ticket__service_id", "ticket__service__name"),
    "priority": ("ticket__priority", None),
    "category": ("ticket__category_id", "ticket__category__name"),
}
GROUP_BY_CHOICES = [
    ("definition", gettext_lazy("SLA definition")),
    ("practice", gettext_lazy("Practice")),
    ("team", gettext_lazy("Team")),
    ("service", gettext_lazy("Service")),
    ("priority", gettext_lazy("Priority")),
    ("category", gettext_lazy("Category")),
]
OUTCOMES = ("met", "breached", "in_progress", "cancelled")


@dataclass(frozen=True)
class ComplianceRow:
    """One group's clock counts; the compliance rate counts finished clocks only (met and breached)."""

    key: Any
    label: str
    met: int = 0
    breached: int = 0
    in_progress: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached + self.in_progress + self.cancelled

    @property
    def compliance(self) -> float | None:
        """met / (met + breached) in percent, rounded down to one decimal (so 99.96 never shows as 100); None when
        nothing has finished yet."""
        finished = self.met + self.breached
        return (self.met * 1000 // finished) / 10 if finished else None


def _outcome(now: datetime) -> Case:
    # Every clock falls in exactly one outcome. A running clock past its due time counts as breached even before the
    # sweep records the breach (what the incident page shows too). A breach stays a breach when the clock is cancelled
    # afterwards (an escalation that raises the priority cancels it); a cancelled clock that never breached counts as
    # cancelled, as the ticket got a replacement clock (a priority change) that is counted instead.
    breached = (
        Q(has_breached=True)
        | Q(stage=ClockStage.IN_PROGRESS, due_at__lte=now)
        | Q(business_elapsed__gte=F("duration_seconds"))
    )
    return Case(
        When(has_breached=True, then=Value("breached")),
        When(stage=ClockStage.CANCELLED, then=Value("cancelled")),
        When(breached, then=Value("breached")),
        When(stage=ClockStage.COMPLETED, then=Value("met")),
        default=Value("in_progress"),
        output_field=CharField(),
    )


def _label(group_by: str, key: Any, name: str | None) -> str:
    if group_by == "practice":
        return str(TicketKind(key).label) if key in TicketKind.values else str(key)
    if group_by == "priority":
        return str(Priority(key).label) if key in Priority.values else str(key)
    if key is None:
        return {"team": _("No assignment group"), "category": _("No category")}.get(group_by, _("No service"))
    return name or str(key)


def _sort_key(group_by: str, row: ComplianceRow) -> tuple:
    if group_by == "practice":
        return (TicketKind.values.index(row.key) if row.key in TicketKind.values else len(TicketKind.values),)
    if group_by == "priority":
        return (row.key,)
    # Named groups alphabetically, the "none" group last.
    return (row.key is None, row.label.casefold(), row.key or 0)


def sla_compliance(
    *,
    start: datetime,
    end: datetime,
    group_by: str,
    practice: str | None = None,
    team: Team | int | None = None,
) -> list[ComplianceRow]:
    """Per group, how many clocks started in [start, end) were met, breached, still running or cancelled.

    One GROUP BY query, whatever the number of clocks or groups. Teams, services and categories are the ticket's
    current assignment group, service and (top-level) category; practice is the ticket's kind.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"Unknown group_by {group_by!r}; one of {', '.join(GROUPINGS)}.")
    key_column, name_column = GROUPINGS[group_by]
    clocks = SLAClock.objects.filter(started_at__gte=start, started_at__lt=end)
    if practice:
        clocks = clocks.filter(ticket__kind=practice)
    if team is not None:
        clocks = clocks.filter(ticket__assignment_group=team)
    columns = {"group_key": F(key_column)}
    if name_column:
        columns["group_name"] = F(name_column)
    counts = {name: Count("pk", filter=Q(outcome=name)) for name in OUTCOMES}
    result = (
        clocks.alias(outcome=_outcome(timezone.now()))
        .values(**columns)
        .annotate(**counts)
        .order_by()  # the model's default ordering would otherwise join the GROUP BY
    )
    rows = [
        ComplianceRow(
            key=item["group_key"],
            label=_label(group_by, item["group_key"], item.get("group_name")),
            **{name: item[name] for name in OUTCOMES},
        )
        for item in result
    ]
    return sorted(rows, key=lambda row: _sort_key(group_by, row))


def compliance_total(*, rows: list[ComplianceRow]) -> ComplianceRow:
    """The rows added up (every clock is in exactly one row, so this is the whole range)."""
    return ComplianceRow(
        key=None,
        label=_("All"),
        **{name: sum(getattr(row, name) for row in rows) for name in OUTCOMES},
    )
