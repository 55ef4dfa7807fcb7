"""factory_boy factories for every model the tests need; users get their role group."""

import factory
from django.contrib.auth.models import Group, User

from catalog.models import ConfigurationItem, Service
from incidents.models import CloseCode, HoldReason
from itsm.enums import Role
from itsm.models import Team


def _grant_role(default: str) -> factory.PostGeneration:
    def grant(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get_or_create(name=extracted or default)[0])

    return factory.PostGeneration(grant)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:04d}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw")
    role = _grant_role(Role.END_USER)


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n:04d}")
    role = _grant_role(Role.AGENT)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Service {n}")


class ConfigurationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfigurationItem
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"ci-{n:04d}")
    service = factory.SubFactory(ServiceFactory)


def hold_reason(slug: str = "awaiting_caller") -> HoldReason:
    return HoldReason.objects.get(slug=slug)


def close_code(slug: str = "solution_provided") -> CloseCode:
    return CloseCode.objects.get(slug=slug)


def incident_factory(*, by=None, **kwargs):
    """Create an incident through the service, so it is numbered and journaled like a real one."""
    from incidents.services import incident_create

    by = by or AgentFactory()
    kwargs.setdefault("short_description", "Printer on floor 3 is jammed")
    kwargs.setdefault("caller", UserFactory())
    return incident_create(by=by, **kwargs)


# The shortest service path from New to each state.
_PATHS = {
    "new": [],
    "in_progress": ["start"],
    "on_hold": ["start", "hold"],
    "resolved": ["start", "resolve"],
    "closed": ["start", "resolve", "close"],
    "canceled": ["cancel"],
}


def incident_in_state(state: str, *, by=None, **kwargs):
    """An incident driven through the services into `state` (on hold awaiting a vendor; resolved with a code)."""
    from incidents import services

    by = by or AgentFactory()
    incident = incident_factory(by=by, **kwargs)
    for step in _PATHS[state]:
        extra = {}
        if step == "hold":
            extra = {"reason": hold_reason("awaiting_vendor")}
        elif step == "resolve":
            extra = {"close_code": close_code(), "close_notes": "Replaced the toner."}
        incident = getattr(services, f"incident_{step}")(incident=incident, by=by, **extra)
    return incident


def problem_factory(*, by=None, **kwargs):
    """Create a problem through the service, so it is numbered and journaled like a real one."""
    from problems.services import problem_create

    by = by or AgentFactory()
    kwargs.setdefault("short_description", "Printers on floor 3 jam after every driver update")
    return problem_create(by=by, **kwargs)


# The shortest service path from New to each problem state.
_PROBLEM_PATHS = {
    "new": [],
    "assess": ["assess"],
    "root_cause_analysis": ["assess", "analyze"],
    "fix_in_progress": ["assess", "analyze", "fix"],
    "resolved": ["assess", "analyze", "fix", "resolve"],
    "closed": ["assess", "analyze", "fix", "resolve", "close"],
    "canceled": ["cancel"],
}


def problem_in_state(state: str, *, by=None, **kwargs):
    """A problem driven through the services into `state` (resolved with "fix applied")."""
    from problems import services

    by = by or AgentFactory()
    problem = problem_factory(by=by, **kwargs)
    for step in _PROBLEM_PATHS[state]:
        extra = {}
        if step == "fix":
            extra = {"cause_notes": "The driver update resets the tray settings."}
        elif step == "resolve":
            extra = {"resolution_code": "fix_applied", "fix_notes": "Pinned the driver version."}
        getattr(services, f"problem_{step}")(problem=problem, by=by, **extra)
    return problem


_TASK_PATHS = {"new": [], "assess": ["assess"], "work_in_progress": ["assess", "start"], "closed": ["close"]}


def problem_task_in_state(state: str, *, by=None, problem=None, **kwargs):
    """A problem task driven through the services into `state`."""
    from problems import services

    by = by or AgentFactory()
    problem = problem or problem_factory(by=by)
    kwargs.setdefault("short_description", "Collect driver logs from three printers")
    task = services.problem_task_create(problem=problem, by=by, **kwargs)
    for step in _TASK_PATHS[state]:
        extra = {"close_notes": "Logs collected."} if step == "close" else {}
        getattr(services, f"problem_task_{step}")(task=task, by=by, **extra)
    return task
