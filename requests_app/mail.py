"""Mail into service requests: a mailbox set to create requests orders its catalog item for the sender (subject and
text answer the questions the mailbox names), and replies to a request or a requested item become public comments.

Registered with the mail app in RequestsAppConfig.ready (the mail app does not import this practice).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from catalog.selectors import catalog_item_current_version
from catalog.variables import LONG_TEXT_DEFAULT_MAX, TEXT_DEFAULT_MAX
from itsm.enums import JournalKind
from itsm.models import Ticket
from itsm.rules import is_agent
from requests_app import services
from requests_app.models import Request, RequestedItem

CUT_NOTE = "\n[... cut here; the whole message is kept with the request.]"


def _fit(text: str, var: dict) -> str:
    limit = var.get("max_length") or (LONG_TEXT_DEFAULT_MAX if var["type"] == "long_text" else TEXT_DEFAULT_MAX)
    text = text.strip()
    if len(text) <= limit:
        return text
    if var["type"] != "long_text" or limit <= len(CUT_NOTE) + 20:
        return text[: limit - 1].rstrip() + "…"
    return text[: limit - len(CUT_NOTE)].rstrip() + CUT_NOTE


def request_create_from_mail(*, by: User, subject: str, body: str, mailbox: Any = None) -> Ticket:
    """Order the mailbox's catalog item for the sender through request_create (approval policy and fulfilment tasks
    as for any order); returns the requested item, which keeps the message and its attachments."""
    if mailbox is None or mailbox.catalog_item_id is None:
        raise ValidationError({"catalog_item": ["The mailbox names no catalog item to order."]})
    from mail.models import mailbox_request_errors

    errors = mailbox_request_errors(mailbox)
    if errors:
        raise ValidationError(errors)
    version = catalog_item_current_version(item=mailbox.catalog_item)
    variables = {var["name"]: var for var in version.definition.get("variables", [])}
    answers = {}
    if mailbox.subject_variable:
        answers[mailbox.subject_variable] = _fit(subject, variables[mailbox.subject_variable])
    answers[mailbox.body_variable] = _fit(body, variables[mailbox.body_variable])
    request = services.request_create(
        by=by, items=[{"catalog_item": mailbox.catalog_item_id, "quantity": 1, "variables": answers}]
    )
    return request.items.order_by("pk").first()


def requested_item_comment_from_mail(*, ticket: Ticket, by: User, body: str) -> None:
    item = RequestedItem.objects.get(pk=ticket.pk)
    services.requested_item_comment(item=item, by=by, body=body, kind=JournalKind.COMMENT)


def request_comment_from_mail(*, ticket: Ticket, by: User, body: str) -> None:
    """A reply to a request: an agent's is a comment on the request; the requester writes on their items (as in
    the portal), so theirs goes to the request's first open item."""
    request = Request.objects.get(pk=ticket.pk)
    if is_agent(by):
        services.request_comment(request=request, by=by, body=body, kind=JournalKind.COMMENT)
        return
    item = request.items.filter(active=True).order_by("pk").first()
    if item is None:
        raise ValidationError({"body": f"{request.number} has no open item to comment on."})
    services.requested_item_comment(item=item, by=by, body=body, kind=JournalKind.COMMENT)
