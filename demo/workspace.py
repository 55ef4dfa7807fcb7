"""Demo data for the agent workspace: a few saved filters per demo agent, so the sidebar shows them."""

from __future__ import annotations

from django.contrib.auth.models import User

from itsm.models import SavedFilter

SAVED_FILTERS = [
    ("incidents", "Critical and high, open", "priority=1&priority=2&active=true&sort=-opened"),
    ("incidents", "Major incidents", "major_incident=true&active=true"),
    (
        "incidents",
        "On hold",
        "state=on_hold&active=true&cols=number,short_description,hold_reason,caller,assigned_to,updated",
    ),
    (
        "changes",
        "Scheduled changes",
        "state=scheduled&sort=planned_start&cols=number,short_description,change_type,risk,planned_start,planned_end,assigned_to",
    ),
    ("tickets", "My open, oldest first", "queue=mine&sort=opened"),
]


def seed_saved_filters() -> int:
    """Give every demo agent the same handful of saved list views (safe to run again)."""
    created = 0
    for user in User.objects.filter(username__startswith="agent"):
        for practice, name, query in SAVED_FILTERS:
            _row, made = SavedFilter.objects.get_or_create(
                user=user, practice=practice, name=name, defaults={"query": query}
            )
            created += made
    return created
