"""The desk the API fuzzer (suite 3) and the stored-XSS suite (4) work on: one user per role and records of every
practice in a few states, created through the services (numbered and journaled like real ones)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from itsm.enums import Role
from itsm.models import Approval, Attachment, Team
from slas.models import Schedule, ScheduleSpan, SLADefinition
from tests.factories import (
    AgentFactory,
    ConfigurationItemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    change_in_state,
    change_template_factory,
    incident_in_state,
    problem_in_state,
    problem_task_in_state,
)


@dataclass
class FuzzWorld:
    end_user: User
    agent: User
    admin: User
    team: Team
    numbers: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)

    def tokens(self) -> dict[str, str | None]:
        """An API token per role; anonymous has none."""
        return {
            "anonymous": None,
            "end_user": Token.objects.get_or_create(user=self.end_user)[0].key,
            "agent": Token.objects.get_or_create(user=self.agent)[0].key,
            "admin": Token.objects.get_or_create(user=self.admin)[0].key,
        }


def build_fuzz_world() -> FuzzWorld:
    from itsm.services import attachment_add
    from problems.services import problem_mark_known_error

    team = TeamFactory(name="Service Desk")
    agent = AgentFactory(username="agent_w")
    team.members.add(agent)
    end_user = UserFactory(username="user_w")
    admin = UserFactory(username="admin_w", is_staff=True, is_superuser=True, role=Role.ADMIN)
    service = ServiceFactory(name="Mail")
    ci = ConfigurationItemFactory(name="mail-01", service=service)

    world = FuzzWorld(end_user=end_user, agent=agent, admin=admin, team=team)
    common = {"by": agent}
    incidents = [
        incident_in_state("new", caller=end_user, service=service, configuration_item=ci, **common),
        incident_in_state("in_progress", caller=end_user, assignment_group=team, assigned_to=agent, **common),
        incident_in_state("on_hold", caller=end_user, **common),
        incident_in_state("resolved", caller=end_user, **common),
    ]
    problems = [problem_in_state("assess", **common), problem_in_state("fix_in_progress", **common)]
    tasks = [problem_task_in_state("new", problem=problems[0], **common)]
    changes = [
        change_in_state("new", **common),
        change_in_state("authorize", approver=agent, **common),
        change_in_state("scheduled", change_type="standard", **common),
    ]
    world.numbers = [record.number for record in (*incidents, *problems, *tasks, *changes)]

    article = problem_mark_known_error(
        problem=problems[1], by=agent, workaround="Restart the spooler.", cause_notes="A driver bug."
    )
    attachment_add(
        ticket=incidents[1], by=end_user, uploaded=SimpleUploadedFile("log.txt", b"spooler stopped\n", "text/plain")
    )
    schedule = Schedule.objects.create(name="Office hours", timezone="Europe/London")
    for weekday in range(5):
        ScheduleSpan.objects.create(schedule=schedule, weekday=weekday, start=9 * 3600, end=17 * 3600)
    definition = SLADefinition.objects.create(
        name="Resolution 8h",
        target="resolution",
        practice="incident",
        active=False,
        start_condition={"state_category": ["new", "active"]},
        stop_condition={"state_category": ["resolved", "closed", "cancelled"]},
        duration_seconds=8 * 3600,
        schedule=schedule,
    )
    template = change_template_factory(name="Restart spooler")
    world.ids = sorted(
        {
            article.pk,
            schedule.pk,
            definition.pk,
            template.pk,
            *Approval.objects.values_list("pk", flat=True),
            *Attachment.objects.values_list("pk", flat=True),
        }
    )
    world.names = {
        "users": [end_user.username, agent.username, admin.username],
        "teams": [team.name],
        "services": [service.name],
        "cis": [ci.name],
    }
    return world
