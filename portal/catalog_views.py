"""Portal ordering: the catalog by category, an item's form rendered from its published definition (show-when
rules live in the page, checked again on the server by the one validation), the cart, and my requested items."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from catalog.enums import VariableType
from catalog.models import ConfigurationItem
from catalog.selectors import catalog_categories_with_items, catalog_item_current_version, catalog_items_available_to
from itsm.enums import ApprovalState
from itsm.models import Approval
from portal.common import conversation, my_requested_item, promise, public_files
from portal.forms import AttachmentForm, CommentForm, RatingForm, WithdrawForm
from requests_app.enums import WITHDRAWABLE_STATES, RequestedItemState
from requests_app.models import RequestedItem, SatisfactionRating
from requests_app.services import (
    order_line_validate,
    request_create,
    requested_item_cancel,
    requested_item_close,
    requested_item_comment,
)

CART = "portal_cart"
CART_LIMIT = 20


@login_required
def catalog(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Every category with its items, or one category."""
    categories = catalog_categories_with_items(user=request.user)
    current = None
    if slug is not None:
        current = next((c for c in categories if c.slug == slug), None)
        if current is None:
            raise Http404
    context = {"categories": categories, "current": current, "shown": [current] if current else categories}
    return render(request, "portal/catalog.html", context)


def _raw_values(request: HttpRequest, definition: dict) -> tuple[dict, dict]:
    values, files = {}, {}
    for var in definition.get("variables", []):
        name = var["name"]
        if var["type"] == VariableType.ATTACHMENT:
            if name in request.FILES:
                files[name] = request.FILES[name]
        elif var["type"] == VariableType.MULTIPLE_CHOICE:
            values[name] = request.POST.getlist(name)
        elif name in request.POST:
            values[name] = request.POST[name]
    return values, files


def _fields(definition: dict, values: dict, errors: dict) -> list[dict]:
    """Each question with what the page needs to draw it: its current answer(s) and its error."""
    fields = []
    for var in definition.get("variables", []):
        value = values.get(var["name"], var.get("default") or "")
        fields.append(
            {
                **var,
                "value": value if not isinstance(value, list) else "",
                "values": value if isinstance(value, list) else [value],
                "error": " ".join(errors.get(f"variables.{var['name']}", [])),
            }
        )
    return fields


@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """An item's page: its description and form; order it now, or put it in the cart."""
    catalog_item = catalog_items_available_to(user=request.user).filter(pk=pk).first()
    if catalog_item is None:
        raise Http404
    definition = catalog_item_current_version(item=catalog_item).definition
    has_files = any(var["type"] == VariableType.ATTACHMENT for var in definition.get("variables", []))
    values: dict = {}
    errors: dict = {}
    quantity = request.POST.get("quantity", "1")
    if request.method == "POST":
        values, files = _raw_values(request, definition)
        action = request.POST.get("action", "order")
        try:
            if action == "cart" and not has_files:
                _item, _version, qty, stored, display = order_line_validate(
                    user=request.user, catalog_item=catalog_item.pk, quantity=quantity, variables=values
                )
                cart = request.session.get(CART, [])
                if len(cart) >= CART_LIMIT:
                    raise ValidationError({"quantity": [_("Your cart is full; submit it first.")]})
                answers = [[v["label"], display[v["name"]]] for v in definition["variables"] if v["name"] in display]
                cart.append({"item": catalog_item.pk, "quantity": qty, "variables": stored, "answers": answers})
                request.session[CART] = cart
                messages.success(request, _("%(name)s is in your cart.") % {"name": catalog_item.name})
                return redirect("portal:cart")
            order = request_create(
                by=request.user,
                items=[{"catalog_item": catalog_item.pk, "quantity": quantity, "variables": values, "files": files}],
            )
        except ValidationError as error:
            errors = {key.removeprefix("items[0]."): msgs for key, msgs in error.message_dict.items()}
        else:
            ritm = order.items.order_by("pk").first()
            messages.success(
                request,
                _("Thank you. Your request %(number)s has been submitted.") % {"number": ritm.number},
            )
            return redirect("portal:request_detail", ritm.number)
    cis = (
        list(ConfigurationItem.objects.filter(active=True).order_by("name").values_list("name", flat=True)[:300])
        if any(var["type"] == VariableType.CI for var in definition.get("variables", []))
        else []
    )
    context = {
        "item": catalog_item,
        "definition": definition,
        "fields": _fields(definition, values, errors),
        "quantity": quantity,
        "quantity_error": " ".join(errors.get("quantity", [])),
        "other_errors": [
            m for key, msgs in errors.items() if not key.startswith(("variables.", "quantity")) for m in msgs
        ],
        "has_files": has_files,
        "ci_names": cis,
    }
    return render(request, "portal/catalog_item.html", context, status=400 if errors else 200)


