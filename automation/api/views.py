"""Automation API: the dry run of rules and triggers, and the categories."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automation.api.serializers import CategorySerializer, DryRunInputSerializer, DryRunSerializer
from automation.services import dry_run
from automation.triggers import practice_record
from itsm.api.tickets import AgentsOnlyElseNotFound
from itsm.models import Category, Ticket
from itsm.selectors import priority_for


def draft_ticket(data: dict, *, by) -> Ticket:
    """An unsaved Ticket built from a validated draft (priority from the matrix, caller defaults to `by`)."""
    category = data.get("category")
    if category is not None and category.practice != data["kind"]:
        raise ValidationError({"draft": {"category": [f"'{category}' is not a {data['kind']} category."]}})
    fields = {name: data[name] for name in DRAFT_FIELDS if name in data}
    ticket = Ticket(**fields, caller=data.get("caller") or by, opened_by=by)
    ticket.priority = priority_for(impact=ticket.impact, urgency=ticket.urgency)
    return ticket


DRAFT_FIELDS = [
    "kind",
    "short_description",
    "description",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "service",
    "configuration_item",
    "category",
]


class DryRunView(APIView):
    """Which assignment rules and triggers would fire for a ticket (by number) or a draft, and what they would
    change. Nothing is written. Agents only."""

    permission_classes = [AgentsOnlyElseNotFound]

    @extend_schema(request=DryRunInputSerializer, responses=DryRunSerializer, summary="Dry run of rules and triggers")
    def post(self, request: Request) -> Response:
        given = DryRunInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if "ticket" in data:
            ticket = Ticket.objects.filter(number=data["ticket"].strip().upper()).first()
            if ticket is None:
                raise NotFound(f"No ticket {data['ticket']}.")
            ticket = practice_record(ticket)
        else:
            ticket = draft_ticket(data["draft"], by=request.user)
        result = dry_run(ticket=ticket, event=data.get("event"))
        return Response(DryRunSerializer({"ticket": ticket.number or None, **result}).data)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Categories and subcategories of every practice (filter with ?practice=incident)."""

    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["practice", "active", "parent"]
    ordering_fields = ["practice", "order", "name", "id"]
    ordering = ["practice", "order", "name", "id"]

    def get_queryset(self):
        return Category.objects.select_related("parent")
