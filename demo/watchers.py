"""Demo watch lists: the password-reset rule puts the Identity team's manager on every password ticket, and a few
open incidents are watched by an agent of another team, the end users' manager and their caller's colleague."""

from __future__ import annotations

from django.contrib.auth.models import User

from automation.models import AssignmentRule
from incidents.models import Incident
from itsm.models import JournalEntry
from itsm.services import ticket_watchers_add


def seed_watchers(seeder) -> int:
    """Watchers on up to six open demo incidents, added through the kernel service (journaled like an agent's
    click); returns how many incidents are watched."""
    rule = AssignmentRule.objects.filter(name="Password resets to Identity").first()
    manager = User.objects.filter(username="user2").first()
    if rule is not None and rule.add_watchers.count() == 0:
        identity_lead = rule.set_assignment_group.manager if rule.set_assignment_group else None
        if identity_lead is not None:
            rule.add_watchers.add(identity_lead)
    agents = [agent for team in seeder.team_agents.values() for agent in team]
    open_incidents = list(
        Incident.objects.filter(pk__in=seeder.incident_ids, active=True)
        .select_related("caller", "assigned_to")
        .order_by("-priority", "opened_at")[:6]
    )
    for index, incident in enumerate(open_incidents):
        # An agent who is not the assignee follows it (a second-line colleague), plus one end user.
        watching_agent = next(a for a in agents[index % len(agents) :] + agents if a.pk != incident.assigned_to_id)
        colleague = next((u for u in seeder.end_users if u.pk != incident.caller_id), None)
        people = [watching_agent] + ([manager] if manager is not None and index % 2 == 0 else [])
        if colleague is not None and index % 3 == 0:
            people.append(colleague)
        ticket_watchers_add(ticket=incident, users=[p for p in people if p.pk != incident.caller_id], by=watching_agent)
        # Backdated like the rest of the story: the watchers came with the incident's last update.
        JournalEntry.objects.filter(ticket=incident, field="watchers").update(created_at=incident.updated_at)
    return len(open_incidents)
