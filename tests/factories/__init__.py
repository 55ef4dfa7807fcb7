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


# --- changes and approvals ----------------------------------------------------------------------------------------


def approval_policy_factory(*, approvers, rule="any", required=1, name=None, ticket_type="", risk="", order=100):
    """A one-stage change approval policy asking these users in parallel."""
    from itsm.models import ApprovalPolicy, ApprovalStage

    policy = ApprovalPolicy.objects.create(
        name=name or f"Policy {ApprovalPolicy.objects.count() + 1}", ticket_type=ticket_type, risk=risk, order=order
    )
    stage = ApprovalStage.objects.create(policy=policy, number=1, source="users", rule=rule, required=required)
    stage.users.set(approvers)
    return policy


def change_template_factory(**kwargs):
    from changes.models import ChangeTemplate

    kwargs.setdefault("name", f"Template {ChangeTemplate.objects.count() + 1}")
    kwargs.setdefault("short_description", "Restart the print spooler")
    kwargs.setdefault("implementation_plan", "Stop and start the spooler service.")
    kwargs.setdefault("backout_plan", "Reboot the print server.")
    kwargs.setdefault("test_plan", "Print a test page.")
    return ChangeTemplate.objects.create(**kwargs)


def planned_window(days: int = 2, hours: int = 2):
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return {"planned_start": start, "planned_end": start + timedelta(hours=hours)}


def change_factory(*, by=None, **kwargs):
    """Create a normal (or emergency) change through the service, with plans and a planned window."""
    from changes.services import change_create

    by = by or AgentFactory()
    kwargs.setdefault("short_description", "Upgrade the mail server to the next release")
    kwargs.setdefault("implementation_plan", "Drain, upgrade, rejoin.")
    kwargs.setdefault("backout_plan", "Restore the snapshot.")
    kwargs.setdefault("test_plan", "Send and receive a message.")
    for key, value in planned_window().items():
        kwargs.setdefault(key, value)
    return change_create(by=by, **kwargs)


_CHANGE_PATHS = {
    "normal": {
        "new": [],
        "assess": ["assess"],
        "authorize": ["assess", "request_approval"],
        "scheduled": ["assess", "request_approval", "approve"],
        "implement": ["assess", "request_approval", "approve", "implement"],
        "review": ["assess", "request_approval", "approve", "implement", "review"],
        "closed": ["assess", "request_approval", "approve", "implement", "review", "close"],
        "canceled": ["cancel"],
    },
    "emergency": {
        "new": [],
        "assess": None,
        "authorize": ["request_approval"],
        "scheduled": ["request_approval", "approve"],
        "implement": ["request_approval", "approve", "implement"],
        "review": ["request_approval", "approve", "implement", "review"],
        "closed": ["request_approval", "approve", "implement", "review", "close"],
        "canceled": ["cancel"],
    },
    "standard": {
        "new": [],
        "assess": None,
        "authorize": None,
        "scheduled": ["schedule"],
        "implement": ["schedule", "implement"],
        "review": ["schedule", "implement", "review"],
        "closed": ["schedule", "implement", "review", "close"],
        "canceled": ["cancel"],
    },
}


def change_path(change_type: str, state: str):
    """The service steps from New to `state` for this type, or None when the type never reaches it."""
    return _CHANGE_PATHS[change_type][state]


def change_in_state(state: str, *, change_type: str = "normal", by=None, approver=None, **kwargs):
    """A change of this type driven through the services into `state` (approved by a one-approver policy)."""
    from changes import services
    from changes.models import Change
    from itsm.models import Approval, ApprovalPolicy
    from itsm.services import approval_approve

    by = by or AgentFactory()
    steps = change_path(change_type, state)
    if steps is None:
        raise ValueError(f"A {change_type} change never reaches {state}.")
    if change_type == "standard":
        change = services.change_create_from_template(template=change_template_factory(), by=by)
        change = services.change_update(change=change, by=by, **planned_window())
    else:
        change = change_factory(by=by, change_type=change_type, **kwargs)
    if "request_approval" in steps and not ApprovalPolicy.objects.filter(active=True).exists():
        approval_policy_factory(approvers=[approver or AgentFactory()], name="Test CAB")
    for step in steps:
        if step == "approve":
            for approval in Approval.objects.filter(ticket=change, state="requested").select_related("approver"):
                approval_approve(approval=approval, by=approval.approver, comment="OK")
            change = Change.objects.get(pk=change.pk)
            continue
        extra = {}
        if step == "review":
            extra = {"close_code": "successful", "close_notes": "Went as planned."}
        elif step == "close":
            extra = {"review_notes": "No follow-up needed."}
        getattr(services, f"change_{step}")(change=change, by=by, **extra)
    return Change.objects.get(pk=change.pk)
