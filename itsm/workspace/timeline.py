"""The journal as one timeline: comments, work notes, field changes (grouped per actor and moment), transitions,
SLA milestones and mail, oldest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from itsm.enums import JournalKind
from itsm.models import JournalEntry


@dataclass
class TimelineItem:
    """One row of the journal timeline; consecutive field changes by one actor at one moment form one row."""

    kind: str
    actor: Any
    created_at: Any
    body: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    transition: str = ""
    from_state: str = ""
    to_state: str = ""
    from_value: str = ""
    to_value: str = ""


def _field_label(model: type, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except Exception:
        return name.replace("_", " ").capitalize()


def _value_label(model: type, name: str, value: str) -> str:
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return value
    choices = getattr(model_field, "choices", None)
    if choices:
        labels = {str(k): str(v) for k, v in choices}
        return labels.get(value, value)
    if model_field.get_internal_type() == "BooleanField":
        return _("Yes") if value in ("True", "1") else _("No")
    return value


def journal_timeline(entries: list[JournalEntry], *, practice) -> list[TimelineItem]:
    """Present journal entries for the timeline, oldest first, with the practice's field and state labels."""
    model = practice.model
    items: list[TimelineItem] = []
    for entry in entries:
        if entry.kind == JournalKind.FIELD_CHANGE:
            change = (
                _field_label(model, entry.field),
                _value_label(model, entry.field, entry.old_value),
                _value_label(model, entry.field, entry.new_value),
            )
            last = items[-1] if items else None
            if (
                last is not None
                and last.kind == JournalKind.FIELD_CHANGE
                and last.actor == entry.actor
                and last.created_at == entry.created_at
            ):
                last.changes.append(change)
                continue
            items.append(
                TimelineItem(kind=entry.kind, actor=entry.actor, created_at=entry.created_at, changes=[change])
            )
        elif entry.kind == JournalKind.TRANSITION:
            items.append(
                TimelineItem(
                    kind=entry.kind,
                    actor=entry.actor,
                    created_at=entry.created_at,
                    body=entry.body,
                    transition=entry.transition,
                    from_state=practice.state_label(entry.from_state) if entry.from_state else "",
                    to_state=practice.state_label(entry.to_state),
                    from_value=entry.from_state,
                    to_value=entry.to_state,
                )
            )
        else:
            items.append(TimelineItem(kind=entry.kind, actor=entry.actor, created_at=entry.created_at, body=entry.body))
    return items
