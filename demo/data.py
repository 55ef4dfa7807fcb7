"""Reference data for the demo: teams, people, services, the CMDB and realistic incident stories."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import CIType
from incidents.enums import IncidentState

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


# --- service levels -------------------------------------------------------------------------------------------

OPEN_CATEGORIES = ["new", "active", "pending_customer", "pending_third_party"]
RESOLUTION_STOP = ["resolved", "closed", "cancelled"]
HOUR = 3600

# (name, target, priority, duration seconds, business hours?)
SLA_DEFINITIONS = [
    ("P1 response 15m (24x7)", "response", 1, 15 * 60, False),
    ("P2 response 1h", "response", 2, HOUR, True),
    ("P3 response 4h", "response", 3, 4 * HOUR, True),
    ("P4 response 8h", "response", 4, 8 * HOUR, True),
    ("P1 resolution 4h (24x7)", "resolution", 1, 4 * HOUR, False),
    ("P2 resolution 8h", "resolution", 2, 8 * HOUR, True),
    ("P3 resolution 3 business days", "resolution", 3, 24 * HOUR, True),
    ("P4 resolution 5 business days", "resolution", 4, 40 * HOUR, True),
]


# --- problems -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemStory:
    """One demo problem: what it is, where, and how far it got (target state and resolution)."""

    short: str
    description: str
    service: str
    team: str
    ci: str
    target: str
    cause: str = ""
    workaround: str = ""
    fix: str = ""
    resolution: str = ""
    close_notes: str = ""
    known_error: bool = False
    tasks: tuple[str, ...] = ()


# Targets are problem states; every state appears. Two known errors publish their articles.
PROBLEM_STORIES = [
    ProblemStory(
        "VPN tunnels drop every 60 minutes for remote staff",
        "Remote users report the VPN client disconnecting roughly once an hour; reconnecting works.",
        "VPN",
        "Network Operations",
        "vpn-gw-01",
        "root_cause_analysis",
        cause="The IKE phase 2 lifetime on vpn-gw-01 is 3600 s while the client rekeys at 3700 s, so the tunnel "
        "expires before the client renews it.",
        workaround="Reconnect the VPN client; connections through vpn-gw-02 are not affected (choose 'VPN "
        "Backup' in the client).",
        known_error=True,
        tasks=("Capture an IKE debug trace during a drop", "Compare the rekey settings of vpn-gw-01 and vpn-gw-02"),
    ),
    ProblemStory(
        "Print jobs stall in the queue after the monthly driver update",
        "After Patch Tuesday, jobs sent to the floor printers stay in 'Spooling' until the spooler restarts.",
        "Printing",
        "Desktop Support",
        "print-01",
        "fix_in_progress",
        cause="Driver package 5.2 installs a port monitor that deadlocks the spooler under concurrent jobs.",
        workaround="Restart the Print Spooler service on print-01, or print through print-02's queue.",
        fix="Pin driver package 5.1 in the print server's update ring until the vendor ships 5.3.",
        known_error=True,
        tasks=("Roll back driver 5.2 on print-01",),
    ),
    ProblemStory(
        "ERP month-end batch runs past the 06:00 cut-off",
        "The month-end posting batch on the ERP has finished late three months in a row.",
        "ERP",
        "Database Administration",
        "erp-db-01",
        "resolved",
        cause="Statistics on the ledger tables are stale at month end; the optimiser picks nested loops.",
        fix="Added a statistics refresh for the ledger tables before the batch; last run finished at 03:40.",
        resolution="fix_applied",
        tasks=("Refresh statistics before the batch",),
    ),
    ProblemStory(
        "Outlook prompts for credentials several times a day",
        "Users on the new laptop image are asked for their password repeatedly.",
        "Email",
        "Application Support",
        "Mail platform",
        "closed",
        cause="Modern authentication was disabled by a registry key in the standard laptop image.",
        fix="Removed the registry key from the image and pushed the correction by policy.",
        resolution="fix_applied",
    ),
    ProblemStory(
        "Wi-Fi on the 3rd floor drops during all-hands meetings",
        "With more than 80 people in the 3rd-floor room, clients lose the connection.",
        "Wi-Fi",
        "Network Operations",
        "ap-hq-3f-02",
        "resolved",
        cause="A single access point serves the meeting room; it reaches its client limit.",
        resolution="risk_accepted",
        close_notes="All-hands move to the ground-floor hall from next quarter; a second access point is not "
        "worth the cost for four meetings a year.",
    ),
    ProblemStory(
        "Mailbox quota warnings reach users after the mailbox is full",
        "Users get the quota warning only once their mailbox already refuses mail.",
        "Email",
        "Application Support",
        "mail-01",
        "resolved",
        resolution="duplicate",
    ),
    ProblemStory(
        "HR portal times out when payslips are published",
        "On payslip day the HR portal returns gateway timeouts for about an hour.",
        "HR Portal",
        "Application Support",
        "hr-web-01",
        "assess",
    ),
    ProblemStory(
        "Data warehouse reports show yesterday's figures until 10:00",
        "Management dashboards are stale in the morning; the ETL finishes later than planned.",
        "Data warehouse",
        "Database Administration",
        "dwh-etl-01",
        "root_cause_analysis",
        tasks=("Profile the nightly ETL run",),
    ),
    ProblemStory(
        "Desk phones reboot when the core switch fails over",
        "Every failover test of core-sw-02 restarts the desk phones on the 2nd floor.",
        "Telephony",
        "Network Operations",
        "pbx-01",
        "new",
    ),
    ProblemStory(
        "Password reset portal rejects valid answers",
        "Some users fail the security questions although they are sure of their answers.",
        "Identity and access",
        "Service Desk",
        "Self-service password reset",
        "new",
    ),
    ProblemStory(
        "CRM search is slow for accounts with many opportunities",
        "Searching large accounts takes more than 20 seconds.",
        "CRM",
        "Application Support",
        "crm-db-01",
        "assess",
    ),
    ProblemStory(
        "File share mapping fails at first logon after imaging",
        "Freshly imaged laptops do not map the departmental drives until the second logon.",
        "File shares",
        "Desktop Support",
        "Standard laptop image",
        "canceled",
        close_notes="Raised twice; the other problem record tracks it.",
    ),
    ProblemStory(
        "SAN latency spikes during the nightly backup window",
        "Databases on san-01 report 200 ms write latency between 01:00 and 02:00.",
        "ERP",
        "Database Administration",
        "san-01",
        "fix_in_progress",
        cause="The backup job and the SAN's own snapshot schedule overlap and saturate the controller cache.",
        fix="Moving the SAN snapshots to 03:00 in the next maintenance window.",
        tasks=("Move the snapshot schedule to 03:00", "Confirm latency after the change"),
    ),
    ProblemStory(
        "Laptops lose the docking station display after sleep",
        "External monitors stay black after the laptop wakes up from sleep on a dock.",
        "Laptop provisioning",
        "Desktop Support",
        "Standard laptop image",
        "closed",
        cause="The dock firmware 1.04 does not re-train the DisplayPort link after sleep.",
        fix="Rolled out dock firmware 1.07 to all docking stations.",
        resolution="fix_applied",
    ),
    ProblemStory(
        "Guest Wi-Fi portal certificate warnings",
        "Visitors see a certificate warning on the guest Wi-Fi login page.",
        "Wi-Fi",
        "Network Operations",
        "wlc-01",
        "resolved",
        resolution="canceled",
        close_notes="The guest portal is being replaced by the new controller next month; not worth fixing.",
    ),
]

# Days before now that a problem in each target state was raised.
PROBLEM_OPENED_DAYS_AGO = {
    "new": (0.5, 3),
    "assess": (2, 6),
    "root_cause_analysis": (4, 12),
    "fix_in_progress": (6, 15),
    "resolved": (8, 20),
    "closed": (15, 35),
    "canceled": (3, 10),
}
