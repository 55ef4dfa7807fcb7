"""Roles are Django groups; this keeps each role group and its model permissions in place after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet

from itsm.enums import Role

# Model permissions per role, as "app_label.codename"; "app_label.*" means every permission of that app.
# Object visibility is decided by the predicates in itsm.rules; these permissions drive Django admin.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.END_USER: [],
    Role.AGENT: [
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.work_incident",
        "problems.view_problem",
        "problems.add_problem",
        "problems.change_problem",
        "problems.work_problem",
        "problems.view_problemtask",
        "problems.add_problemtask",
        "problems.change_problemtask",
        "problems.view_knowledgearticle",
        "changes.view_change",
        "changes.add_change",
        "changes.change_change",
        "changes.work_change",
        "changes.view_changetemplate",
        "changes.view_riskquestion",
        "changes.view_riskansweroption",
        "requests_app.view_request",
        "requests_app.view_requesteditem",
        "requests_app.change_requesteditem",
        "requests_app.work_requesteditem",
        "requests_app.view_fulfilmenttask",
        "requests_app.change_fulfilmenttask",
        "catalog.view_catalogitem",
        "itsm.view_approval",
        "itsm.view_journalentry",
        "itsm.add_journalentry",
        "itsm.view_attachment",
        "itsm.add_attachment",
    ],
    Role.TEAM_MANAGER: ["itsm.view_team", "itsm.change_team"],
    Role.CHANGE_MANAGER: [
        "changes.*",
        "itsm.view_approvalpolicy",
        "itsm.add_approvalpolicy",
        "itsm.change_approvalpolicy",
        "itsm.view_approvalstage",
        "itsm.add_approvalstage",
        "itsm.change_approvalstage",
        "itsm.delete_approvalstage",
    ],
    Role.ADMIN: [
        "itsm.*",
        "catalog.*",
        "incidents.*",
        "problems.*",
        "changes.*",
        "requests_app.*",
        "knowledge.*",
        "auth.view_user",
        "auth.change_user",
        "auth.add_user",
    ],
}

# Never granted to any role, even through "app_label.*", and taken away from groups that hold them: deleting an
# incident (or its Ticket parent) would cascade its journal away, and the journal is the audit trail; incidents end
# by close or cancel. The same holds for problems, problem tasks,
# changes and approvals (the record of who authorised what).
FORBIDDEN_PERMISSIONS: frozenset[str] = frozenset(
    {
        "incidents.delete_incident",
        "itsm.delete_ticket",
        "itsm.delete_journalentry",
        "problems.delete_problem",
        "problems.delete_problemtask",
        "changes.delete_change",
        "itsm.delete_approval",
        "requests_app.delete_request",
        "requests_app.delete_requesteditem",
        "requests_app.delete_fulfilmenttask",
    }
)


def _permissions(perms: list[str]) -> QuerySet[Permission]:
    """The Permission rows named by "app_label.codename" / "app_label.*" entries."""
    wanted = Permission.objects.none()
    for perm in perms:
        app_label, codename = perm.split(".", 1)
        query = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            query = query.filter(codename=codename)
        wanted = wanted | query
    return wanted


def roles_ensure() -> None:
    """Create the role groups and grant their permissions (idempotent; only adds, except forbidden ones)."""
    forbidden = _permissions(sorted(FORBIDDEN_PERMISSIONS))
    forbidden_ids = set(forbidden.values_list("pk", flat=True))
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(perms).exclude(pk__in=forbidden_ids))
        group.permissions.remove(*forbidden_ids)
