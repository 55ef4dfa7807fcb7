"""Signed one-click approval links for notification emails.

The link names one approval and its approver, signed with the secret key (django.core.signing) and valid for
`ITSM_APPROVAL_LINK_MAX_AGE_DAYS`. Opening it (GET) only shows a confirmation page: mail scanners that prefetch links
decide nothing. The decision is a POST from that page, by the signed-in approver the link was issued to, through the
same approval services as the API; a decided or withdrawn approval says so instead of offering the buttons.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from itsm.enums import ApprovalState
from itsm.models import Approval

SALT = "itsm.approval-link"


def approval_link_token(approval: Approval) -> str:
    """A signed, timestamped token naming the approval and its approver."""
    return signing.dumps({"a": approval.pk, "u": approval.approver_id}, salt=SALT)


def approval_link_url(approval: Approval) -> str:
    """The absolute one-click link for the approval's notification."""
    path = reverse("approval_link", kwargs={"token": approval_link_token(approval)})
    return f"{settings.ITSM_SITE_URL}{path}"


def _max_age() -> int:
    return getattr(settings, "ITSM_APPROVAL_LINK_MAX_AGE_DAYS", 7) * 86400


def _page(request: HttpRequest, status: int, **context) -> HttpResponse:
    return render(request, "approvals/link.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm page (approve / reject with a comment); POST: decide. Only for the approver the link names."""
    try:
        data = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.SignatureExpired:
        return _page(request, 410, problem=_("This approval link has expired. Decide from your approvals list."))
    except signing.BadSignature:
        return _page(request, 400, problem=_("This approval link is not valid."))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    approval = (
        Approval.objects.select_related("ticket", "approver", "policy").filter(pk=data.get("a")).first()
        if isinstance(data, dict)
        else None
    )
    if approval is None or approval.approver_id != data.get("u") or request.user.pk != approval.approver_id:
        # Another user (a forwarded mail, a shared screen) learns nothing about the approval.
        return _page(request, 404, problem=_("This approval link was issued to another user."))
    context = {"approval": approval, "ticket": approval.ticket}
    if approval.state != ApprovalState.REQUESTED:
        return _page(request, 409, **context, decided=True)
    if request.method == "GET":
        return _page(request, 200, **context)
    decision = request.POST.get("decision")
    comment = (request.POST.get("comment") or "").strip()
    from itsm.services import approval_approve, approval_reject

    service = {"approve": approval_approve, "reject": approval_reject}.get(decision or "")
    if service is None:
        return _page(request, 400, **context, errors={"decision": _("Choose approve or reject.")}, comment=comment)
    try:
        service(approval=approval, by=request.user, comment=comment)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"decision": error.messages}
        return _page(request, 400, **context, errors=errors, comment=comment)
    except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
        approval.refresh_from_db()
        return _page(request, 409, **context, decided=True)
    approval.refresh_from_db()
    return _page(request, 200, **context, done=True)
