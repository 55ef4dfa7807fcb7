"""Catalog items with forms, and requested items in every state, made through the services."""

from __future__ import annotations

from catalog.models import CatalogCategory, CatalogItem, CatalogVariable, FulfilmentTaskTemplate
from catalog.services import catalog_item_publish
from itsm.models import ApprovalPolicy, ApprovalStage, Team
from requests_app.enums import RequestedItemState as R
from requests_app.models import Profile, Request, RequestedItem


def manager_policy(name: str = "Requester's manager") -> ApprovalPolicy:
    """A one-stage policy: the requester's manager approves."""
    policy, created = ApprovalPolicy.objects.get_or_create(name=name, defaults={"practice": "requested_item"})
    if created:
        ApprovalStage.objects.create(policy=policy, number=1, source="requester_manager", rule="any")
    return policy


def set_manager(user, manager) -> Profile:
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"manager": manager})
    return profile


def laptop_item(*, approval: bool = True, parallel: bool = False, team: Team | None = None, **kwargs) -> CatalogItem:
    """A laptop with a show-when rule (RAM only for the developer model), two ordered tasks, published."""
    team = team or Team.objects.get_or_create(name="Hardware")[0]
    category, _ = CatalogCategory.objects.get_or_create(
        slug="hardware", defaults={"name": "Hardware", "icon": "laptop"}
    )
    item = CatalogItem.objects.create(
        name=kwargs.pop("name", "Laptop"),
        category=category,
        short_description="A new laptop for work",
        description="Standard or developer laptop, delivered to your desk.",
        approval_policy=manager_policy() if approval else None,
        fulfilment_group=team,
        tasks_in_parallel=parallel,
        max_quantity=3,
        **kwargs,
    )
    for order, (name, label, kind, extra) in enumerate(
        [
            ("model", "Which model?", "choice", {"choices": "Standard\nDeveloper", "required": True}),
            (
                "ram",
                "Memory",
                "choice",
                {
                    "choices": "16 GB\n32 GB",
                    "required": True,
                    "show_when_variable": "model",
                    "show_when_value": "Developer",
                },
            ),
            ("needed_by", "Needed by", "date", {}),
            ("monitors", "Extra monitors", "number", {"min_value": 0, "max_value": 2}),
            ("accessories", "Accessories", "multiple_choice", {"choices": "Mouse\nHeadset\nDock"}),
            ("keep_old", "Keep your old laptop?", "yes_no", {}),
            ("cost_centre", "Cost centre", "text", {"pattern": r"CC-\d{4}", "pattern_message": "Like CC-1234."}),
            ("notes", "Anything else?", "long_text", {"max_length": 500}),
            ("deliver_to", "Deliver to", "user", {}),
            ("old_device", "Device it replaces", "ci", {}),
        ],
        start=1,
    ):
        CatalogVariable.objects.create(item=item, name=name, label=label, type=kind, order=order, **extra)
    FulfilmentTaskTemplate.objects.create(item=item, order=1, short_description="Prepare the laptop", team=team)
    FulfilmentTaskTemplate.objects.create(
        item=item, order=2, short_description="Hand the laptop over", instructions="Book a slot with the requester."
    )
    catalog_item_publish(item=item)
    return item


def order(by, item: CatalogItem, **variables) -> Request:
    from requests_app.services import request_create

    variables = variables or {"model": "Standard"}
    return request_create(by=by, items=[{"catalog_item": item.pk, "quantity": 1, "variables": variables}])


def ritm_of(request: Request) -> RequestedItem:
    return RequestedItem.objects.get(request=request)


def ritm_in_state(state: str, *, requester, manager, agent) -> RequestedItem:
    """A requested item brought to `state` the way it gets there (submitted and approved are held there by hand)."""
    from itsm.models import Approval
    from itsm.services import approval_reject
    from requests_app import services

    set_manager(requester, manager)
    if state == R.SUBMITTED:
        item = CatalogItem.objects.filter(name="Laptop").first() or laptop_item()
        request = Request(short_description="Laptop", caller=requester, opened_by=requester)
        services._create_ticket(request, requester)
        ritm = RequestedItem(
            request=request,
            catalog_item=item,
            item_version=item.versions.first(),
            short_description="Laptop",
            caller=requester,
            opened_by=requester,
        )
        services._create_ticket(ritm, requester)
        return ritm
    with_approval = state in (R.AWAITING_APPROVAL, R.APPROVED, R.REJECTED)
    name = "Laptop" if with_approval else "Laptop (pre-approved)"
    item = CatalogItem.objects.filter(name=name).first() or laptop_item(approval=with_approval, name=name)
    ritm = ritm_of(order(requester, item))
    if state == R.APPROVED:
        services._transition(ritm, "approve", None)
    elif state == R.REJECTED:
        approval_reject(approval=Approval.objects.get(ticket=ritm), by=manager, comment="Not in budget")
    elif state in (R.FULFILLED, R.CLOSED):
        while task := ritm.tasks.filter(active=True).first():
            services.fulfilment_task_close_complete(task=task, by=agent)
        if state == R.CLOSED:
            services.requested_item_close(item=RequestedItem.objects.get(pk=ritm.pk), by=requester)
    elif state == R.CANCELED:
        services.requested_item_cancel(item=ritm, by=agent, reason="No longer needed")
    ritm = RequestedItem.objects.get(pk=ritm.pk)
    assert ritm.state == state, (ritm.state, state)
    if state == R.AWAITING_APPROVAL:
        assert Approval.objects.filter(ticket=ritm, approver=manager).exists()
    return ritm
