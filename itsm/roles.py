"""Roles are Django groups; this keeps each role group and its model permissions in place after every migrate."""

from django.contrib.auth.models import Group, Permission

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
        "itsm.view_journalentry",
        "itsm.add_journalentry",
        "itsm.view_attachment",
        "itsm.add_attachment",
    ],
    Role.TEAM_MANAGER: ["itsm.view_team", "itsm.change_team"],
    Role.CHANGE_MANAGER: [],
    Role.ADMIN: ["itsm.*", "catalog.*", "incidents.*", "auth.view_user", "auth.change_user", "auth.add_user"],
}


def roles_ensure() -> None:
    """Create the role groups and grant their permissions (idempotent; only adds)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = Permission.objects.none()
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            query = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                query = query.filter(codename=codename)
            wanted = wanted | query
        group.permissions.add(*wanted)
