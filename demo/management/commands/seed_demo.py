"""Load demo data: role groups, users, teams, services, a CMDB graph and a few hundred incidents with real journals.

Every incident is driven through incidents.services, so numbers, priorities, journals and fsm logs are what the
product itself writes. The services stamp everything "now"; afterwards each incident's journal is backdated step by
step over the last 60 days and the ticket's opened/resolved/closed times are derived from that journal, so the
timeline stays ordered and consistent. State is never written directly.

Notifications: the services queue outbox rows and register after-commit callbacks that hand them to Celery. The
demo history is not news to anyone, so the seed runs in one transaction, drops its own after-commit callbacks
(no broker is contacted) and deletes the outbox rows it caused; `--keep-outbox` leaves them pending for the
outbox flush sweep instead.
"""

from __future__ import annotations

import itertools
import random
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Case, Count, DateTimeField, OuterRef, Subquery, Value, When
from django.utils import timezone
from django_fsm_log.models import StateLog

from catalog.models import ConfigurationItem, Service
from demo.automation import seed_automation, seed_categories
from demo.data import (
    AGENT_COMMENTS,
    CALLER_ASKS,
    CALLER_FOLLOW_UPS,
    CALLER_REPLIES,
    CANCEL_REASONS,
    CIS,
    CLOSE_CODE_WEIGHTS,
    END_USERS,
    GAPS,
    HOUR,
    MAJOR_CHILDREN,
    OPEN_CATEGORIES,
    OPENED_DAYS_AGO,
    PROBLEM_OPENED_DAYS_AGO,
    PROBLEM_STORIES,
    REOPEN_COMMENTS,
    RESOLUTION_STOP,
    SERVICES,
    SLA_DEFINITIONS,
    STAFF,
    STATE_WEIGHTS,
    TEAMS,
    TEMPLATES,
    THANKS,
    THIRD_PARTY_NOTES,
    WORK_NOTES,
    ProblemStory,
    S,
    Template,
)
from demo.mail_and_webhooks import seed_channels, seed_request_mailbox
from demo.service_requests import seed_service_requests
from demo.watchers import seed_watchers
from demo.workspace import seed_saved_filters
from incidents.enums import AWAITING_CALLER, IncidentState
from incidents.models import CloseCode, HoldReason, Incident
from incidents.services import (
    incident_cancel,
    incident_close,
    incident_comment,
    incident_create,
    incident_hold,
    incident_reopen,
    incident_resolve,
    incident_resume,
    incident_start,
    incident_update,
)
from itsm.enums import JournalKind, Role
from itsm.models import Category, JournalEntry, OutboxMessage, Team, Ticket
from itsm.roles import roles_ensure
from problems import services as problem_services
from problems.models import Problem, ProblemTask
from slas.enums import SLAActionKind
from slas.models import Schedule, SLAAction, SLADefinition
from slas.replay import sla_recompute_ticket
from slas.services import SpanInput, schedule_fill_holidays, schedule_save

# The fixed demo accounts, whose password is always ITSM_DEMO_PASSWORD (the sign-in hint says so).
DEMO_USERNAMES: tuple[str, ...] = ("admin", *(row[0] for row in STAFF), *(row[0] for row in END_USERS))


def demo_passwords_sync(*, password: str) -> int:
    """Give each fixed demo account `password` where it has another one; returns how many accounts changed.

    Demo accounts share one hash, so this costs one hash check per distinct stored hash, not one per account.
    """
    matches: dict[str, bool] = {}
    stale: list[int] = []
    for pk, encoded in User.objects.filter(username__in=DEMO_USERNAMES).values_list("pk", "password"):
        if encoded not in matches:
            matches[encoded] = check_password(password, encoded)
        if not matches[encoded]:
            stale.append(pk)
    if stale:
        User.objects.filter(pk__in=stale).update(password=make_password(password))
    return len(stale)


class _Timeline:
    """The journal id ranges one story wrote, each with the pause before it, to backdate them afterwards."""

    def __init__(self) -> None:
        self.mark = _last_journal_id()
        self.steps: list[tuple[int, int, float]] = []

    @contextmanager
    def step(self, gap_minutes: float) -> Iterator[None]:
        yield
        last = _last_journal_id()
        if last > self.mark:
            self.steps.append((self.mark, last, gap_minutes))
            self.mark = last


def _last_journal_id() -> int:
    return JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@contextmanager
