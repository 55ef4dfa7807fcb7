"""Demo data for automation: incident categories (set on the demo's incidents by service rules as they are created),
an Identity team with round-robin routing, the 'password reset' rule, the P1-breach trigger, one password-reset
e-mail routed by the rule, the learned categoriser trained on the resolved demo incidents, and two improvement
initiatives."""

from __future__ import annotations

from email.message import EmailMessage

from automation.learning import categoriser_train
from automation.models import AssignmentRule, ImprovementInitiative, TeamRouting, TrainingRun, Trigger
from itsm.models import Category, Team

# category: (subcategories, the demo services whose incidents it takes)
CATEGORIES = {
    "Access": (["Password", "Account locked", "MFA"], ["Identity and access"]),
    "Network": (["VPN", "Wi-Fi", "Wired network", "Telephony"], ["VPN", "Wi-Fi", "Corporate network", "Telephony"]),
    "Hardware": (["Laptop", "Printer", "File share"], ["Laptop provisioning", "Printing", "File shares"]),
    "Business applications": (["Email", "ERP", "CRM", "HR portal"], ["Email", "ERP", "CRM", "HR Portal"]),
    "Data and reporting": (["Data warehouse"], ["Data warehouse"]),
}
PASSWORD_WORDS = ["password reset", "reset my password", "forgot my password", "locked out"]
# Requested-item categories and the words in a catalog item's name that file its requested items there (the
# fulfilment team sets it when the item arrives: demo.service_requests._categorise)
REQUEST_CATEGORIES = {
    "Hardware": ["laptop", "monitor", "docking station", "mobile phone", "headset"],
    "Software": ["software"],
    "Access": ["new starter", "vpn", "mailbox", "folder access", "admin rights"],
    "Workplace": ["desk move", "meeting room", "badge"],
}


def seed_categories() -> None:
    """The incident categories and one rule per category on the incident's service (before the demo incidents);
    the same categories for problems (by service too), and the requested-item and change categories (the demo's
    requested items and changes are filed under them as they are made)."""
    for order, (name, (_subcategories, services)) in enumerate(CATEGORIES.items(), start=1):
        top, _created = Category.objects.get_or_create(
            practice="problem", name=name, parent=None, defaults={"order": order * 10}
        )
        AssignmentRule.objects.get_or_create(
            name=f"Problem category from service: {name}",
            defaults={
                "practice": "problem",
                "order": 100 + order,
                "conditions": [{"field": "service", "op": "in", "value": services}],
                "set_category": top,
            },
        )
    for order, name in enumerate(REQUEST_CATEGORIES, start=1):
        Category.objects.get_or_create(
            practice="requested_item", name=name, parent=None, defaults={"order": order * 10}
        )
    for order, (name, (subcategories, services)) in enumerate(CATEGORIES.items(), start=1):
        top, _created = Category.objects.get_or_create(
            practice="incident", name=name, parent=None, defaults={"order": order * 10}
        )
        for sub_order, sub in enumerate(subcategories, start=1):
            Category.objects.get_or_create(
                practice="incident", name=sub, parent=top, defaults={"order": sub_order * 10}
            )
        AssignmentRule.objects.get_or_create(
            name=f"Category from service: {name}",
            defaults={
                "practice": "incident",
                "order": 100 + order,
                "conditions": [{"field": "service", "op": "in", "value": services}],
                "set_category": top,
            },
        )
    for name in ["Standard", "Normal", "Emergency fix"]:
        Category.objects.get_or_create(practice="change", name=name, parent=None)


def _password_mail(sender) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{sender.get_full_name()} <{sender.email}>"
    msg["To"] = "servicedesk@example.com"
    msg["Subject"] = "Password reset please"
    msg["Message-ID"] = "<demo-password-reset-1@example.com>"
    msg.set_content("Hi,\n\nI am locked out after the holidays, could you do a password reset for me?\n\nThanks")
    return msg.as_bytes()


def seed_automation(seeder) -> list[int]:
    """The Identity team (round robin), the password-reset rule, the P1-breach trigger, one routed e-mail and a
    trained categoriser; returns the incidents created."""
    from mail.inbound import email_ingest
    from mail.models import Mailbox

    desk = seeder.team_agents["Service Desk"]
    identity, _created = Team.objects.get_or_create(
        name="Identity", defaults={"description": "Accounts, passwords and MFA.", "manager": desk[0]}
    )
    identity.members.add(*desk)
    TeamRouting.objects.update_or_create(team=identity, defaults={"mode": "round_robin"})
    access = Category.objects.get(practice="incident", name="Access", parent=None)
    AssignmentRule.objects.get_or_create(
        name="Password resets to Identity",
        defaults={
            "practice": "incident",
            "order": 10,
            "conditions": [{"field": "text", "op": "keywords", "value": PASSWORD_WORDS}],
            "set_category": access,
            "set_subcategory": Category.objects.get(parent=access, name="Password"),
            "set_assignment_group": identity,
            "work_note": "Routed to Identity by the password-reset rule.",
        },
    )
    Trigger.objects.get_or_create(
        name="P1 breach: escalate to the team manager",
        defaults={
            "event": "sla_breached",
            "practice": "incident",
            "conditions": [{"field": "priority", "op": "equals", "value": 1}],
            "notify": "group_manager",
            "message": "A P1 incident has breached its SLA and needs your attention.",
            "work_note": "Escalated to the team manager.",
        },
    )
    mailbox = Mailbox.objects.filter(address="servicedesk@example.com").first()
    outcome = email_ingest(raw=_password_mail(seeder.end_users[1]), mailbox=mailbox)
    created = [outcome.record.ticket_id] if outcome.record.ticket_id else []
    run = TrainingRun.objects.create(practice="incident")
    categoriser_train(run_id=run.pk)
    _initiatives(seeder, identity)
    return created


def _initiatives(seeder, identity) -> None:
    """Two entries of the improvement register: one approved and under way, one just identified."""
    from automation.improvement import initiative_create, initiative_transition

    manager = seeder.team_agents["Service Desk"][0]
    if ImprovementInitiative.objects.exists():
        return
    resets = initiative_create(
        by=manager,
        title="Password resets in under four hours",
        problem_statement="Password resets wait in the general queue; callers are locked out for most of a day.",
        metric="mttr_hours",
        practice="incident",
        team=identity,
        baseline_value=20,
        target_value=4,
    )
    for name in ("approve", "start"):
        initiative_transition(initiative=resets, by=manager, name=name)
    initiative_create(
        by=manager,
        title="Fewer reopened incidents",
        problem_statement="Incidents are resolved before the caller confirms the fix.",
        metric="reopen_rate",
        practice="incident",
        baseline_value=15,
        target_value=5,
    )
