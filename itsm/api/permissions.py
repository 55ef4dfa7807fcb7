"""API permission classes built on the rules predicates."""

from rest_framework.permissions import BasePermission

from itsm.rules import is_admin, is_agent


class IsAgent(BasePermission):
    """Agents only (403 for other signed-in users)."""

    message = "Only agents may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


class IsDeskAdmin(BasePermission):
    """Desk admins only (superusers and the Admins role); 403 for everyone else signed in, staff included: a team
    manager is staff for the team admin and must not reach, say, webhook secrets."""

    message = "Only admins may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)