def _after_commit_callbacks_dropped() -> Iterator[None]:
    """Drop the after-commit callbacks registered inside the block, as Django's own test helper captures them."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("must run inside transaction.atomic()")
    start = len(connection.run_on_commit)
    yield
    del connection.run_on_commit[start:]


class DemoSeeder:
    """Builds the demo data; every random choice comes from seeded generators, so runs are reproducible."""

    def __init__(self, *, seed: int, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now
        self.incident_ids: list[int] = []
        self.problem_ids: list[int] = []
        self.task_ids: list[int] = []

    # --- people, teams, catalog ---------------------------------------------------------------------------------

    def people(self) -> None:
        roles_ensure()
        groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
        # One hash for every demo account: hashing is deliberately slow and the password is shared anyway.
        password = make_password(settings.ITSM_DEMO_PASSWORD)

        def user(username: str, first: str, last: str, *roles: str, email: str = "", **flags: bool) -> User:
            account, _created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": email or f"{username}@example.com",
                    "password": password,
                    **flags,
                },
            )
            account.groups.add(*(groups[role] for role in roles))
            return account

        self.admin = user("admin", "Ada", "Admin", Role.ADMIN, is_staff=True, is_superuser=True)
        self.teams: dict[str, Team] = {}
        for name, description, mailbox in TEAMS:
            self.teams[name], _ = Team.objects.get_or_create(
                name=name, defaults={"description": description, "email": f"{mailbox}@example.com"}
            )
        self.team_agents: dict[str, list[User]] = defaultdict(list)
        for username, first, last, team_name, manager in STAFF:
            roles = (Role.AGENT, Role.TEAM_MANAGER) if manager else (Role.AGENT,)
            email = f"{first}.{last}@example.com".lower()
            account = user(username, first, last, *roles, email=email, is_staff=manager)
            team = self.teams[team_name]
            team.members.add(account)
            if manager and team.manager_id is None:
                team.manager = account
                team.save(update_fields=["manager"])
            self.team_agents[team_name].append(account)
        self.end_users = []
        for username, first, last in END_USERS:
            local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
            self.end_users.append(user(username, first, last, Role.END_USER, email=f"{local}@example.com"))

    def catalog(self) -> None:
        self.services: dict[str, Service] = {}
        for name, team, criticality, description in SERVICES:
            self.services[name], _ = Service.objects.get_or_create(
                name=name,
                defaults={"owner_team": self.teams[team], "criticality": criticality, "description": description},
            )
        self.cis: dict[str, ConfigurationItem] = {}
        for name, ci_type, service, team, depends_on in CIS:
            ci, created = ConfigurationItem.objects.get_or_create(
                name=name,
                defaults={
                    "ci_type": ci_type,
                    "service": self.services[service] if service else None,
                    "owner_team": self.teams[team],
                },
            )
            if created and depends_on:
                ci.depends_on.add(*(self.cis[other] for other in depends_on))
            self.cis[name] = ci
        self.hold_reasons = {reason.slug: reason for reason in HoldReason.objects.filter(active=True)}
        self.close_codes = {code.slug: code for code in CloseCode.objects.filter(active=True)}
        missing = ({AWAITING_CALLER} - set(self.hold_reasons)) | ({"solution_provided"} - set(self.close_codes))
        if missing:
            raise CommandError(f"Reference data missing (run migrate): {', '.join(sorted(missing))}")

    # --- service levels -----------------------------------------------------------------------------------------

    def service_levels(self) -> None:
        """Office hours, ServiceNow-style response and resolution SLAs by priority, and clocks replayed from the
        backdated journals (so no escalation fires for history)."""
        admin = User.objects.get(username="admin")
        office = Schedule.objects.filter(name="Office hours (London)").first() or schedule_save(
            by=admin,
            name="Office hours (London)",
            timezone="Europe/London",
            description="Monday to Friday 09:00-17:00, English bank holidays.",
            spans=[SpanInput(day, 9 * HOUR, 17 * HOUR) for day in range(5)],
        )
        if not office.holiday_country:
            office.holiday_country, office.holiday_subdivision = "GB", "ENG"
            office.save(update_fields=["holiday_country", "holiday_subdivision"])
            year = self.now.year
            schedule_fill_holidays(schedule=office, by=admin, years=[year - 1, year, year + 1])
        managers = {True: SLAActionKind.NOTIFY_GROUP_MANAGER, False: SLAActionKind.NOTIFY_ASSIGNEE}
        for order, (name, target, priority, seconds, business) in enumerate(SLA_DEFINITIONS):
            definition, created = SLADefinition.objects.get_or_create(
                name=name,
                defaults={
                    "target": target,
                    "practice": "incident",
                    "active": True,
                    "order": order,
                    "match_priorities": [priority],
                    "start_condition": {"state_category": ["new"] if target == "response" else OPEN_CATEGORIES},
                    "pause_condition": {} if target == "response" else {"state_category": ["pending_customer"]},
                    "stop_condition": {
                        "state_category": [
                            c for c in ["active", "pending_customer", "pending_third_party", *RESOLUTION_STOP]
                        ]
                    }
                    if target == "response"
                    else {"state_category": RESOLUTION_STOP},
                    "duration_seconds": seconds,
                    "schedule": office if business else None,
                },
            )
            if created:
                definition.full_clean()
                SLAAction.objects.create(definition=definition, percent=75, kind=managers[False])
                SLAAction.objects.create(definition=definition, percent=100, kind=managers[False])
                SLAAction.objects.create(definition=definition, percent=100, kind=managers[True])
        for incident in Incident.objects.filter(pk__in=self.incident_ids).order_by("pk"):
            sla_recompute_ticket(ticket=incident, until=self.now, act=False)

    # --- incidents ----------------------------------------------------------------------------------------------

    def incidents(self, count: int) -> None:
        rng = self.rng
        plans: list[tuple[datetime, int, str, HoldReason | None]] = []
        regular = count
        if count >= MAJOR_CHILDREN + 1 + len(STATE_WEIGHTS):
            regular -= MAJOR_CHILDREN + 1
            plans.append((self.now - timedelta(days=rng.uniform(1.5, 3)), -1, "major", None))
        # Every state at least once, the rest by weight; the on-hold ones cycle through every hold reason.
        targets = list(STATE_WEIGHTS)[:regular]
        targets += rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()), k=regular - len(targets))
        reasons = itertools.cycle(self.hold_reasons.values())
        for index, target in enumerate(targets):
            reason = next(reasons) if target == S.ON_HOLD else None
            plans.append((self._opened_at(target), index, target, reason))
        # Created in time order, so numbers grow with opening time as they would in real life. Each story draws
        # from its own generator, so what happens to an incident does not depend on the day the seed runs.
        for opened_at, index, target, reason in sorted(plans, key=lambda plan: (plan[0], plan[1])):
            self.rng = random.Random(f"{self.seed}:{index}")
            timeline, created_before = _Timeline(), len(self.incident_ids)
            if target == "major":
                self._major(timeline)
            else:
                self._story(timeline, target, final_hold=reason)
            self._backdate(timeline, opened_at, tickets=self.incident_ids[created_before:])
        self.rng = rng

    def _opened_at(self, target: str) -> datetime:
        low, high = OPENED_DAYS_AGO[target]
        moment = self.now - timedelta(days=self.rng.uniform(low, high))
        if high > 1:  # older incidents are mostly raised in office hours
            moment = moment.replace(hour=self.rng.randint(7, 18), minute=self.rng.randint(0, 59))
        return min(moment, self.now - timedelta(minutes=self.rng.randint(10, 120)))

    def _gap(self, kind: str) -> float:
        low, high = GAPS[kind]
        return self.rng.uniform(low, high)

    def _text(self, options: list[str], *, caller: User | None = None, ci: ConfigurationItem | None = None) -> str:
        return self.rng.choice(options).format(
            first=caller.first_name if caller else "",
            ci=ci.name if ci else "the affected system",
            n=self.rng.randint(10000, 99999),
        )

    def _story(self, timeline: _Timeline, target: str, *, final_hold: HoldReason | None) -> Incident:
        """One incident from creation to `target`, the way a desk would work it."""
        rng = self.rng
        template = rng.choice(TEMPLATES)
        caller = rng.choice(self.end_users)
        desk_agent = rng.choice(self.team_agents["Service Desk"])
        team = self.teams[template.team]
        assignee = rng.choice(self.team_agents[template.team])
        ci = self.cis[rng.choice(template.cis)] if template.cis and rng.random() < 0.85 else None
        impact = rng.choices([1, 2, 3], weights=[10, 35, 55])[0]
        urgency = rng.choices([1, 2, 3], weights=[15, 40, 45])[0]
        self_service = rng.random() < 0.35
        # New incidents are often still unassigned; the rest get an assignee at triage.
        assign_now = target != S.NEW or rng.random() < 0.4

        with timeline.step(0):
            if self_service:
                incident = incident_create(
                    by=caller,
                    short_description=template.short,
                    description=template.description,
                    service=self.services[template.service],
                )
            else:
                incident = incident_create(
                    by=desk_agent,
                    caller=caller,
                    short_description=template.short,
                    description=template.description,
                    impact=impact,
                    urgency=urgency,
                    service=self.services[template.service],
                    configuration_item=ci,
                    assignment_group=team if assign_now or rng.random() < 0.5 else None,
                )
        self.incident_ids.append(incident.pk)
        if self_service and (assign_now or rng.random() < 0.5):
            with timeline.step(self._gap("triage")):
                incident_update(
                    incident=incident,
                    by=desk_agent,
                    impact=impact,
                    urgency=urgency,
                    configuration_item=ci,
                    assignment_group=team,
                )
        if target == S.NEW:
            if rng.random() < 0.3:
                with timeline.step(self._gap("comment")):
                    incident_comment(incident=incident, by=caller, body=self._text(CALLER_FOLLOW_UPS))
            return incident

        if target == S.CANCELED and rng.random() < 0.6:
            with timeline.step(self._gap("cancel")):
                incident_cancel(incident=incident, by=desk_agent, reason=rng.choice(CANCEL_REASONS))
            return incident

        with timeline.step(self._gap("triage")):
            incident_update(incident=incident, by=desk_agent, assignment_group=team, assigned_to=assignee)
        with timeline.step(self._gap("start")):
            incident_start(incident=incident, by=assignee)
        if rng.random() < 0.6:
            with timeline.step(self._gap("comment")):
                incident_comment(incident=incident, by=assignee, body=self._text(AGENT_COMMENTS, caller=caller))
        with timeline.step(self._gap("work_note")):
            incident_comment(
                incident=incident, by=assignee, body=self._text(WORK_NOTES, ci=ci), kind=JournalKind.WORK_NOTE
            )

        if target == S.CANCELED:
            with timeline.step(self._gap("cancel")):
                incident_cancel(incident=incident, by=assignee, reason=rng.choice(CANCEL_REASONS))
            return incident
        if target == S.ON_HOLD:
            assert final_hold is not None
            self._hold(timeline, incident, by=assignee, reason=final_hold, ci=ci)
            return incident
        if rng.random() < 0.35:
            reason = self.hold_reasons[rng.choice(list(self.hold_reasons))]
            self._hold(timeline, incident, by=assignee, reason=reason, ci=ci)
            self._resume(timeline, incident, by=assignee, caller=caller)
        if target == S.IN_PROGRESS:
            if rng.random() < 0.5:
                with timeline.step(self._gap("work_note")):
                    incident_comment(
                        incident=incident, by=assignee, body=self._text(WORK_NOTES, ci=ci), kind=JournalKind.WORK_NOTE
                    )
            return incident

        self._resolve(timeline, incident, by=assignee, template=template)
        if target == S.CLOSED and rng.random() < 0.15:
            with timeline.step(self._gap("reopen")):
                incident_reopen(incident=incident, by=caller, comment=rng.choice(REOPEN_COMMENTS))
            with timeline.step(self._gap("work_note")):
                incident_comment(
                    incident=incident, by=assignee, body=self._text(WORK_NOTES, ci=ci), kind=JournalKind.WORK_NOTE
                )
            self._resolve(timeline, incident, by=assignee, template=template)
        if rng.random() < 0.3:
            with timeline.step(self._gap("thanks")):
                incident_comment(incident=incident, by=caller, body=rng.choice(THANKS))
        if target == S.CLOSED:
            closer = rng.choices([caller, assignee, None], weights=[30, 20, 50])[0]
            # Nobody confirmed: the auto-close timer closes it after the configured number of days.
            gap = self._gap("close") if closer else settings.ITSM_INCIDENT_AUTO_CLOSE_DAYS * 1440 + rng.uniform(1, 60)
            with timeline.step(gap):
                incident_close(incident=incident, by=closer)
        return incident

    def _hold(
        self, timeline: _Timeline, incident: Incident, *, by: User, reason: HoldReason, ci: ConfigurationItem | None
    ) -> None:
        if reason.slug in THIRD_PARTY_NOTES:
            with timeline.step(self._gap("work_note")):
                note = self._text([THIRD_PARTY_NOTES[reason.slug]], ci=ci)
                incident_comment(incident=incident, by=by, body=note, kind=JournalKind.WORK_NOTE)
        comment = self._text(CALLER_ASKS) if reason.slug == AWAITING_CALLER else ""
        with timeline.step(self._gap("hold")):
            incident_hold(incident=incident, by=by, reason=reason, comment=comment)

    def _resume(self, timeline: _Timeline, incident: Incident, *, by: User, caller: User) -> None:
        with timeline.step(self._gap("reply")):
            if incident.hold_reason is not None and incident.hold_reason.slug == AWAITING_CALLER:
                # The caller's reply resumes the incident by itself.
                incident_comment(incident=incident, by=caller, body=self._text(CALLER_REPLIES))
            else:
                incident_resume(incident=incident, by=by)

    def _resolve(self, timeline: _Timeline, incident: Incident, *, by: User, template: Template) -> None:
        slug = self.rng.choices(list(CLOSE_CODE_WEIGHTS), weights=list(CLOSE_CODE_WEIGHTS.values()))[0]
        code = self.close_codes.get(slug) or self.close_codes["solution_provided"]
        with timeline.step(self._gap("resolve")):
            incident_resolve(incident=incident, by=by, close_code=code, close_notes=template.fix)

    def _major(self, timeline: _Timeline) -> Incident:
        """A major email outage with three child incidents, all resolved by resolving the parent."""
        rng = self.rng
        desk_agent = self.team_agents["Service Desk"][1]
        team = self.teams["Application Support"]
        lead = self.team_agents["Application Support"][0]
        callers = rng.sample(self.end_users, MAJOR_CHILDREN + 1)
        email, platform = self.services["Email"], self.cis["Mail platform"]
        with timeline.step(0):
            parent = incident_create(
                by=desk_agent,
                caller=callers[0],
                short_description="Email outage: users cannot send or receive mail",
                description="Since about 8:40 nobody in the head office can send or receive email. "
                "Outlook shows 'Disconnected'; webmail returns an error.",
                impact=1,
                urgency=1,
                service=email,
                configuration_item=platform,
                assignment_group=team,
                assigned_to=lead,
                major_incident=True,
            )
        self.incident_ids.append(parent.pk)
        with timeline.step(rng.uniform(2, 8)):
            incident_start(incident=parent, by=lead)
        with timeline.step(rng.uniform(5, 15)):
            incident_comment(
                incident=parent,
                by=lead,
                body="Major incident declared. Bridge call opened; updates every 30 minutes.",
                kind=JournalKind.WORK_NOTE,
            )
        children = [
            ("Cannot send emails", "Every mail I send stays in the Outbox."),
            ("Outlook shows Disconnected", "Outlook says 'Disconnected' in the status bar since this morning."),
            ("Customer emails not arriving", "Our customers say they emailed us an hour ago; nothing arrived."),
        ]
        for index, (short, description) in enumerate(children):
            with timeline.step(rng.uniform(3, 20)):
                child = incident_create(
                    by=desk_agent,
                    caller=callers[index + 1],
                    short_description=short,
                    description=description,
                    impact=2,
                    urgency=1,
                    service=email,
                    assignment_group=self.teams["Service Desk"],
                    assigned_to=desk_agent,
                    parent=parent,
                )
            self.incident_ids.append(child.pk)
            if index >= 1:
                with timeline.step(rng.uniform(2, 10)):
                    incident_start(incident=child, by=desk_agent)
            if index == 2:
                reason = self.hold_reasons.get("awaiting_problem") or self.hold_reasons[AWAITING_CALLER]
                with timeline.step(rng.uniform(2, 10)):
                    incident_hold(
                        incident=child, by=desk_agent, reason=reason, comment="Linked to the ongoing email outage."
                    )
        with timeline.step(rng.uniform(20, 40)):
            incident_comment(
                incident=parent,
                by=lead,
                body=f"Hello {callers[0].first_name}, we are aware of the email outage and working on it with "
                "the highest priority. Next update in 30 minutes.",
            )
        with timeline.step(rng.uniform(30, 60)):
            incident_comment(
                incident=parent,
                by=lead,
                body="Root cause: the mail store volume on mail-01 is full; expanding it on san-01.",
                kind=JournalKind.WORK_NOTE,
            )
        with timeline.step(rng.uniform(30, 90)):
            incident_resolve(
                incident=parent,
                by=lead,
                close_code=self.close_codes["solution_provided"],
                close_notes="Expanded the mail store volume on mail-01 and restarted the transport services; "
                "mail flow is restored and the queues have drained.",
            )
        return parent

    # --- problems -----------------------------------------------------------------------------------------------

    def problems(self) -> None:
        """About fifteen problems in every state, worked through problems.services like the incidents: some linked
        to open demo incidents (one resolving those on hold for it), two known errors with articles, a few tasks.

        Runs after the incidents are aligned, so a problem only links incidents whose history is already over by
        the time it links them (the link lands in the incidents' journals too)."""
        plans = []
        for index, story in enumerate(PROBLEM_STORIES):
            rng = random.Random(f"{self.seed}:problem:{index}")
            low, high = PROBLEM_OPENED_DAYS_AGO[story.target]
            plans.append((self.now - timedelta(days=rng.uniform(low, high)), index, story))
        touched: list[int] = []
        for opened_at, index, story in sorted(plans, key=lambda plan: (plan[0], plan[1])):
            self.rng = random.Random(f"{self.seed}:problem:{index}")
            timeline, created_before = _Timeline(), len(self.problem_ids) + len(self.task_ids)
            linked = self._problem_story(timeline, story, opened_at)
            touched += linked
            tickets = [*self.problem_ids, *self.task_ids][created_before:]
            self._backdate(timeline, opened_at, tickets=[*tickets, *linked])
        self.align_tickets([*self.problem_ids, *self.task_ids, *touched])

    def _waiting_incidents(self, story: ProblemStory, limit: int, *, before: datetime) -> list[Incident]:
        """Open demo incidents on the story's service (those on hold for a problem first), unlinked and quiet
        since `before`."""
        candidates = (
            Incident.objects.filter(pk__in=self.incident_ids, active=True, problem__isnull=True, updated_at__lt=before)
            .exclude(state__in=[IncidentState.RESOLVED])
            .select_related("hold_reason", "caller")
        )
        same = [i for i in candidates.filter(service__name=story.service).order_by("pk")]
        waiting = [i for i in candidates.filter(hold_reason__slug="awaiting_problem").order_by("pk")]
        chosen = [i for i in waiting if i.service and i.service.name == story.service] + same + waiting
        unique = list(dict.fromkeys(chosen))
        return unique[:limit]

    def _problem_story(self, timeline: _Timeline, story: ProblemStory, opened_at: datetime) -> list[int]:
        rng = self.rng
        team = self.teams[story.team]
        lead = rng.choice(self.team_agents[story.team])
        target = story.target
        with timeline.step(0):
            problem = problem_services.problem_create(
                by=lead,
                short_description=story.short,
                description=story.description,
                impact=rng.choice([1, 2, 2, 3]),
                urgency=rng.choice([2, 2, 3]),
                service=self.services[story.service],
                configuration_item=self.cis[story.ci],
                assignment_group=team,
                assigned_to=lead,
            )
        self.problem_ids.append(problem.pk)
        if target == "canceled":
            with timeline.step(rng.uniform(60, 600)):
                problem_services.problem_cancel(problem=problem, by=lead, reason=story.close_notes)
            return []
        if target == "new":
            return []
        with timeline.step(rng.uniform(60, 1440)):
            problem_services.problem_assess(problem=problem, by=lead)
        if target == "resolved" and story.resolution in ("duplicate", "canceled"):
            original = Problem.objects.filter(pk__in=self.problem_ids, service=problem.service).exclude(pk=problem.pk)
            original = original.order_by("pk").first() or Problem.objects.exclude(pk=problem.pk).order_by("pk").first()
            with timeline.step(rng.uniform(60, 1440)):
                if story.resolution == "duplicate" and original is not None:
                    problem_services.problem_resolve(
                        problem=problem, by=lead, resolution_code="duplicate", duplicate_of=original
                    )
                else:
                    problem_services.problem_resolve(
                        problem=problem,
                        by=lead,
                        resolution_code="canceled",
                        close_notes=story.close_notes or "No longer relevant.",
                    )
            return []
        if target == "assess":
            return []
        with timeline.step(rng.uniform(120, 2880)):
            problem_services.problem_analyze(problem=problem, by=lead)
        for short in story.tasks:
            member = rng.choice(self.team_agents[story.team])
            with timeline.step(rng.uniform(30, 600)):
                task = problem_services.problem_task_create(
                    problem=problem, by=lead, short_description=short, assignment_group=team, assigned_to=member
                )
            self.task_ids.append(task.pk)
            with timeline.step(rng.uniform(30, 600)):
                problem_services.problem_task_start(task=task, by=member)
            if target != "root_cause_analysis":
                with timeline.step(rng.uniform(120, 1440)):
                    problem_services.problem_task_close(
                        task=task, by=member, close_notes="Done; findings are in the problem's work notes."
                    )
        if story.known_error:
            with timeline.step(rng.uniform(60, 1440)):
                problem_services.problem_mark_known_error(
                    problem=problem, by=lead, workaround=story.workaround, cause_notes=story.cause
                )
        if target == "root_cause_analysis":
            return self._link_recent(timeline, story, problem, lead, opened_at, resolve=False)
        with timeline.step(rng.uniform(120, 2880)):
            problem_services.problem_fix(problem=problem, by=lead, cause_notes=story.cause or "See work notes.")
        if target == "fix_in_progress":
            return self._link_recent(timeline, story, problem, lead, opened_at, resolve=False)
        if target == "resolved" and story.resolution == "fix_applied":
            return self._link_recent(timeline, story, problem, lead, opened_at, resolve=True)
        with timeline.step(rng.uniform(240, 4000)):
            problem_services.problem_resolve(
                problem=problem,
                by=lead,
                resolution_code=story.resolution,
                fix_notes=story.fix,
                close_notes=story.close_notes,
            )
        if target == "closed":
            with timeline.step(rng.uniform(1440, 7200)):
                problem_services.problem_close(problem=problem, by=lead)
        return []

    def _link_recent(
        self,
        timeline: _Timeline,
        story: ProblemStory,
        problem: Problem,
        lead: User,
        opened_at: datetime,
        *,
        resolve: bool,
    ) -> list[int]:
        """Link up to two open incidents in the last hour (after their own history) and put them on hold awaiting
        the problem; optionally resolve the problem with its fix, which resolves them in the same step."""
        link_at = self.now - timedelta(minutes=50)
        incidents = self._waiting_incidents(story, 2, before=link_at - timedelta(minutes=10))
        so_far = sum(gap for _lo, _hi, gap in timeline.steps)
        gap = max(1.0, (link_at - opened_at).total_seconds() / 60 - so_far)
        desk = self.team_agents["Service Desk"][0]
        for incident in incidents:
            with timeline.step(gap):
                problem_services.problem_link_incident(problem=problem, incident=incident, by=desk)
                # The desk waits for the problem now.
                if incident.hold_reason is None or incident.hold_reason.slug != "awaiting_problem":
                    incident_hold(incident=incident, by=desk, reason=self.hold_reasons["awaiting_problem"])
            gap = self.rng.uniform(1, 5)
        if resolve:
            with timeline.step(self.rng.uniform(10, 20)):
                problem_services.problem_resolve(
                    problem=problem,
                    by=lead,
                    resolution_code="fix_applied",
                    fix_notes=story.fix,
                    resolve_incidents=True,
                )
        return [incident.pk for incident in incidents]

    # --- time ---------------------------------------------------------------------------------------------------

    def _backdate(self, timeline: _Timeline, opened_at: datetime, *, tickets: list[int]) -> None:
        """Spread the story's journal entries from `opened_at`, squeezed into the time left before now if needed."""
        if not timeline.steps:
            return
        total = sum(gap for _lo, _hi, gap in timeline.steps)
        window = (self.now - timedelta(minutes=2) - opened_at).total_seconds() / 60
        factor = min(1.0, window / total) if total > 0 else 1.0
        moment, whens = opened_at, []
        for _lo, hi, gap in timeline.steps:
            moment += timedelta(minutes=gap * factor)
            whens.append(When(id__lte=hi, then=Value(moment)))
        first, last = timeline.steps[0][0], timeline.steps[-1][1]
        # Filtered on the story's tickets too: on PostgreSQL another session's entries may take ids in between.
        JournalEntry.objects.filter(id__gt=first, id__lte=last, ticket_id__in=tickets).update(
            created_at=Case(*whens, output_field=DateTimeField())
        )

    def align_tickets(self, ticket_ids: list[int] | None = None) -> None:
        """Derive opened/resolved/closed/updated times from the backdated journal, and date the fsm log alike."""
        ticket_ids = self.incident_ids if ticket_ids is None else ticket_ids
        journal = JournalEntry.objects.filter(ticket=OuterRef("pk"))

        def last(entries):
            return Subquery(entries.order_by("-created_at", "-id").values("created_at")[:1])

        none = Value(None, output_field=DateTimeField())
        Ticket.objects.filter(pk__in=ticket_ids).update(
            opened_at=Subquery(journal.filter(transition="create").values("created_at")[:1]),
            resolved_at=Case(
                When(resolved_at__isnull=True, then=none), default=last(journal.filter(transition="resolve"))
            ),
            closed_at=Case(
                When(closed_at__isnull=True, then=none),
                default=last(journal.filter(transition__in=["close", "cancel"])),
            ),
            updated_at=last(journal),
        )
        # One fsm log row per journaled transition (creation has none), in the same order.
        times: dict[int, list[datetime]] = defaultdict(list)
        transitions = (
            JournalEntry.objects.filter(ticket_id__in=ticket_ids, kind=JournalKind.TRANSITION)
            .exclude(transition="create")
            .order_by("ticket_id", "created_at", "id")
            .values_list("ticket_id", "created_at")
        )
        for ticket_id, created_at in transitions:
            times[ticket_id].append(created_at)
        logs = StateLog.objects.filter(
            content_type__in=ContentType.objects.get_for_models(Incident, Problem, ProblemTask).values(),
            object_id__in=ticket_ids,
        ).order_by("object_id", "timestamp", "id")
        updated = []
        for object_id, group in _group_by(logs.only("id", "object_id", "timestamp"), "object_id"):
            for log, moment in zip(group, times[object_id], strict=False):
                log.timestamp = moment
                updated.append(log)
        StateLog.objects.bulk_update(updated, ["timestamp"], batch_size=500)

    # --- changes ------------------------------------------------------------------------------------------------

    def changes(self) -> None:
        """A risk questionnaire, a standard template, a CAB policy (2 of 3 managers) for high-risk normal changes, an
        ECAB and a default policy, blackout and maintenance windows, and changes of each type in several states on
        the CMDB's CIs, all through the services: the coming weeks' changes (with visible conflicts: a dependency two
        CIs away and a double-booked engineer, the year-end freeze, a change outside its CI's maintenance window, and
        an emergency change a change manager scheduled over its conflict), and the past weeks' changes, done and
        backdated, so the change calendar shows a realistic month."""
        from changes import services as change_services
        from changes.models import Change, ChangeTemplate, ChangeWindow, RiskAnswerOption, RiskQuestion
        from itsm.models import Approval, ApprovalPolicy, ApprovalStage
        from itsm.services import approval_approve, approval_reject

        self.change_ids: list[int] = []
        cab = [User.objects.get(username=name) for name in ("manager1", "manager2", "manager3")]
        Group.objects.get(name=Role.CHANGE_MANAGER).user_set.add(*cab)
        lead, desk = User.objects.get(username="manager2"), User.objects.get(username="agent2")
        network = self.teams["Network Operations"]

        def policy(name: str, order: int, approvers: list[User], *, ticket_type="", risk="", rule="any", need=1):
            row = ApprovalPolicy.objects.create(name=name, ticket_type=ticket_type, risk=risk, order=order)
            ApprovalStage.objects.create(policy=row, number=1, rule=rule, required=need).users.set(approvers)

        policy("CAB: high and very high risk", 10, cab, ticket_type="normal", risk="high", rule="n_of_m", need=2)
        policy("CAB: very high risk", 11, cab, ticket_type="normal", risk="very_high", rule="all")
        policy("ECAB", 20, cab, ticket_type="emergency")
        policy("Change manager", 100, [cab[0]], ticket_type="normal")
        questions = [
            ("How many users does it affect if it fails?", [("A few", 0), ("A department", 3), ("Everyone", 6)]),
            ("Has it been done before?", [("Routinely", 0), ("Once or twice", 2), ("Never", 4)]),
            ("Can it be backed out within the window?", [("Yes, tested", 0), ("Yes, untested", 2), ("No", 5)]),
        ]
        options: list[list[RiskAnswerOption]] = []
        for order, (text, answers) in enumerate(questions, 1):
            question = RiskQuestion.objects.create(text=text, order=order)
            options.append(
                [
                    RiskAnswerOption.objects.create(question=question, label=a, score=s, order=i)
                    for i, (a, s) in enumerate(answers)
                ]
            )
        template = ChangeTemplate.objects.create(
            name="Add a firewall rule for an approved application",
            short_description="Open an outbound firewall port for an approved application",
            implementation_plan="Add the rule from the request to the edge firewall policy; commit.",
            backout_plan="Remove the rule and commit.",
            test_plan="Connect from the application server to the destination.",
            assignment_group=network,
            configuration_item=self.cis.get("fw-edge-01"),
        )

        self._change_windows()

        def window(days: float, hours: float = 2) -> dict:
            # Today's changes start this hour; the others in the evening.
            start = (self.now + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
            start = start if days == 0 else start.replace(hour=19)
            return {"planned_start": start, "planned_end": start + timedelta(hours=hours)}

        def normal(short: str, days: float, picks: tuple[int, int, int], *, change_type="normal", cis=(), **fields):
            fields = {"assignment_group": network, **window(days), **fields}
            name = "Emergency fix" if change_type == "emergency" else "Normal"
            fields.setdefault("category", Category.objects.filter(practice="change", name=name, parent=None).first())
            change = change_services.change_create(
                by=desk,
                short_description=short,
                change_type=change_type,
                justification="Requested by the service owner.",
                implementation_plan="Follow the vendor's upgrade guide.",
                backout_plan="Restore the configuration backup taken before the work.",
                test_plan="Run the service's smoke tests.",
                affected_cis=[self.cis[name] for name in cis],
                **fields,
            )
            self.change_ids.append(change.pk)
            if change_type == "normal":
                change_services.change_assess(change=change, by=desk)
            answers = {opts[0].question_id: opts[pick].pk for opts, pick in zip(options, picks, strict=True)}
            change_services.change_assess_risk(change=change, by=desk, answers=answers)
            return change

        def decide(change, *, reject: bool = False):
            # One decision at a time: each may skip or withdraw the others (policy met, or rejected).
            for _decision in range(1 if reject else 3):
                approval = Approval.objects.filter(ticket=change, state="requested").select_related("approver")
                approval = approval.order_by("pk").first()
                if approval is None:
                    break
                if reject:
                    approval_reject(approval=approval, by=approval.approver, comment="Clashes with quarter-end.")
                else:
                    approval_approve(approval=approval, by=approval.approver, comment="Approved at CAB.")
            return Change.objects.get(pk=change.pk)  # the approvals moved it on through another instance

        def scheduled(change):
            # Approved but held back by a conflict: the change manager schedules it over the conflict, journaled.
            if change.state == "authorize" and change.approval == "approved":
                change_services.change_schedule(
                    change=change, by=cab[0], override_reason="Agreed at CAB: the teams coordinate on the day."
                )
            return change

        london = zoneinfo.ZoneInfo("Europe/London")

        def sunday(weeks: int, hour: int = 2) -> dict:
            # Inside the network core's maintenance window (Sundays 01:00-05:00, London), `weeks` from the next one.
            local = self.now.astimezone(london)
            day = local + timedelta(days=((6 - local.weekday()) % 7 or 7) + 7 * weeks)
            start = day.replace(hour=hour, minute=0, second=0, microsecond=0)
            return {"planned_start": start, "planned_end": start + timedelta(hours=1)}

        self._past_changes(normal, decide, scheduled, template, lead, sunday)
        # A Saturday 22:00 at least a week out, inside the databases' maintenance window.
        saturday = (self.now.astimezone(london) + timedelta(days=((5 - self.now.weekday()) % 7 or 7) + 7)).replace(
            hour=22, minute=0, second=0, microsecond=0
        )
        erp = {"planned_start": saturday, "planned_end": saturday + timedelta(hours=3)}
        dba = self.teams["Database Administration"]
        dba_engineer = dba.members.order_by("username").first()
        normal("Replace the core switch in building A", 9, (0, 0, 0), cis=["core-sw-01"])  # outside its maintenance
        waiting = normal("Upgrade the VPN concentrator firmware", 6, (2, 2, 0), cis=["vpn-gw-01"])  # CAB, 2 of 3
        change_services.change_request_approval(change=waiting, by=desk)
        approved = normal(
            "Move the ERP database to new storage",
            0,
            (2, 1, 2),
            cis=["erp-db-01"],
            assignment_group=dba,
            assigned_to=dba_engineer,
            **erp,
        )
        change_services.change_request_approval(change=approved, by=desk)
        scheduled(decide(approved))  # two approvals: scheduled
        # Two CIs below the ERP database's application (erp-app-01 -> erp-db-01 -> san-01) and the same engineer.
        normal(
            "Upgrade the SAN controller firmware",
            0,
            (1, 1, 0),
            cis=["san-01"],
            assignment_group=dba,
            assigned_to=dba_engineer,
            planned_start=saturday + timedelta(hours=1),
            planned_end=saturday + timedelta(hours=4),
        )
        rejected = normal("Re-address the guest Wi-Fi", 5, (1, 1, 2), cis=["wlc-01"])
        change_services.change_request_approval(change=rejected, by=desk)
        decide(rejected, reject=True)  # back to New
        freeze = ChangeWindow.objects.get(name="Year-end change freeze")
        normal(
            "Decommission the old print server",
            (freeze.start - self.now).days + 3,
            (0, 1, 0),
            cis=["print-01"],
        )  # inside the year-end freeze
        done = normal("Renew the mail gateway certificate", -1, (0, 0, 0), cis=["mail-01"])
        change_services.change_request_approval(change=done, by=desk)
        done = scheduled(decide(done))
        change_services.change_implement(change=done, by=lead)
        change_services.change_review(change=done, by=lead, close_code="successful", close_notes="Renewed, no impact.")
        change_services.change_close(change=done, by=lead, review_notes="Automate renewals next year.")
        self._backdate_change(done.pk)
        emergency = normal(
            "Patch the edge firewall (vendor advisory)", 0, (2, 0, 0), change_type="emergency", cis=["fw-edge-01"]
        )
        change_services.change_request_approval(change=emergency, by=desk)
        emergency = scheduled(decide(emergency))  # outside the network's maintenance window: overridden
        change_services.change_implement(change=emergency, by=lead)
        pending = normal("Restart the crashed load balancer pair", 0, (1, 0, 0), change_type="emergency")
        change_services.change_request_approval(change=pending, by=desk)
        for weeks, assign in ((0, None), (1, desk)):
            standard = change_services.change_create_from_template(
                template=template, by=desk, assigned_to=assign, **sunday(weeks)
            )
            self.change_ids.append(standard.pk)
        reviewed = change_services.change_create_from_template(template=template, by=desk, **sunday(-1, hour=3))
        self.change_ids.append(reviewed.pk)
        change_services.change_implement(change=reviewed, by=desk)
        change_services.change_review(
            change=reviewed, by=desk, close_code="successful_with_issues", close_notes="The rule needed a second port."
        )
        canceled = change_services.change_create_from_template(template=template, by=desk)
        self.change_ids.append(canceled.pk)
        change_services.change_cancel(change=canceled, by=desk, reason="The application was retired.")

    def _change_windows(self) -> None:
        """The year-end freeze, the ERP month-end close, and weekly maintenance windows for the network core and
        the databases."""
        from changes.models import ChangeWindow

        zone = timezone.get_current_timezone()
        year = self.now.year if self.now.date() < datetime(self.now.year, 12, 18).date() else self.now.year + 1
        ChangeWindow.objects.create(
            kind="blackout",
            name="Year-end change freeze",
            description="No changes over the holidays and the year-end close, except emergencies.",
            start=datetime(year, 12, 18, 18, tzinfo=zone),
            end=datetime(year + 1, 1, 4, 8, tzinfo=zone),
        )
        month_end = (self.now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0, minute=0, second=0)
        close = ChangeWindow.objects.create(
            kind="blackout",
            name="ERP month-end close",
            description="Finance closes the books: the ERP stays untouched.",
            start=month_end - timedelta(days=2),
            end=month_end + timedelta(days=2),
        )
        close.services.add(self.services["ERP"])
        network = ChangeWindow.objects.create(
            kind="maintenance",
            name="Network core: Sunday early hours",
            recurrence="weekly",
            weekdays="7",
            start_time=datetime.min.replace(hour=1).time(),
            end_time=datetime.min.replace(hour=5).time(),
            time_zone="Europe/London",
        )
        network.configuration_items.add(self.cis["core-sw-01"], self.cis["core-sw-02"], self.cis["fw-edge-01"])
        databases = ChangeWindow.objects.create(
            kind="maintenance",
            name="Databases: Saturday night",
            recurrence="weekly",
            weekdays="6",
            start_time=datetime.min.replace(hour=22).time(),
            end_time=datetime.min.replace(hour=3).time(),
            time_zone="Europe/London",
        )
        databases.configuration_items.add(*(self.cis[name] for name in ("erp-db-01", "hr-db-01", "crm-db-01")))

    def _past_changes(self, normal, decide, scheduled, template, lead, sunday) -> None:
        """Three weeks of done changes (normal and standard), each backdated: raised a week before its window,
        approved days before, implemented in its window, reviewed at its end and closed the day after."""
        from changes import services as change_services
        from changes.models import Change
        from itsm.models import Approval

        desk = User.objects.get(username="agent2")
        past = [
            ("Rotate the VPN gateway certificates", -20, ["vpn-gw-02"]),
            ("Add memory to the CRM application server", -17, ["crm-app-01"]),
            ("Patch the domain controllers (monthly)", -13, ["dc-02"]),
            ("Upgrade the print management software", -9, ["Print management"]),
            ("Extend the file share quota for Finance", -6, ["fs-01"]),
            ("Update the HR portal's TLS configuration", -3, ["hr-web-01"]),
        ]
        done = []
        for short, days, cis in past:
            change = normal(short, days, (0, 0, 0), cis=cis)
            change_services.change_request_approval(change=change, by=desk)
            done.append(scheduled(decide(change)))
        for weeks in (-4, -3, -2):
            standard = change_services.change_create_from_template(template=template, by=desk, **sunday(weeks))
            self.change_ids.append(standard.pk)
            done.append(standard)
        for change in done:
            change = Change.objects.get(pk=change.pk)
            change_services.change_implement(change=change, by=lead)
            issues = change.pk % 4 == 0
            change_services.change_review(
                change=change,
                by=lead,
                close_code="successful_with_issues" if issues else "successful",
                close_notes="Took longer than planned." if issues else "Done in the window.",
            )
            change_services.change_close(change=change, by=lead, review_notes="No follow-up needed.")
            self._backdate_change(change.pk)
        Approval.objects.filter(ticket_id__in=[c.pk for c in done]).update(
            requested_at=Subquery(
                JournalEntry.objects.filter(ticket_id=OuterRef("ticket_id"), transition="request_approval").values(
                    "created_at"
                )[:1]
            ),
        )

    def _backdate_change(self, change_id: int) -> None:
        """Spread a done change's journal over its story around its planned window, and date the record alike."""
        from changes.models import Change

        change = Change.objects.get(pk=change_id)
        start, end = change.planned_start, change.planned_end
        # Closed the day after its window, or now when that day has not come yet (a change done last night).
        closed = min(end + timedelta(days=1), self.now)
        moments = {"implement": start, "review": end, "close": closed}
        entries = list(JournalEntry.objects.filter(ticket_id=change_id).order_by("id"))
        head = [e for e in entries if e.transition not in moments]
        opened = start - timedelta(days=7)
        step = (start - timedelta(days=1) - opened) / max(len(head), 1)
        moment = opened
        for entry in entries:
            if entry.transition in moments:
                moment = moments[entry.transition]
            elif entry is not head[0]:
                moment = min(moment + step, start - timedelta(hours=1)) if moment < start else moment
            entry.created_at = moment
        JournalEntry.objects.bulk_update(entries, ["created_at"])
        Change.objects.filter(pk=change_id).update(
            opened_at=opened,
            actual_start=start,
            actual_end=end,
            resolved_at=end,
            closed_at=closed,
            updated_at=closed,
        )


def _group_by(rows, attribute: str):
    groups: dict[int, list] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return groups.items()


class Command(BaseCommand):
    help = (
        "Load demo users, teams, catalog, CMDB and incidents (idempotent: when demo data is present it only resets "
        "the demo accounts' passwords to ITSM_DEMO_PASSWORD)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--incidents", type=int, default=300, help="How many incidents to create (default 300).")
        parser.add_argument(
            "--keep-outbox",
            action="store_true",
            help="Leave the demo's notifications pending in the outbox (the flush sweep will send them).",
        )

    def handle(self, *args, incidents: int, keep_outbox: bool, **options) -> None:
        if incidents < 0:
            raise CommandError("--incidents must be zero or more.")
        if User.objects.filter(username="agent1").exists() and Incident.objects.exists():
            self.stdout.write("Demo data is already present; nothing to do.")
            self._passwords()
            return
        started = time.monotonic()
        seeder = DemoSeeder(seed=42, now=timezone.now())
        with transaction.atomic(), _after_commit_callbacks_dropped():
            seeder.people()
            seeder.catalog()
            seed_categories()
            seeder.incidents(incidents)
            seeder.align_tickets()
            seeder.problems()
            seeder.service_levels()
            seeder.changes()
            seeder.incident_ids += seed_channels(seeder)
            request_ids = seed_service_requests(seeder)
            request_ids += seed_request_mailbox(seeder)
            seeder.incident_ids += seed_automation(seeder)
            seed_watchers(seeder)
            seed_saved_filters()
            tickets = [*seeder.incident_ids, *seeder.problem_ids, *seeder.task_ids, *seeder.change_ids, *request_ids]
            outbox = OutboxMessage.objects.filter(ticket_id__in=tickets)
            dropped = 0 if keep_outbox else outbox.delete()[0]
        self._summary(seeder, dropped=dropped, seconds=time.monotonic() - started)
        self._passwords()

    def _passwords(self) -> None:
        # ITSM_DEMO_PASSWORD may have changed since the first seed (or an account predates it): the sign-in hint
        # must stay true, so the fixed demo accounts get the current password back.
        changed = demo_passwords_sync(password=settings.ITSM_DEMO_PASSWORD)
        if changed:
            self.stdout.write(f"  demo passwords reset to ITSM_DEMO_PASSWORD for {changed} accounts.")

    def _summary(self, seeder: DemoSeeder, *, dropped: int, seconds: float) -> None:
        by_state = Counter(
            dict(Incident.objects.filter(pk__in=seeder.incident_ids).values_list("state").annotate(n=Count("pk")))
        )
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {seconds:.1f} s."))
        self.stdout.write(
            f"  users: {User.objects.count()}, teams: {Team.objects.count()}, services: {Service.objects.count()}, "
            f"configuration items: {ConfigurationItem.objects.count()}"
        )
        self.stdout.write(f"  incidents: {len(seeder.incident_ids)}")
        for state in IncidentState:
            self.stdout.write(f"    {state.label:<12} {by_state.get(state.value, 0):>5}")
        journal = JournalEntry.objects.filter(ticket_id__in=seeder.incident_ids).count()
        problems = Counter(
            dict(Problem.objects.filter(pk__in=seeder.problem_ids).values_list("state").annotate(n=Count("pk")))
        )
        self.stdout.write(
            f"  problems: {len(seeder.problem_ids)} ({', '.join(f'{k}: {v}' for k, v in sorted(problems.items()))}), "
            f"problem tasks: {len(seeder.task_ids)}"
        )
        changes = Counter(
            dict(
                Ticket.objects.filter(pk__in=seeder.change_ids).values_list("as_change__state").annotate(n=Count("pk"))
            )
        )
        self.stdout.write(
            f"  changes: {len(seeder.change_ids)} ({', '.join(f'{k}: {v}' for k, v in sorted(changes.items()))})"
        )
        self.stdout.write(f"  journal entries: {journal}")
        items = Ticket.objects.filter(kind="requested_item").values_list("as_requested_item__state", flat=True)
        states = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(items).items()))
        self.stdout.write(f"  requested items: {len(items)} ({states})")
        pending = OutboxMessage.objects.filter(ticket_id__in=seeder.incident_ids).count()
        if dropped:
            self.stdout.write(f"  notifications: {dropped} dropped (demo history; use --keep-outbox to keep them)")
        else:
            self.stdout.write(f"  notifications: {pending} pending in the outbox")
        self.stdout.write("  sign in as admin, agent1 or user1 with the password in ITSM_DEMO_PASSWORD.")
