"""What practices tell the kernel about themselves at start-up (in their AppConfig.ready), so the kernel can call
back into them without importing them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApprovalPractice:
    """A practice whose tickets are approved: its type and risk values, and what happens when a policy decides.

    `on_approved(ticket_id=, by=)` runs when the last stage is met, `on_rejected(ticket_id=, by=, comment=)` when an
    approver rejects; both inside the deciding transaction. `configuration_items(ticket_id)` lists the CIs whose
    owner teams approve for the "CI owner team" source (default: the ticket's own CI).
    """

    kind: str
    type_choices: list[tuple[str, Any]]
    risk_choices: list[tuple[str, Any]]
    on_approved: Callable[..., None]
    on_rejected: Callable[..., None]
    configuration_items: Callable[[int], Iterable[Any]] | None = field(default=None)


_APPROVAL_PRACTICES: dict[str, ApprovalPractice] = {}


def approval_practice_register(practice: ApprovalPractice) -> None:
    """Register (or replace) a practice's approval callbacks."""
    _APPROVAL_PRACTICES[practice.kind] = practice


def approval_practice(kind: str) -> ApprovalPractice | None:
    """The registered approval practice for a ticket kind, if any."""
    return _APPROVAL_PRACTICES.get(kind)


# --- channels: how notifications are written and sent, and who hears of ticket events ---------------------------


@dataclass(frozen=True)
class NotificationChannel:
    """The app that turns outbox rows into mail (registered by the `mail` app; the kernel falls back to plain text).

    `compose(event=, ticket=, recipient=, subject=, body=)` returns the row's final `subject`, `body` and `html_body`,
    or None when the recipient does not want this event. `send(message)` sends one row or raises. `compose_many`
    (optional) does what `compose` does for a list of such keyword dicts, in order, reading what it needs for them
    all at once.
    """

    compose: Callable[..., dict[str, str] | None]
    send: Callable[[Any], None]
    compose_many: Callable[[list[dict[str, Any]]], list[dict[str, str] | None]] | None = field(default=None)


_CHANNEL: list[NotificationChannel] = []
_EVENT_LISTENERS: list[Callable[..., None]] = []


def notification_channel_register(channel: NotificationChannel) -> None:
    """Register (or replace) the notification channel."""
    _CHANNEL[:] = [channel]


def notification_channel() -> NotificationChannel | None:
    """The registered notification channel, if any."""
    return _CHANNEL[0] if _CHANNEL else None


def event_listener_register(listener: Callable[..., None]) -> None:
    """Call `listener(event=, ticket=, key=, data=)` for every ticket event, inside the transaction that caused it."""
    if listener not in _EVENT_LISTENERS:
        _EVENT_LISTENERS.append(listener)


def events_emit(*, event: str, ticket: Any, key: str, data: dict[str, Any]) -> None:
    """Tell every listener of one event (webhooks, notifications); `key` makes the event unique for idempotency."""
    for listener in _EVENT_LISTENERS:
        listener(event=event, ticket=ticket, key=key, data=data)


# Who a person's manager is lives outside the kernel (the requests app keeps it); the "requester's manager"
# approver source asks through this lookup and falls back to the managers of the requester's teams.
_MANAGER_LOOKUPS: list[Callable[[int], Iterable[Any]]] = []


def manager_lookup_register(lookup: Callable[[int], Iterable[Any]]) -> None:
    """Register a function user id -> that user's managers (registering the same function twice is a no-op)."""
    if lookup not in _MANAGER_LOOKUPS:
        _MANAGER_LOOKUPS.append(lookup)


def user_managers(user_id: int) -> list[Any]:
    """The managers the registered lookups give for this user (empty when none knows)."""
    return [manager for lookup in _MANAGER_LOOKUPS for manager in lookup(user_id)]


# --- the one-click category suggestion (the automation app's learned categoriser) ----------------------------------


@dataclass(frozen=True)
class SuggestionProvider:
    """Where the kernel's ticket page and API find a ticket's pending category suggestion, without importing it.

    `pending(ticket)` returns the suggestion an agent may still apply (a dict with `category`, `assignment_group`,
    `confidence`, `group_confidence`) or None; `apply(ticket=, by=)` applies it through its service (journaled with
    the confidence) and `dismiss(ticket=, by=)` hides it; both raise ValidationError when nothing is pending.
    """

    pending: Callable[[Any], dict[str, Any] | None]
    apply: Callable[..., Any]
    dismiss: Callable[..., Any]


_SUGGESTIONS: list[SuggestionProvider] = []


def suggestion_provider_register(provider: SuggestionProvider) -> None:
    """Register (or replace) the suggestion provider."""
    _SUGGESTIONS[:] = [provider]


def suggestion_provider() -> SuggestionProvider | None:
    """The registered suggestion provider, if any."""
    return _SUGGESTIONS[0] if _SUGGESTIONS else None
