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
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Case, Count, DateTimeField, OuterRef, Subquery, Value, When
from django.utils import timezone
from django_fsm_log.models import StateLog

from catalog.models import CIType, ConfigurationItem, Service
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
from itsm.models import JournalEntry, OutboxMessage, Team, Ticket
from itsm.roles import roles_ensure

S = IncidentState

# --- reference data -----------------------------------------------------------------------------------------------

TEAMS = [
    ("Service Desk", "First line: takes every call and email, fixes what it can, routes the rest.", "servicedesk"),
    ("Network Operations", "LAN, Wi-Fi, VPN, firewalls and telephony.", "netops"),
    ("Database Administration", "Database servers, backups and the data warehouse.", "dba"),
    ("Desktop Support", "Laptops, printers, file shares and meeting rooms.", "desktop"),
    ("Application Support", "Email, ERP, CRM and the HR portal.", "appsupport"),
]

# username, first name, last name, team, team manager?
STAFF = [
    ("manager1", "Grace", "Holloway", "Service Desk", True),
    ("manager2", "Victor", "Nakamura", "Network Operations", True),
    ("manager3", "Ingrid", "Solberg", "Database Administration", True),
    ("manager4", "Marcus", "Oyelaran", "Desktop Support", True),
    ("manager5", "Elena", "Vasquez", "Application Support", True),
    ("agent1", "Tom", "Becker", "Service Desk", False),
    ("agent2", "Priya", "Raman", "Network Operations", False),
    ("agent3", "Lucas", "Moreau", "Service Desk", False),
    ("agent4", "Hannah", "Kowalski", "Service Desk", False),
    ("agent5", "Diego", "Fernandes", "Network Operations", False),
    ("agent6", "Mei", "Chen", "Database Administration", False),
    ("agent7", "Oliver", "Grant", "Database Administration", False),
    ("agent8", "Fatima", "Haddad", "Desktop Support", False),
    ("agent9", "Jonas", "Lindqvist", "Desktop Support", False),
    ("agent10", "Aisha", "Bello", "Application Support", False),
    ("agent11", "Samuel", "Ortiz", "Application Support", False),
]

END_USERS = [
    ("user1", "Alice", "Martin"),
    ("user2", "Ben", "Carter"),
    ("jsmith", "John", "Smith"),
    ("mgarcia", "Maria", "Garcia"),
    ("wzhang", "Wei", "Zhang"),
    ("aokafor", "Adaeze", "Okafor"),
    ("lrossi", "Luca", "Rossi"),
    ("sjohansson", "Sofia", "Johansson"),
    ("dpatel", "Dev", "Patel"),
    ("emueller", "Emma", "Müller"),
    ("kobrien", "Kevin", "O'Brien"),
    ("nkim", "Nari", "Kim"),
    ("pdubois", "Pierre", "Dubois"),
    ("rsantos", "Rafael", "Santos"),
    ("tnguyen", "Thanh", "Nguyen"),
    ("hschmidt", "Heike", "Schmidt"),
    ("bwilliams", "Brianna", "Williams"),
    ("ysato", "Yuki", "Sato"),
    ("mkowalczyk", "Marta", "Kowalczyk"),
    ("cadeyemi", "Chidi", "Adeyemi"),
    ("ljensen", "Lars", "Jensen"),
    ("abrown", "Amelia", "Brown"),
    ("fcosta", "Filipa", "Costa"),
    ("rmehta", "Rohan", "Mehta"),
]

# name, owner team, criticality (1 critical .. 4 low), description
SERVICES = [
    ("Email", "Application Support", 1, "Corporate mail, calendars and shared mailboxes."),
    ("VPN", "Network Operations", 2, "Remote access to the corporate network."),
    ("ERP", "Application Support", 1, "Finance, purchasing and logistics."),
    ("HR Portal", "Application Support", 3, "Payslips, holiday requests and personal data."),
    ("Wi-Fi", "Network Operations", 2, "Office and guest wireless networks."),
    ("Corporate network", "Network Operations", 1, "Wired LAN, core switching and internet access."),
    ("Printing", "Desktop Support", 4, "Printers, scanners and the print queues."),
    ("Laptop provisioning", "Desktop Support", 3, "Laptops, docks and the standard image."),
    ("File shares", "Desktop Support", 3, "Departmental network drives."),
    ("Telephony", "Network Operations", 2, "Desk phones, conference phones and the PBX."),
    ("CRM", "Application Support", 2, "Customer records, opportunities and sales pipeline."),
    ("Identity and access", "Service Desk", 1, "Accounts, passwords, MFA and directory services."),
    ("Data warehouse", "Database Administration", 3, "Management reports and dashboards."),
]

