"""API permission classes built on the rules predicates."""

from rest_framework.permissions import BasePermission

from itsm.rules import is_agent


class IsAgent(BasePermission):
    """Agents only (403 for other signed-in users)."""

    message = "Only agents may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)
