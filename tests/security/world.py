"""A small desk where every record belongs to someone else, and the people who try to reach it.

Roles, in the order the access matrix lists them:
- ``anon``: not signed in;
- ``owner``: the end user who called the incident (the positive control: their own record);
- ``user``: another end user (every record here belongs to someone else);
- ``other_agent``: an agent of another team than the one the records are assigned to;
- ``agent``: an agent of the assigned team, but not the assignee nor the one who opened the records;
- ``admin``: a desk admin (the Admins role, staff, superuser: the demo's admin).

Every text a role must not read carries a canary; the matrix scans every response body for the canaries the
role may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.enums import JournalKind, Role
from tests.factories import (
    AgentFactory,
    ConfigurationItemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    approval_policy_factory,
    change_factory,
    change_in_state,
    change_template_factory,
    problem_factory,
    problem_task_in_state,
)
from tests.factories.requests import laptop_item, order

ROLES = ("anon", "owner", "user", "other_agent", "agent", "admin")

# Canaries: (marker, roles that may read it).
OWNER_TEXT = "CANARYOWNERq7"  # the owner's incident: owner, agents, admin
NOTE_TEXT = "CANARYNOTEk2"  # a work note and a work-note file on it: agents and admin
STAFF_TEXT = "CANARYSTAFFm5"  # problem, problem task, change: agents and admin
USER_TEXT = "CANARYUSERx9"  # the other end user's own incident: that user, agents, admin
CANARIES = {
    OWNER_TEXT: {"owner", "other_agent", "agent", "admin"},
    NOTE_TEXT: {"other_agent", "agent", "admin"},
    STAFF_TEXT: {"other_agent", "agent", "admin"},
    USER_TEXT: {"user", "other_agent", "agent", "admin"},
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def forbidden_canaries(role: str) -> list[str]:
    return [marker for marker, readers in CANARIES.items() if role not in readers]


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def build_world(settings, tmp_path) -> World:
    """Create the desk; uploads go to tmp_path."""
    from automation.enums import InitiativeMetric
    from automation.models import CategorySuggestion, ImprovementInitiative, TrainingRun
    from changes.models import RiskQuestion
    from changes.services import change_task_create
    from incidents.services import incident_comment, incident_create
    from itsm.models import Approval, Category, SavedFilter
    from itsm.services import attachment_add
    from problems.services import problem_mark_known_error
    from requests_app.models import FulfilmentTask
    from slas.models import SLADefinition
    from slas.services import SpanInput, schedule_save
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    settings.MEDIA_ROOT = tmp_path
    team_a = TeamFactory(name="Owners' team")
    team_b = TeamFactory(name="Other team")
    owner = UserFactory(username="sec_owner")
    user = UserFactory(username="sec_user")
    agent = AgentFactory(username="sec_agent")
    other_agent = AgentFactory(username="sec_other_agent")
    opener = AgentFactory(username="sec_opener")  # opened and works the records; in no role of the matrix
    team_a.members.add(agent, opener)
    team_b.members.add(other_agent)
    admin = UserFactory(username="sec_admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    users = {"anon": None, "owner": owner, "user": user, "other_agent": other_agent, "agent": agent, "admin": admin}

    service = ServiceFactory(name="Mail")
    ci = ConfigurationItemFactory(name="mail-01", service=service, owner_team=team_a)
    incident = incident_create(
        by=opener,
        caller=owner,
        short_description=f"Mailbox full {OWNER_TEXT}",
        description=f"Details {OWNER_TEXT}",
        assignment_group=team_a,
        assigned_to=opener,
        service=service,
        configuration_item=ci,
    )
    incident_comment(incident=incident, by=opener, body=f"Public reply {OWNER_TEXT}", kind=JournalKind.COMMENT)
    incident_comment(incident=incident, by=opener, body=f"Internal {NOTE_TEXT}", kind=JournalKind.WORK_NOTE)
    public_file = attachment_add(
        ticket=incident, by=owner, uploaded=SimpleUploadedFile(f"owner-{OWNER_TEXT}.txt", f"{OWNER_TEXT}".encode())
    )
    note_file = attachment_add(
        ticket=incident,
        by=opener,
        uploaded=SimpleUploadedFile(f"note-{NOTE_TEXT}.txt", f"{NOTE_TEXT}".encode()),
        public=False,
    )
    user_incident = incident_create(by=user, short_description=f"VPN drops {USER_TEXT}")
    problem = problem_factory(
        by=opener,
        short_description=f"Mail queue stalls {STAFF_TEXT}",
        assignment_group=team_a,
        configuration_item=ci,
    )
    task = problem_task_in_state("new", by=opener, problem=problem, short_description=f"Collect logs {STAFF_TEXT}")
    approval_policy_factory(approvers=[opener], name="Security CAB")
    change = change_factory(by=opener, short_description=f"Upgrade mail {STAFF_TEXT}", assignment_group=team_a)
    template = change_template_factory(name="Restart spooler")
    risk_question = RiskQuestion.objects.create(text="Is there downtime?")
    authorizing = change_in_state("authorize", by=opener, approver=opener)
    approval = Approval.objects.get(ticket=authorizing)
    known = problem_factory(by=opener, short_description="Outlook profile corrupt", configuration_item=ci)
    article = problem_mark_known_error(
        problem=known, by=opener, workaround="Recreate the profile.", cause_notes="A bad add-in."
    )
    schedule = schedule_save(
        by=admin,
        name="Office hours",
        timezone="Europe/London",
        spans=[SpanInput(day, 9 * 3600, 17 * 3600) for day in range(5)],
    )
    definition = SLADefinition.objects.create(
        name="Resolution 8h",
        target="resolution",
        practice="incident",
        active=True,
        start_condition={"state_category": ["new", "active"]},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=8 * 3600,
        schedule=schedule,
    )
    catalog_item = laptop_item(approval=False, team=team_a)
    order_request = order(owner, catalog_item, model="Standard", notes=f"Deliver to {OWNER_TEXT}")
    requested_item = order_request.items.get()
    fulfilment_task = FulfilmentTask.objects.filter(requested_item=requested_item).order_by("pk").first()
    category = Category.objects.create(practice="incident", name="Email")
    initiative = ImprovementInitiative.objects.create(
        title="Fewer mail incidents",
        owner=opener,
        problem_statement=f"Mail breaks {STAFF_TEXT}",
        metric=InitiativeMetric.values[0],
        baseline_value=10,
        target_value=5,
    )
    training = TrainingRun.objects.create(practice="incident", requested_by=opener)
    webhook_endpoint = WebhookEndpoint.objects.create(name="SIEM", url="https://siem.example.com/hook")
    webhook_delivery = WebhookDelivery.objects.create(
        endpoint=webhook_endpoint, dedupe_key="sec-1", event="incident.created", payload=f'{{"x": "{NOTE_TEXT}"}}'
    )
    suggestion = CategorySuggestion.objects.create(ticket=incident, category=category, confidence=0.9)
    change_task = change_task_create(change=change, by=opener, short_description=f"Back up first {STAFF_TEXT}")
    saved_filter = SavedFilter.objects.create(user=opener, practice="incidents", name="Mine", query="state=new")
    objects = {
        "team_a": team_a,
        "team_b": team_b,
        "opener": opener,
        "service": service,
        "ci": ci,
        "incident": incident,
        "user_incident": user_incident,
        "public_file": public_file,
        "note_file": note_file,
        "problem": problem,
        "task": task,
        "change": change,
        "template": template,
        "risk_question": risk_question,
        "schedule": schedule,
        "authorizing": authorizing,
        "approval": approval,
        "article": article,
        "definition": definition,
        "catalog_item": catalog_item,
        "request": order_request,
        "requested_item": requested_item,
        "fulfilment_task": fulfilment_task,
        "category": category,
        "initiative": initiative,
        "training": training,
        "webhook_endpoint": webhook_endpoint,
        "webhook_delivery": webhook_delivery,
        "saved_filter": saved_filter,
        "suggestion": suggestion,
        "change_task": change_task,
    }
    return World(users=users, objects=objects)
