"""Demo service catalog, knowledge base and service requests: 15 orderable items in 5 categories with real forms,
20 knowledge articles, line managers for the demo end users, and requests in every state (made through the services,
so approvals, tasks, journals and SLA clocks are real)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.text import slugify

from catalog.models import CatalogCategory, CatalogItem, CatalogVariable, FulfilmentTaskTemplate, Service
from catalog.services import catalog_item_publish
from itsm.models import Approval, ApprovalPolicy, ApprovalStage, Team
from itsm.services import approval_approve, approval_reject
from knowledge.models import Article, KnowledgeCategory
from knowledge.services import article_vote
from requests_app import services as requests
from requests_app.models import Profile, RequestedItem
from slas.models import Schedule, SLADefinition

# slug, name, icon, description
CATEGORIES = [
    ("hardware", "Hardware", "laptop", "Laptops, monitors, phones and accessories."),
    ("software", "Software", "software", "Licences and installations."),
    ("access", "Access and accounts", "key", "Accounts, permissions, VPN and shared mailboxes."),
    ("workplace", "Workplace", "building", "Desks, meeting rooms and badges."),
    ("communication", "Phones and communication", "phone", "Mobile phones, headsets and conferencing."),
]

# A question: (name, label, type, options); options may hold required, choices (list), help, show_when (name, value),
# min, max, max_length, pattern, pattern_message, default.
LAPTOP_FORM = [
    (
        "model",
        "Which model do you need?",
        "choice",
        {
            "required": True,
            "choices": ["Standard (14-inch, 16 GB)", "Developer (16-inch)", "Ultralight (13-inch)"],
            "help": "Developers get the 16-inch model with more memory.",
        },
    ),
    (
        "memory",
        "Memory",
        "choice",
        {"required": True, "choices": ["32 GB", "64 GB"], "show_when": ("model", "Developer (16-inch)")},
    ),
    ("keyboard", "Keyboard layout", "choice", {"choices": ["UK", "US", "German", "French", "Nordic"], "default": "UK"}),
    ("replaces", "Laptop it replaces", "ci", {"help": "Leave empty for a first laptop."}),
    (
        "accessories",
        "Accessories",
        "multiple_choice",
        {"choices": ["Docking station", "Mouse", "Laptop bag", "USB-C adapter"]},
    ),
    ("needed_by", "Needed by", "date", {"help": "We deliver within five working days."}),
    (
        "cost_centre",
        "Cost centre",
        "text",
        {
            "required": True,
            "pattern": r"CC-\d{4}",
            "pattern_message": "Four digits after CC-, like CC-2040.",
            "max_length": 7,
        },
    ),
    ("notes", "Anything else we should know?", "long_text", {"max_length": 1000}),
]

# slug, name, category, service, icon, short, long, policy key, team, parallel, max qty, form, tasks (task, team, how)
ITEMS = [
    (
        "laptop",
        "Laptop",
        "hardware",
        "Laptop provisioning",
        "laptop",
        "A new or replacement work laptop.",
        (
            "Standard, developer and ultralight models with our standard image, encrypted and enrolled.\n\nYour old "
            "laptop is collected when the new one is handed over."
        ),
        "manager",
        "Desktop Support",
        False,
        1,
        LAPTOP_FORM,
        [
            (
                "Prepare and image the laptop",
                "Desktop Support",
                "Image with the standard build, enrol in device management, apply the keyboard layout.",
            ),
            (
                "Hand the laptop over",
                "Service Desk",
                "Book a 15-minute slot with the requester; collect the replaced laptop and wipe it.",
            ),
        ],
    ),
    (
        "monitor",
        "Monitor",
        "hardware",
        "Laptop provisioning",
        "monitor",
        "An extra screen for your desk.",
        "27-inch QHD monitors with USB-C; one or two per desk.",
        "",
        "Desktop Support",
        False,
        2,
        [
            ("size", "Size", "choice", {"required": True, "choices": ["24-inch", "27-inch", "34-inch ultrawide"]}),
            (
                "desk",
                "Desk number",
                "text",
                {
                    "required": True,
                    "pattern": r"[A-Z]\d-\d{2,3}",
                    "pattern_message": "Like B3-114.",
                    "help": "On the label on your desk, like B3-114.",
                },
            ),
        ],
        [
            (
                "Deliver and connect the monitor",
                "Desktop Support",
                "Deliver to the desk, connect and check the display settings.",
            )
        ],
    ),
    (
        "docking-station",
        "Docking station",
        "hardware",
        "Laptop provisioning",
        "box",
        "One cable for screens, network and power.",
        "USB-C docks compatible with every current laptop model.",
        "",
        "Desktop Support",
        False,
        1,
        [("desk", "Desk number", "text", {"required": True, "help": "Like B3-114."})],
        [("Deliver the dock", "Desktop Support", "")],
    ),
    (
        "mobile-phone",
        "Mobile phone",
        "communication",
        "Telephony",
        "phone",
        "A company smartphone with a data plan.",
        "Company phones are enrolled in device management. Roaming is only enabled when you ask for it.",
        "manager",
        "Network Operations",
        False,
        1,
        [
            (
                "model",
                "Model",
                "choice",
                {"required": True, "choices": ["Standard smartphone", "Large-screen smartphone"]},
            ),
            ("keep_number", "Keep your current mobile number?", "yes_no", {"required": True}),
            (
                "number",
                "Current number",
                "text",
                {
                    "required": True,
                    "show_when": ("keep_number", "yes"),
                    "pattern": r"\+?[0-9 ]{7,16}",
                    "pattern_message": "Digits and spaces, optionally starting with +.",
                },
            ),
            ("roaming", "Do you travel abroad for work?", "yes_no", {}),
            ("countries", "Which countries?", "text", {"show_when": ("roaming", "yes")}),
        ],
        [
            (
                "Order the phone and SIM",
                "Network Operations",
                "Order through the carrier portal; port the number when asked.",
            ),
            ("Enrol and hand over", "Service Desk", "Enrol in device management before hand-over."),
        ],
    ),
    (
        "headset",
        "Headset",
        "communication",
        "Telephony",
        "headset",
        "A noise-cancelling headset for calls.",
        "Certified for our conferencing tools.",
        "",
        "Service Desk",
        False,
        1,
        [("type", "Type", "choice", {"required": True, "choices": ["Wired USB", "Wireless"]})],
        [("Send the headset", "Service Desk", "Ship by internal mail or leave at the service desk for pick-up.")],
    ),
    (
        "software-licence",
        "Software licence",
        "software",
        None,
        "software",
        "Licensed software that is not on the standard image.",
        (
            "Licences are charged to your cost centre. Free tools are installed without approval through 'Install "
            "standard software'."
        ),
        "manager",
        "Application Support",
        False,
        1,
        [
            (
                "product",
                "Product",
                "choice",
                {"required": True, "choices": ["Microsoft Visio", "Adobe Acrobat Pro", "JetBrains IDE", "Other"]},
            ),
            ("other_product", "Which product?", "text", {"required": True, "show_when": ("product", "Other")}),
            ("device", "Install on", "ci", {}),
            ("justification", "What do you need it for?", "long_text", {"required": True, "max_length": 1000}),
            (
                "cost_centre",
                "Cost centre",
                "text",
                {"required": True, "pattern": r"CC-\d{4}", "pattern_message": "Like CC-2040."},
            ),
        ],
        [
            (
                "Assign the licence",
                "Application Support",
                "Assign from the licence pool; buy one if the pool is empty.",
            ),
            ("Install the software", "Desktop Support", "Push the package through software distribution."),
        ],
    ),
    (
        "standard-software",
        "Install standard software",
        "software",
        None,
        "tool",
        "Free and pre-approved tools, installed remotely.",
        "Pick from the approved list; installation is automatic within a working day.",
        "",
        "Desktop Support",
        False,
        1,
        [
            (
                "packages",
                "Software",
                "multiple_choice",
                {"required": True, "choices": ["7-Zip", "Notepad++", "Python 3", "Git", "VLC", "Zoom"]},
            ),
            ("device", "Install on", "ci", {}),
        ],
        [("Push the packages", "Desktop Support", "")],
    ),
    (
        "new-starter",
        "New starter",
        "access",
        "Identity and access",
        "user-plus",
        "Everything a new colleague needs on day one.",
        (
            "Account, mailbox, badge and laptop for a new employee. Submit at least five working days before the "
            "start date."
        ),
        "manager_then_desk",
        "Service Desk",
        True,
        1,
        [
            ("first_name", "First name", "text", {"required": True}),
            ("last_name", "Last name", "text", {"required": True}),
            ("start_date", "Start date", "date", {"required": True}),
            (
                "department",
                "Department",
                "choice",
                {"required": True, "choices": ["Finance", "Sales", "Operations", "HR", "IT", "Marketing"]},
            ),
            ("line_manager", "Line manager", "user", {"required": True, "help": "Their username."}),
            ("needs_laptop", "Needs a laptop?", "yes_no", {"required": True, "default": "yes"}),
            (
                "laptop_model",
                "Laptop model",
                "choice",
                {
                    "required": True,
                    "choices": ["Standard", "Developer", "Ultralight"],
                    "show_when": ("needs_laptop", "yes"),
                },
            ),
        ],
        [
            (
                "Create the account and mailbox",
                "Service Desk",
                "Create the directory account from the HR record; add to the department groups.",
            ),
            ("Print the badge", "Desktop Support", "Photo from HR; access to the home floor."),
            ("Prepare the laptop", "Desktop Support", "Only when a laptop was asked for; skip the task otherwise."),
        ],
    ),
    (
        "vpn-access",
        "VPN access",
        "access",
        "VPN",
        "shield",
        "Work from outside the office.",
        "VPN access with multi-factor authentication. Contractors need an end date.",
        "manager",
        "Network Operations",
        False,
        1,
        [
            ("reason", "Why do you need remote access?", "long_text", {"required": True}),
            ("contractor", "Are you a contractor?", "yes_no", {"required": True}),
            ("until", "Access until", "date", {"required": True, "show_when": ("contractor", "yes")}),
        ],
        [("Enable VPN and MFA", "Network Operations", "Add to the VPN group; send the MFA enrolment link.")],
    ),
    (
        "shared-mailbox",
        "Shared mailbox access",
        "access",
        "Email",
        "mail",
        "Read or send from a team mailbox.",
        "The mailbox owner approves; access appears in your mail client within an hour.",
        "manager",
        "Application Support",
        False,
        1,
        [
            (
                "mailbox",
                "Mailbox address",
                "text",
                {"required": True, "pattern": r"[^@\s]+@example\.com", "pattern_message": "An @example.com address."},
            ),
            ("level", "Access", "choice", {"required": True, "choices": ["Read", "Read and send"]}),
        ],
        [("Grant mailbox access", "Application Support", "")],
    ),
    (
        "folder-access",
        "Shared folder access",
        "access",
        "File shares",
        "lock",
        "Access to a departmental network drive.",
        "Folder owners are listed on the intranet.",
        "manager",
        "Desktop Support",
        False,
        1,
        [
            ("path", "Folder", "text", {"required": True, "help": "Like \\\\fs-01\\finance\\reports"}),
            ("level", "Access", "choice", {"required": True, "choices": ["Read", "Modify"]}),
        ],
        [("Add to the folder group", "Desktop Support", "")],
    ),
    (
        "admin-rights",
        "Local admin rights",
        "access",
        "Identity and access",
        "key",
        "Temporary administrator rights on your laptop.",
        "Granted for at most 30 days, after security review.",
        "manager_then_desk",
        "Service Desk",
        False,
        1,
        [
            ("device", "Laptop", "ci", {"required": True}),
            ("days", "For how many days?", "number", {"required": True, "min": 1, "max": 30, "default": "7"}),
            ("reason", "Reason", "long_text", {"required": True}),
        ],
        [("Grant temporary admin rights", "Service Desk", "Add to the local admins policy with an expiry.")],
    ),
    (
        "desk-move",
        "Desk move",
        "workplace",
        None,
        "building",
        "Move your desk, phone and equipment.",
        "Moves happen on Friday afternoons.",
        "",
        "Desktop Support",
        False,
        1,
        [
            ("from_desk", "From desk", "text", {"required": True}),
            ("to_desk", "To desk", "text", {"required": True}),
            ("move_date", "Preferred Friday", "date", {"required": True}),
            ("has_phone", "Is there a desk phone to move?", "yes_no", {}),
        ],
        [
            ("Move the equipment", "Desktop Support", "Label every cable before unplugging."),
            ("Patch the network port", "Network Operations", ""),
        ],
    ),
    (
        "meeting-room-equipment",
        "Meeting room equipment",
        "workplace",
        None,
        "users",
        "Conference kit for an event or a room.",
        "Loan equipment for up to a week.",
        "",
        "Desktop Support",
        False,
        1,
        [
            (
                "equipment",
                "What do you need?",
                "multiple_choice",
                {"required": True, "choices": ["Projector", "Conference speaker", "Webcam", "Extra screen"]},
            ),
            ("room", "Room", "text", {"required": True}),
            ("date", "Date", "date", {"required": True}),
        ],
        [("Set up the equipment", "Desktop Support", "")],
    ),
    (
        "visitor-badge",
        "Visitor badge",
        "workplace",
        None,
        "shield",
        "A day badge for a guest.",
        "Badges are ready at reception on the morning of the visit.",
        "",
        "Service Desk",
        False,
        5,
        [
            ("visitor", "Visitor's name", "text", {"required": True}),
            ("date", "Visit date", "date", {"required": True}),
            ("escort", "Who meets them?", "user", {"required": True}),
        ],
        [("Print the badge", "Service Desk", "")],
    ),
]

# category slug, name, icon
KB_CATEGORIES = [
    ("accounts", "Accounts and passwords", "key"),
    ("email", "Email and calendar", "mail"),
    ("network", "Network and VPN", "wifi"),
    ("hardware", "Laptops and printing", "printer"),
    ("software", "Software", "software"),
]

# title, category, service, summary, body
ARTICLES = [
    (
        "Reset your password",
        "accounts",
        "Identity and access",
        "Change a forgotten or expired password yourself in two minutes.",
        (
            "1. Open the self-service password page from any browser: https://password.example.com\n2. Enter your "
            "username and confirm with your authenticator app.\n3. Choose a new password of at least 14 "
            "characters.\n\nYour laptop picks up the new password the next time it connects to the office network or "
            "VPN."
        ),
    ),
    (
        "Set up multi-factor authentication",
        "accounts",
        "Identity and access",
        "Register the authenticator app on your phone.",
        (
            "1. Install the authenticator app from your phone's app store.\n2. Sign in at https://mfa.example.com "
            "and scan the QR code.\n3. Approve the test notification.\n\nNew phone? Register it before you reset the "
            "old one."
        ),
    ),
    (
        "Your account is locked",
        "accounts",
        "Identity and access",
        "Why accounts lock and how to unlock yours.",
        (
            "An account locks after ten wrong passwords in a row, often from an old password saved on a "
            "phone.\n\nWait 15 minutes or reset your password, then update the password on your phone's mail app."
        ),
    ),
    (
        "Request access to a shared folder",
        "accounts",
        "File shares",
        "Who approves folder access and how to ask for it.",
        (
            "Order 'Shared folder access' in the catalog. Your manager approves, then Desktop Support adds you to "
            "the folder's group.\n\nAccess works after you sign out and in again."
        ),
    ),
    (
        "Outlook keeps asking for my password",
        "email",
        "Email",
        "Stop repeated password prompts in Outlook.",
        (
            "1. Close Outlook.\n2. Open Credential Manager and remove the entries that start with "
            "'MicrosoftOffice'.\n3. Start Outlook and sign in once.\n\nStill asking? Check that your password has "
            "not expired."
        ),
    ),
    (
        "Open a shared mailbox",
        "email",
        "Email",
        "Add a team mailbox to Outlook once you have access.",
        (
            "Shared mailboxes you have access to appear in Outlook automatically within an hour.\n\nOn the web: "
            "select your picture, then 'Open another mailbox' and type its address."
        ),
    ),
    (
        "Set an out-of-office reply",
        "email",
        "Email",
        "Tell people you are away.",
        (
            "Outlook: File > Automatic Replies. Web: Settings > Mail > Automatic replies.\n\nSet a start and end "
            "date so it switches off by itself."
        ),
    ),
    (
        "Share your calendar",
        "email",
        "Email",
        "Let colleagues see when you are free, or manage your calendar.",
        (
            "In Outlook, right-click your calendar, choose Sharing Permissions and add the colleague with the level "
            "they need: 'Can view when I'm busy', 'Can view titles and locations' or 'Can edit'."
        ),
    ),
    (
        "Connect to the VPN",
        "network",
        "VPN",
        "Work on the company network from home or while travelling.",
        (
            "1. Open the VPN client from the system tray.\n2. Choose the nearest gateway (London or Frankfurt).\n3. "
            "Sign in and approve the MFA prompt.\n\nNo VPN client? Order 'VPN access' in the catalog."
        ),
    ),
    (
        "VPN connects but nothing loads",
        "network",
        "VPN",
        "Fix name resolution after connecting.",
        (
            "Disconnect, wait ten seconds and connect again. If it still fails, restart the laptop: it refreshes the "
            "network settings.\n\nHotel and airport networks sometimes block VPN: try your phone's hotspot."
        ),
    ),
    (
        "Connect to the office Wi-Fi",
        "network",
        "Wi-Fi",
        "Corporate and guest wireless networks.",
        (
            "Company laptops join 'Corp' automatically. Phones and guests use 'Guest' with the daily code shown at "
            "reception."
        ),
    ),
    (
        "Wi-Fi is slow in a meeting room",
        "network",
        "Wi-Fi",
        "What to check before you report it.",
        (
            "Move away from the window side, switch off and on your Wi-Fi, and check whether colleagues have the "
            "same problem. Report it with the room name if it persists."
        ),
    ),
    (
        "Add a printer",
        "hardware",
        "Printing",
        "Print to the floor printer nearest to you.",
        (
            "Settings > Printers > Add a printer, then choose the printer named after your floor, for example "
            "'HQ-3F-Colour'.\n\nPrint jobs wait up to 24 hours: release them at any printer with your badge."
        ),
    ),
    (
        "My print job is stuck",
        "hardware",
        "Printing",
        "Clear a stuck print queue.",
        (
            "Open the print queue, cancel your job and print again. Jobs stuck for everyone are a known issue: see "
            "the known errors list."
        ),
    ),
    (
        "Connect a docking station",
        "hardware",
        "Laptop provisioning",
        "One cable for screens, network and power.",
        (
            "Plug the USB-C cable into the port with the lightning symbol. If the screens stay dark, unplug the "
            "dock's power for ten seconds."
        ),
    ),
    (
        "Your new laptop: first steps",
        "hardware",
        "Laptop provisioning",
        "What to do when you receive a new laptop.",
        (
            "1. Sign in with your usual account while connected to the office network.\n2. Wait for the setup to "
            "finish (about 20 minutes).\n3. Open OneDrive to bring back your files.\n4. Hand the old laptop to the "
            "service desk."
        ),
    ),
    (
        "Laptop battery drains fast",
        "hardware",
        "Laptop provisioning",
        "Get a full day from your battery.",
        (
            "Lower the screen brightness, close browser tabs you do not use and pick the 'Best battery' power mode. "
            "A battery under 70% health is replaced: report an issue."
        ),
    ),
    (
        "Install software from the catalog",
        "software",
        None,
        "Free tools install themselves; licensed ones need approval.",
        (
            "Order 'Install standard software' for free tools. Licensed products (Visio, Acrobat Pro, IDEs) are "
            "ordered as 'Software licence' and approved by your manager."
        ),
    ),
    (
        "Update your apps",
        "software",
        None,
        "Keep your software up to date.",
        (
            "Updates install automatically overnight when your laptop is on and connected. To update now, open "
            "Software Center and choose 'Install all'."
        ),
    ),
    (
        "Teams: camera or microphone not working",
        "software",
        None,
        "Make calls work again.",
        (
            "In Teams, open Settings > Devices and pick the right camera and microphone. Close other apps that may "
            "use the camera. Docked? Try the laptop's own camera."
        ),
    ),
]


def _policies(teams: dict[str, Team]) -> dict[str, ApprovalPolicy]:
    manager, created = ApprovalPolicy.objects.get_or_create(
        name="Requester's manager", defaults={"practice": "requested_item", "order": 10}
    )
    if created:
        ApprovalStage.objects.create(policy=manager, number=1, source="requester_manager", rule="any")
    both, created = ApprovalPolicy.objects.get_or_create(
        name="Manager, then the service desk", defaults={"practice": "requested_item", "order": 20}
    )
    if created:
        ApprovalStage.objects.create(policy=both, number=1, source="requester_manager", rule="any")
        ApprovalStage.objects.create(policy=both, number=2, source="team", team=teams["Service Desk"], rule="any")
    return {"manager": manager, "manager_then_desk": both}


def seed_catalog(*, teams: dict[str, Team], admin: User) -> dict[str, CatalogItem]:
    """Categories, approval policies and the items with their forms and task templates, each published."""
    policies = _policies(teams)
    categories = {}
    for order, (slug, name, icon, description) in enumerate(CATEGORIES):
        categories[slug], _ = CatalogCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "icon": icon, "description": description, "order": order}
        )
    items = {}
    for order, row in enumerate(ITEMS):
        slug, name, category, service, icon, short, long, policy, team, parallel, max_qty, form, tasks = row
        item, created = CatalogItem.objects.get_or_create(
            name=name,
            defaults={
                "category": categories[category],
                "service": Service.objects.filter(name=service).first() if service else None,
                "icon": icon,
                "short_description": short,
                "description": long,
                "approval_policy": policies.get(policy),
                "fulfilment_group": teams[team],
                "tasks_in_parallel": parallel,
                "max_quantity": max_qty,
                "order": order,
            },
        )
        if created:
            for position, (var_name, label, kind, options) in enumerate(form, start=1):
                show = options.get("show_when")
                CatalogVariable.objects.create(
                    item=item,
                    name=var_name,
                    label=label,
                    type=kind,
                    order=position,
                    required=options.get("required", False),
                    help_text=options.get("help", ""),
                    choices="\n".join(options.get("choices", [])),
                    default=options.get("default", ""),
                    min_value=options.get("min"),
                    max_value=options.get("max"),
                    max_length=options.get("max_length"),
                    pattern=options.get("pattern", ""),
                    pattern_message=options.get("pattern_message", ""),
                    show_when_variable=show[0] if show else "",
                    show_when_value=show[1] if show else "",
                )
            for position, (task, task_team, instructions) in enumerate(tasks, start=1):
                FulfilmentTaskTemplate.objects.create(
                    item=item, order=position, short_description=task, team=teams[task_team], instructions=instructions
                )
            catalog_item_publish(item=item, by=admin)
        items[slug] = item
    return items


def seed_knowledge(*, voters: list[User]) -> int:
    """Twenty published articles in five categories, with a few helpful votes."""
    shelves = {}
    for order, (slug, name, icon) in enumerate(KB_CATEGORIES):
        shelves[slug], _ = KnowledgeCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "icon": icon, "order": order}
        )
    for index, (title, shelf, service, summary, body) in enumerate(ARTICLES):
        article, created = Article.objects.get_or_create(
            slug=slugify(title),
            defaults={
                "title": title,
                "summary": summary,
                "body": body,
                "category": shelves[shelf],
                "service": Service.objects.filter(name=service).first() if service else None,
                "published": True,
            },
        )
        if created:
            for voter in voters[: (index * 7) % 9]:
                article_vote(by=voter, helpful=(voter.pk + index) % 5 != 0, article=article)
    return len(ARTICLES)


def seed_sla() -> None:
    """Delivery targets for requested items and fulfilment tasks (business hours when the office schedule exists)."""
    office = Schedule.objects.filter(name="Office hours (London)").first()
    for name, practice, days in (
        ("Request delivery - 5 business days", "requested_item", 5),
        ("Fulfilment task - 2 business days", "task", 2),
    ):
        SLADefinition.objects.get_or_create(
            name=name,
            defaults={
                "target": "resolution",
                "practice": practice,
                "active": True,
                "order": 50,
                "start_condition": {"state_category": ["new", "active"]},
                "pause_condition": {"state_category": ["pending_customer"]},
                "stop_condition": {"state_category": ["resolved", "closed", "cancelled"]},
                "duration_seconds": days * 8 * 3600 if office else days * 86400,
                "schedule": office,
            },
        )


def seed_item_sla(item: CatalogItem) -> None:
    """A catalog item that owns its SLA: laptops are delivered in 3 business days (listed on the item's admin page)."""
    office = Schedule.objects.filter(name="Office hours (London)").first()
    definition, created = SLADefinition.objects.get_or_create(
        name=f"{item.name} delivery - 3 business days",
        defaults={
            "target": "resolution",
            "practice": "requested_item",
            "active": True,
            "order": 40,
            "start_condition": {"state_category": ["new", "active"]},
            "pause_condition": {"state_category": ["pending_customer"]},
            "stop_condition": {"state_category": ["resolved", "closed", "cancelled"]},
            "duration_seconds": 3 * 8 * 3600 if office else 3 * 86400,
            "schedule": office,
        },
    )
    if created:
        definition.match_catalog_items.set([item])


def seed_managers(*, end_users: list[User], manager: User, managers_manager: User) -> None:
    """Every demo end user reports to `manager` (who reports to `managers_manager`): their approvals show up."""
    for user in end_users:
        boss = managers_manager if user == manager else manager
        Profile.objects.update_or_create(user=user, defaults={"manager": boss, "department": "Operations"})


def _order(by: User, item: CatalogItem, quantity: int = 1, **variables) -> RequestedItem:
    request = requests.request_create(
        by=by, items=[{"catalog_item": item.pk, "quantity": quantity, "variables": variables}]
    )
    return _categorise(request.items.get())


def _categorise(ritm: RequestedItem) -> RequestedItem:
    """The fulfilment team files the new item under its requested-item category (demo.automation's words)."""
    from demo.automation import REQUEST_CATEGORIES
    from itsm.models import Category

    name = ritm.catalog_item.name.lower()
    category_name = next((c for c, words in REQUEST_CATEGORIES.items() if any(w in name for w in words)), None)
    category = Category.objects.filter(practice="requested_item", name=category_name, parent=None).first()
    agent = ritm.assignment_group.members.first() if ritm.assignment_group else None
    if category is None or agent is None:
        return ritm
    return requests.requested_item_update(item=ritm, by=agent, category=category)


def _approve(ritm: RequestedItem, comment: str = "Approved.") -> None:
    while approval := Approval.objects.filter(ticket=ritm, state="requested").select_related("approver").first():
        approval_approve(approval=approval, by=approval.approver, comment=comment)


def _work(ritm: RequestedItem, agents: dict[str, list[User]], *, all_tasks: bool) -> None:
    while task := ritm.tasks.filter(active=True).select_related("assignment_group").first():
        team = task.assignment_group.name if task.assignment_group else "Service Desk"
        agent = agents[team][0]
        if task.state == "open":
            requests.fulfilment_task_start(task=task, by=agent)
        if not all_tasks:
            return
        requests.fulfilment_task_close_complete(task=task, by=agent, close_notes="Done.")


def seed_requests(*, items: dict[str, CatalogItem], users: list[User], agents: dict[str, list[User]]) -> list[int]:
    """Requests in every state: waiting for the manager, in fulfilment, delivered (rated or not), rejected, withdrawn,
    closed; returns the ticket ids made (REQ, RITM and TASK)."""
    first, *others = users
    made: list[RequestedItem] = []
    with transaction.atomic():
        # Waiting for the manager (second) to approve.
        made.append(
            _order(
                first,
                items["laptop"],
                model="Developer (16-inch)",
                memory="64 GB",
                keyboard="UK",
                accessories=["Docking station", "Mouse"],
                cost_centre="CC-2040",
                notes="For the data platform project.",
            )
        )
        made.append(_order(others[0], items["vpn-access"], reason="On-call rota from next month.", contractor="no"))
        made.append(
            _order(
                others[1],
                items["software-licence"],
                product="Microsoft Visio",
                justification="Network diagrams for the office move.",
                cost_centre="CC-3100",
            )
        )
        made.append(
            _order(
                others[2],
                items["mobile-phone"],
                model="Standard smartphone",
                keep_number="yes",
                number="+44 7700 900123",
                roaming="yes",
                countries="Germany, France",
            )
        )
        # In fulfilment: ordered tasks, the first started.
        ritm = _order(first, items["monitor"], quantity=2, size="27-inch", desk="B3-114")
        _work(ritm, agents, all_tasks=False)
        made.append(ritm)
        ritm = _order(others[3], items["shared-mailbox"], mailbox="finance@example.com", level="Read and send")
        _approve(ritm)
        made.append(ritm)
        ritm = _order(
            others[4],
            items["new-starter"],
            first_name="Noah",
            last_name="Fischer",
            start_date="2026-12-14",
            department="Finance",
            line_manager=others[4].username,
            needs_laptop="yes",
            laptop_model="Standard",
        )
        _approve(ritm, "Welcome aboard.")
        _work(ritm, agents, all_tasks=False)
        ritm = RequestedItem.objects.get(pk=ritm.pk)
        if ritm.assignment_group and (agent := ritm.assignment_group.members.first()):
            # The fulfilment team promises everything for the Friday before the first day.
            due = datetime(2026, 12, 11, 16, 0, tzinfo=UTC)
            ritm = requests.requested_item_update(item=ritm, by=agent, due_date=due)
        made.append(ritm)
        # Delivered, waiting for the requester's confirmation and rating.
        ritm = _order(first, items["headset"], type="Wireless")
        _work(ritm, agents, all_tasks=True)
        made.append(ritm)
        ritm = _order(others[5], items["standard-software"], packages=["Git", "Python 3", "Notepad++"])
        _work(ritm, agents, all_tasks=True)
        made.append(ritm)
        # Closed and rated.
        for user, item, answers, score, comment in (
            (first, "docking-station", {"desk": "B3-114"}, 5, "Delivered the same afternoon."),
            (
                others[6],
                "visitor-badge",
                {"visitor": "Dr. Jane Okoro", "date": "2026-11-20", "escort": others[6].username},
                4,
                "",
            ),
            (
                others[7],
                "meeting-room-equipment",
                {"equipment": ["Projector", "Conference speaker"], "room": "Thames", "date": "2026-11-18"},
                3,
                "Speaker arrived late.",
            ),
        ):
            ritm = _order(user, items[item], **answers)
            _approve(ritm)
            _work(ritm, agents, all_tasks=True)
            ritm = RequestedItem.objects.get(pk=ritm.pk)
            requests.requested_item_close(item=ritm, by=user)
            requests.ticket_rate(ticket=ritm, by=user, score=score, comment=comment)
            made.append(ritm)
        # Rejected with a reason, and withdrawn.
        ritm = _order(
            first,
            items["software-licence"],
            product="Adobe Acrobat Pro",
            justification="Edit supplier contracts.",
            cost_centre="CC-2040",
        )
        approval = Approval.objects.get(ticket=ritm, state="requested")
        approval_reject(
            approval=approval, by=approval.approver, comment="Acrobat Reader can sign and comment; please try it first."
        )
        made.append(ritm)
        made.append(_order(others[8], items["desk-move"], from_desk="B3-114", to_desk="C2-201", move_date="2026-12-04"))
        ritm = _order(others[9], items["folder-access"], path="\\\\fs-01\\sales\\forecasts", level="Read")
        requests.requested_item_cancel(item=ritm, by=others[9], reason="Found the report on the intranet.")
        made.append(ritm)
    ids = []
    for ritm in made:
        ids += [ritm.pk, ritm.request_id, *ritm.tasks.values_list("pk", flat=True)]
    return ids


def seed_service_requests(seeder) -> list[int]:
    """The catalog, the knowledge base, line managers (user2 approves for the other demo end users; Grace Holloway
    for user2), request SLAs and requests in every state; returns the ticket ids made."""
    users = seeder.end_users
    seed_managers(end_users=users, manager=users[1], managers_manager=User.objects.get(username="manager1"))
    seed_sla()
    items = seed_catalog(teams=seeder.teams, admin=seeder.admin)
    seed_item_sla(items["laptop"])
    seed_knowledge(voters=users)
    return seed_requests(items=items, users=users, agents=seeder.team_agents)