# name, type, service, owner team, depends on (must be defined earlier in the list)
CIS = [
    ("core-sw-01", CIType.NETWORK, "Corporate network", "Network Operations", []),
    ("core-sw-02", CIType.NETWORK, "Corporate network", "Network Operations", []),
    ("fw-edge-01", CIType.NETWORK, "Corporate network", "Network Operations", ["core-sw-01", "core-sw-02"]),
    ("wlc-01", CIType.NETWORK, "Wi-Fi", "Network Operations", ["core-sw-01"]),
    ("ap-hq-3f-02", CIType.NETWORK, "Wi-Fi", "Network Operations", ["wlc-01"]),
    ("dc-01", CIType.SERVER, "Identity and access", "Service Desk", ["core-sw-01"]),
    ("dc-02", CIType.SERVER, "Identity and access", "Service Desk", ["core-sw-02"]),
    ("vpn-gw-01", CIType.NETWORK, "VPN", "Network Operations", ["fw-edge-01", "dc-01"]),
    ("vpn-gw-02", CIType.NETWORK, "VPN", "Network Operations", ["fw-edge-01", "dc-02"]),
    ("san-01", CIType.STORAGE, None, "Database Administration", ["core-sw-01", "core-sw-02"]),
    ("mail-01", CIType.SERVER, "Email", "Application Support", ["dc-01", "san-01"]),
    ("mail-02", CIType.SERVER, "Email", "Application Support", ["dc-02", "san-01"]),
    ("erp-db-01", CIType.DATABASE, "ERP", "Database Administration", ["san-01"]),
    ("hr-db-01", CIType.DATABASE, "HR Portal", "Database Administration", ["san-01"]),
    ("crm-db-01", CIType.DATABASE, "CRM", "Database Administration", ["san-01"]),
    ("dwh-db-01", CIType.DATABASE, "Data warehouse", "Database Administration", ["san-01"]),
    ("erp-app-01", CIType.SERVER, "ERP", "Application Support", ["erp-db-01", "dc-01"]),
    ("erp-app-02", CIType.SERVER, "ERP", "Application Support", ["erp-db-01", "dc-02"]),
    ("hr-web-01", CIType.SERVER, "HR Portal", "Application Support", ["hr-db-01", "dc-01"]),
    ("crm-app-01", CIType.SERVER, "CRM", "Application Support", ["crm-db-01"]),
    ("print-01", CIType.SERVER, "Printing", "Desktop Support", ["dc-01", "core-sw-01"]),
    ("fs-01", CIType.SERVER, "File shares", "Desktop Support", ["san-01", "dc-01"]),
    ("dwh-etl-01", CIType.SERVER, "Data warehouse", "Database Administration", ["dwh-db-01", "erp-db-01", "crm-db-01"]),
    ("pbx-01", CIType.SERVER, "Telephony", "Network Operations", ["core-sw-02"]),
    ("Mail platform", CIType.APPLICATION, "Email", "Application Support", ["mail-01", "mail-02"]),
    ("ERP suite", CIType.APPLICATION, "ERP", "Application Support", ["erp-app-01", "erp-app-02"]),
    ("HR portal app", CIType.APPLICATION, "HR Portal", "Application Support", ["hr-web-01"]),
    ("CRM app", CIType.APPLICATION, "CRM", "Application Support", ["crm-app-01"]),
    ("VPN client", CIType.APPLICATION, "VPN", "Network Operations", ["vpn-gw-01", "vpn-gw-02"]),
    ("Print management", CIType.APPLICATION, "Printing", "Desktop Support", ["print-01"]),
    ("Self-service password reset", CIType.APPLICATION, "Identity and access", "Service Desk", ["dc-01", "dc-02"]),
    ("Data warehouse reports", CIType.APPLICATION, "Data warehouse", "Database Administration", ["dwh-etl-01"]),
    ("Standard laptop image", CIType.WORKSTATION, "Laptop provisioning", "Desktop Support", ["fs-01"]),
]


@dataclass(frozen=True)
class Template:
    short: str
    description: str
    service: str
    team: str
    cis: tuple[str, ...]
    fix: str


def _t(short: str, description: str, service: str, team: str, cis: list[str], fix: str) -> Template:
    return Template(short, description, service, team, tuple(cis), fix)


