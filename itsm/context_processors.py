"""Template context shared by every page."""

from django.http import HttpRequest

from itsm.rules import is_admin, is_agent


def roles(request: HttpRequest) -> dict[str, bool]:
    """Whether the current user is an agent or an admin, for navigation."""
    user = getattr(request, "user", None)
    if user is None:
        return {"is_agent": False, "is_admin": False}
    return {"is_agent": is_agent(user), "is_admin": is_admin(user)}