def _cart_lines(request: HttpRequest) -> list[dict]:
    cart = request.session.get(CART, [])
    items = catalog_items_available_to(user=request.user).in_bulk([line["item"] for line in cart])
    return [{**line, "index": index, "catalog_item": items.get(line["item"])} for index, line in enumerate(cart)]


@login_required
def cart(request: HttpRequest) -> HttpResponse:
    """What I am about to order."""
    return render(request, "portal/cart.html", {"lines": _cart_lines(request)})


@login_required
@require_POST
def cart_remove(request: HttpRequest, index: int) -> HttpResponse:
    cart_lines = request.session.get(CART, [])
    if 0 <= index < len(cart_lines):
        cart_lines.pop(index)
        request.session[CART] = cart_lines
    return redirect("portal:cart")


@login_required
@require_POST
def cart_submit(request: HttpRequest) -> HttpResponse:
    """Order everything in the cart as one request; nothing is ordered when any line no longer fits its item."""
    lines = request.session.get(CART, [])
    if not lines:
        messages.error(request, _("Your cart is empty."))
        return redirect("portal:cart")
    try:
        order = request_create(
            by=request.user,
            items=[{"catalog_item": x["item"], "quantity": x["quantity"], "variables": x["variables"]} for x in lines],
        )
    except ValidationError as error:
        for key, msgs in error.message_dict.items():
            messages.error(request, f"{key}: {' '.join(msgs)}")
        return render(request, "portal/cart.html", {"lines": _cart_lines(request)}, status=400)
    request.session[CART] = []
    messages.success(request, _("Thank you. Your request %(number)s has been submitted.") % {"number": order.number})
    return redirect(reverse("portal:tickets"))


@login_required
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    """My requested item: state in plain words, the promise, answers, approval, progress, conversation, files."""
    ritm = my_requested_item(request, number)
    return _render_request(request, ritm)


def _render_request(request, ritm: RequestedItem, *, comment_form=None, status: int = 200) -> HttpResponse:
    delivered = (
        ritm.state in (RequestedItemState.FULFILLED, RequestedItemState.CLOSED) and ritm.close_code == "fulfilled"
    )
    rating = SatisfactionRating.objects.filter(ticket=ritm).first()
    approvals = Approval.objects.filter(ticket=ritm).exclude(state=ApprovalState.WITHDRAWN).select_related("approver")
    context = {
        "ritm": ritm,
        "answers": ritm.answers(),
        "approvals": list(approvals.order_by("stage", "pk")),
        "steps": list(ritm.tasks.order_by("position", "pk")),
        "promise": promise(ritm) if ritm.active and not delivered else "",
        "comments": conversation(ritm),
        "files": public_files(ritm),
        "comment_form": comment_form or CommentForm(),
        "attachment_form": AttachmentForm(),
        "withdraw_form": WithdrawForm() if ritm.state in WITHDRAWABLE_STATES else None,
        "can_confirm": ritm.state == RequestedItemState.FULFILLED,
        "rating": rating,
        "rating_form": RatingForm() if delivered and rating is None else None,
    }
    return render(request, "portal/request_detail.html", context, status=status)


@login_required
@require_POST
def request_comment(request: HttpRequest, number: str) -> HttpResponse:
    ritm = my_requested_item(request, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            requested_item_comment(item=ritm, by=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error("body", " ".join(error.messages))
        else:
            messages.success(request, _("Your message has been sent."))
            return redirect(reverse("portal:request_detail", args=[number]) + "#conversation")
    return _render_request(request, ritm, comment_form=form, status=400)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    ritm = my_requested_item(request, number)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        requested_item_cancel(item=ritm, by=request.user, reason=reason)
    except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
        messages.error(request, _("This request can no longer be withdrawn."))
        return _render_request(request, my_requested_item(request, number), status=409)
    messages.success(request, _("You withdrew %(number)s.") % {"number": number})
    return redirect("portal:request_detail", number)


@login_required
@require_POST
def request_confirm(request: HttpRequest, number: str) -> HttpResponse:
    ritm = my_requested_item(request, number)
    try:
        requested_item_close(item=ritm, by=request.user)
    except (TransitionNotAllowed, ConcurrentTransition, PermissionDenied):
        messages.error(request, _("This request is not waiting for your confirmation."))
        return _render_request(request, my_requested_item(request, number), status=409)
    messages.success(request, _("Thank you for confirming. %(number)s is closed.") % {"number": number})
    return redirect("portal:request_detail", number)