TEMPLATES = [
    _t(
        "Outlook keeps asking for password",
        "Since this morning Outlook prompts for my password every few minutes. I type it in and it asks again. "
        "Webmail works fine.",
        "Email",
        "Application Support",
        ["Mail platform", "mail-01"],
        "Cleared the cached credentials in Credential Manager and recreated the Outlook profile.",
    ),
    _t(
        "VPN disconnects every 10 minutes",
        "Working from home, the VPN drops roughly every ten minutes and I have to reconnect. My home internet is "
        "otherwise stable.",
        "VPN",
        "Network Operations",
        ["VPN client", "vpn-gw-01", "vpn-gw-02"],
        "vpn-gw-02 had a wrong idle timeout after the last firmware update; corrected it, sessions stay up.",
    ),
    _t(
        "Cannot connect to VPN: authentication failed",
        "The VPN client says 'authentication failed' although my password works everywhere else.",
        "VPN",
        "Service Desk",
        ["VPN client", "vpn-gw-01"],
        "The user's VPN certificate had expired; issued a new one and confirmed the connection.",
    ),
    _t(
        "ERP is very slow when posting invoices",
        "Posting an invoice in the ERP takes over a minute per document. The whole accounts payable team is affected.",
        "ERP",
        "Application Support",
        ["ERP suite", "erp-app-01", "erp-db-01"],
        "A long-running report held locks on the invoice tables; moved it outside business hours.",
    ),
    _t(
        "ERP login error: user locked",
        "I get 'user locked' when logging in to the ERP this morning.",
        "ERP",
        "Service Desk",
        ["ERP suite"],
        "Unlocked the ERP account and reset the password with the caller on the phone.",
    ),
    _t(
        "HR portal shows error 500",
        "Opening the HR portal gives 'Internal Server Error' for me and my colleagues.",
        "HR Portal",
        "Application Support",
        ["HR portal app", "hr-web-01"],
        "The application pool crashed after patching; restarted it and applied the vendor hotfix.",
    ),
    _t(
        "Payslip not visible in the HR portal",
        "This month's payslip is not in the HR portal; last month's is there.",
        "HR Portal",
        "Application Support",
        ["HR portal app", "hr-db-01"],
        "The payroll export job failed overnight; reran it and the payslips are visible.",
    ),
    _t(
        "Wi-Fi very slow in meeting room 3.12",
        "Video calls keep freezing in meeting room 3.12; speed test shows under 1 Mbit/s.",
        "Wi-Fi",
        "Network Operations",
        ["ap-hq-3f-02", "wlc-01"],
        "The access point sat on a congested channel; moved it and raised transmit power.",
    ),
    _t(
        "Cannot connect to guest Wi-Fi",
        "Our visitors cannot get past the guest Wi-Fi login page; it shows a certificate warning.",
        "Wi-Fi",
        "Network Operations",
        ["wlc-01"],
        "The guest portal certificate had expired; renewed it.",
    ),
    _t(
        "Printer on floor 3 jams on every job",
        "The big printer next to the kitchen on floor 3 jams on nearly every print job.",
        "Printing",
        "Desktop Support",
        ["print-01", "Print management"],
        "Replaced the worn pickup roller and cleaned the paper path.",
    ),
    _t(
        "Print jobs stuck in the queue",
        "Nothing comes out of the printer; my jobs sit in the queue with status 'Error - Printing'.",
        "Printing",
        "Desktop Support",
        ["print-01"],
        "Restarted the print spooler on print-01 and cleared the stuck jobs.",
    ),
    _t(
        "Cannot print to the new colour printer",
        "The new colour printer in marketing does not show up in my list of printers.",
        "Printing",
        "Desktop Support",
        ["Print management"],
        "Published the printer and installed the driver package from the software centre.",
    ),
    _t(
        "New starter laptop not ready for Monday",
        "Our new colleague starts on Monday and the laptop ordered for her has not arrived.",
        "Laptop provisioning",
        "Desktop Support",
        ["Standard laptop image"],
        "Laptop imaged and enrolled; handed over at reception.",
    ),
    _t(
        "Laptop will not boot after Windows update",
        "After last night's update my laptop shows a blue screen with 'INACCESSIBLE_BOOT_DEVICE'.",
        "Laptop provisioning",
        "Desktop Support",
        ["Standard laptop image"],
        "Rolled back the update from the recovery environment and paused it pending the vendor fix.",
    ),
    _t(
        "Laptop battery drains within an hour",
        "My laptop battery goes from full to empty in about an hour, even when idle.",
        "Laptop provisioning",
        "Desktop Support",
        [],
        "The battery failed the health check; replaced it under warranty.",
    ),
    _t(
        "Password reset does not send the SMS code",
        "The self-service password reset says it sent a code, but no SMS arrives.",
        "Identity and access",
        "Service Desk",
        ["Self-service password reset"],
        "The caller's mobile number was outdated in the directory; updated it and the code arrives.",
    ),
    _t(
        "Account locked out repeatedly",
        "My account gets locked every morning around 9, even after I reset my password.",
        "Identity and access",
        "Service Desk",
        ["dc-01", "dc-02"],
        "An old phone kept trying the previous password against mail; removed the account from it.",
    ),
    _t(
        "Access denied to Finance shared folder since yesterday",
        "I used to open the Finance folder on the S: drive; since yesterday it says access denied.",
        "File shares",
        "Desktop Support",
        ["fs-01"],
        "A clean-up script had removed the group membership; restored it.",
    ),
    _t(
        "Shared drive S: missing after login",
        "The S: drive no longer appears after I log in. I can still reach it by typing the path.",
        "File shares",
        "Desktop Support",
        ["fs-01"],
        "The drive mapping policy failed on a DNS lookup; fixed the policy.",
    ),
    _t(
        "File server very slow opening Excel files",
        "Opening any spreadsheet from the shared drive takes more than 30 seconds.",
        "File shares",
        "Desktop Support",
        ["fs-01", "san-01"],
        "On-access scanning of the share was misconfigured; applied the approved exclusion.",
    ),
    _t(
        "Desk phone shows 'No service'",
        "My desk phone shows 'No service' since I moved desks.",
        "Telephony",
        "Network Operations",
        ["pbx-01", "core-sw-02"],
        "The switch port had PoE disabled after maintenance; re-enabled it.",
    ),
    _t(
        "Calls drop after 30 seconds",
        "External calls drop after exactly 30 seconds; internal calls are fine.",
        "Telephony",
        "Network Operations",
        ["pbx-01"],
        "SIP session timers did not match the carrier's; aligned the settings.",
    ),
    _t(
        "CRM shows duplicate customer records",
        "Many customers appear twice in the CRM since Tuesday, with different contact details.",
        "CRM",
        "Application Support",
        ["CRM app", "crm-db-01"],
        "The nightly import ran twice; merged the duplicates and added a guard to the job.",
    ),
    _t(
        "CRM search returns no results",
        "Searching for any customer in the CRM returns nothing, even exact names.",
        "CRM",
        "Application Support",
        ["CRM app", "crm-app-01"],
        "The search index was corrupted; rebuilt it.",
    ),
    _t(
        "Sales dashboard shows yesterday's figures",
        "The sales dashboard still shows yesterday's numbers at 11 am.",
        "Data warehouse",
        "Database Administration",
        ["Data warehouse reports", "dwh-etl-01"],
        "The nightly load failed on a full tablespace; extended it and reran the load.",
    ),
    _t(
        "Monthly revenue report times out",
        "The 'Monthly revenue' report runs for five minutes and then times out.",
        "Data warehouse",
        "Database Administration",
        ["dwh-db-01"],
        "An index was lost in a schema change; recreated it and the report runs in 20 seconds.",
    ),
    _t(
        "ERP database backup failed",
        "Monitoring reports that last night's ERP database backup failed.",
        "ERP",
        "Database Administration",
        ["erp-db-01", "san-01"],
        "The backup volume was full; purged expired backups and reran the job.",
    ),
    _t(
        "Emails to external partners bounce",
        "Mails to two of our suppliers come back with '550 SPF check failed'.",
        "Email",
        "Application Support",
        ["mail-01", "mail-02"],
        "The SPF record lacked the new outbound address; DNS updated.",
    ),
    _t(
        "Shared mailbox not showing in Outlook",
        "The team mailbox 'orders' disappeared from my Outlook folder list.",
        "Email",
        "Application Support",
        ["Mail platform"],
        "Granted full access again with automapping; the mailbox appears after restarting Outlook.",
    ),
    _t(
        "Calendar invites arrive with the wrong time",
        "Invitations I receive show one hour later than the sender intended.",
        "Email",
        "Application Support",
        ["Mail platform"],
        "The mailbox time zone was set to UTC; corrected it.",
    ),
    _t(
        "Conference room speakerphone echoes",
        "Remote participants hear an echo of themselves when we use the speakerphone in room 2.04.",
        "Telephony",
        "Desktop Support",
        [],
        "Updated the speakerphone firmware and enabled echo cancellation.",
    ),
    _t(
        "External monitor flickers when docked",
        "When my laptop is docked the external monitor flickers every few seconds.",
        "Laptop provisioning",
        "Desktop Support",
        [],
        "Replaced the dock cable and updated the dock firmware.",
    ),
    _t(
        "Cannot install software from the software centre",
        "Every installation from the software centre fails with error 0x87D00607.",
        "Laptop provisioning",
        "Desktop Support",
        ["Standard laptop image"],
        "The client certificate had expired; renewed it and installations work.",
    ),
    _t(
        "MFA prompt never arrives on phone",
        "When I log in, the authenticator app never shows the approval prompt.",
        "Identity and access",
        "Service Desk",
        ["Self-service password reset"],
        "Re-registered the authenticator app with the caller.",
    ),
    _t(
        "Purchase order approval button missing in ERP",
        "As a budget holder I no longer see the 'Approve' button on purchase orders.",
        "ERP",
        "Application Support",
        ["ERP suite"],
        "The approver role had not been moved to production with the last release; assigned it.",
    ),
    _t(
        "Holiday request stuck in 'Pending'",
        "My holiday request has been 'Pending' for a week; my manager says she never got it.",
        "HR Portal",
        "Application Support",
        ["HR portal app"],
        "The workflow queue had stalled; restarted it and the requests reached the approvers.",
    ),
    _t(
        "Wired network down in warehouse building B",
        "None of the PCs or scanners in warehouse B have network since 7 am.",
        "Corporate network",
        "Network Operations",
        ["core-sw-02"],
        "An uplink module failed; replaced it and the building is back online.",
    ),
    _t(
        "Customer website unreachable from the office",
        "Our public website does not load from the office network; from mobile it works.",
        "Corporate network",
        "Network Operations",
        ["fw-edge-01"],
        "A firewall rule change blocked outbound traffic to the CDN; rolled it back.",
    ),
    _t(
        "Scanner does not send scans to email",
        "Scan-to-email on the floor 2 multifunction printer fails with 'SMTP error'.",
        "Printing",
        "Desktop Support",
        ["print-01", "mail-01"],
        "The relay credentials on the device had expired; updated them.",
    ),
    _t(
        "Laptop login fails: trust relationship failed",
        "I cannot log in: 'The trust relationship between this workstation and the primary domain failed'.",
        "Identity and access",
        "Desktop Support",
        ["dc-01"],
        "Rejoined the laptop to the domain.",
    ),
    _t(
        "Excel crashes when opening the ERP export",
        "Since the ERP update, opening the exported .xlsx crashes Excel.",
        "ERP",
        "Application Support",
        ["ERP suite"],
        "Applied the vendor patch for the export format.",
    ),
]

