from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _roles_after_migrate(sender, **kwargs) -> None:
    # Permissions are created per app in post_migrate; granting after each app keeps it idempotent and complete.
    from itsm.roles import roles_ensure

    roles_ensure()


class ItsmConfig(AppConfig):
    name = "itsm"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from itsm import checks, planning, signals  # noqa: F401

        planning.install()

        post_migrate.connect(_roles_after_migrate, dispatch_uid="itsm.roles_ensure")