WORK_NOTES = [
    "Checked {ci}: no alerts in monitoring for the reported time.",
    "Reproduced the issue with a test account.",
    "Logs show repeated failures for the caller's account since this morning.",
    "Remote session with the caller: confirmed the symptom and collected screenshots.",
    "Two similar reports from the same floor; watching for a pattern.",
    "Asked a second-line colleague to review the configuration of {ci}.",
    "Followed the standard troubleshooting steps from the knowledge base; no change.",
    "Restarted the affected service on {ci} in the lunch window.",
    "Compared the configuration of {ci} with last week's backup; one difference found.",
]
AGENT_COMMENTS = [
    "Hello {first}, thanks for reporting this. I am looking into it now.",
    "Hi {first}, we have found the likely cause and are working on a fix.",
    "Thanks for your patience, {first}. I will update you by the end of the day.",
]
CALLER_ASKS = [
    "Could you send me the exact text of the error message, please?",
    "Can you tell me the asset tag on the bottom of your laptop?",
    "Please restart your device and let me know whether the problem persists.",
    "When would be a good time for a short remote session?",
]
CALLER_REPLIES = [
    "The message says: 'The operation timed out (0x80072EE2)'.",
    "The asset tag is LT-{n}.",
    "Restarted, still the same.",
    "Any time after 2 pm works for me.",
]
CALLER_FOLLOW_UPS = [
    "Any update on this? It is blocking my work.",
    "Adding: it also happens on my colleague's machine.",
    "It got worse this afternoon.",
]
THIRD_PARTY_NOTES = {
    "awaiting_vendor": "Opened a case with the vendor (reference VND-{n}); waiting for their analysis.",
    "awaiting_problem": "Matches an open problem under investigation; holding until the root cause is fixed.",
    "awaiting_change": "The fix needs a change in the next maintenance window; holding until it is implemented.",
}
REOPEN_COMMENTS = [
    "It is happening again since this morning.",
    "The fix did not hold; same error as before.",
]
THANKS = [
    "Thanks, works again!",
    "Confirmed, all good now. Thank you.",
    "Great, thanks for the quick help.",
]
CANCEL_REASONS = [
    "Duplicate of an incident already open for the same outage.",
    "Raised in error: the caller had selected the wrong account.",
    "Planned maintenance announced last week; not an incident.",
]
CLOSE_CODE_WEIGHTS = {
    "solution_provided": 50,
    "workaround_provided": 15,
    "user_error": 10,
    "resolved_by_caller": 8,
    "known_error": 5,
    "resolved_by_change": 5,
    "resolved_by_problem": 4,
}
STATE_WEIGHTS = {
    S.NEW: 12,
    S.IN_PROGRESS: 20,
    S.ON_HOLD: 12,
    S.RESOLVED: 12,
    S.CLOSED: 36,
    S.CANCELED: 8,
}
# How many days ago an incident that ends in each state was opened (closed ones are old, new ones recent).
OPENED_DAYS_AGO = {
    S.NEW: (0.02, 2),
    S.IN_PROGRESS: (0.2, 10),
    S.ON_HOLD: (1, 20),
    S.RESOLVED: (0.3, 5),
    S.CLOSED: (12, 60),
    S.CANCELED: (0.5, 60),
}
# The pause before each kind of step, in minutes.
GAPS = {
    "triage": (3, 90),
    "start": (5, 120),
    "work_note": (15, 240),
    "comment": (10, 300),
    "hold": (30, 480),
    "reply": (60, 2880),
    "resolve": (30, 1440),
    "thanks": (10, 600),
    "reopen": (120, 4000),
    "close": (60, 4000),
    "cancel": (5, 600),
}
MAJOR_CHILDREN = 3


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

    def align_tickets(self) -> None:
        """Derive opened/resolved/closed/updated times from the backdated journal, and date the fsm log alike."""
        journal = JournalEntry.objects.filter(ticket=OuterRef("pk"))

        def last(entries):
            return Subquery(entries.order_by("-created_at", "-id").values("created_at")[:1])

        none = Value(None, output_field=DateTimeField())
        Ticket.objects.filter(pk__in=self.incident_ids).update(
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
            JournalEntry.objects.filter(ticket_id__in=self.incident_ids, kind=JournalKind.TRANSITION)
            .exclude(transition="create")
            .order_by("ticket_id", "created_at", "id")
            .values_list("ticket_id", "created_at")
        )
        for ticket_id, created_at in transitions:
            times[ticket_id].append(created_at)
        logs = StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident), object_id__in=self.incident_ids
        ).order_by("object_id", "timestamp", "id")
        updated = []
        for object_id, group in _group_by(logs.only("id", "object_id", "timestamp"), "object_id"):
            for log, moment in zip(group, times[object_id], strict=False):
                log.timestamp = moment
                updated.append(log)
        StateLog.objects.bulk_update(updated, ["timestamp"], batch_size=500)


def _group_by(rows, attribute: str):
    groups: dict[int, list] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return groups.items()


class Command(BaseCommand):
    help = "Load demo users, teams, catalog, CMDB and incidents (idempotent: does nothing when demo data is present)."

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
            return
        started = time.monotonic()
        seeder = DemoSeeder(seed=42, now=timezone.now())
        with transaction.atomic(), _after_commit_callbacks_dropped():
            seeder.people()
            seeder.catalog()
            seeder.incidents(incidents)
            seeder.align_tickets()
            outbox = OutboxMessage.objects.filter(ticket_id__in=seeder.incident_ids)
            dropped = 0 if keep_outbox else outbox.delete()[0]
        self._summary(seeder, dropped=dropped, seconds=time.monotonic() - started)

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
        self.stdout.write(f"  journal entries: {journal}")
        pending = OutboxMessage.objects.filter(ticket_id__in=seeder.incident_ids).count()
        if dropped:
            self.stdout.write(f"  notifications: {dropped} dropped (demo history; use --keep-outbox to keep them)")
        else:
            self.stdout.write(f"  notifications: {pending} pending in the outbox")
        self.stdout.write("  sign in as admin, agent1 or user1 with the password in ITSM_DEMO_PASSWORD.")
