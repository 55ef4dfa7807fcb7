"""Suite 1, the access matrix: every URL pattern and every OpenAPI operation, as every role, on records that belong
to someone else.

The suite enumerates the routes itself (a walk of Django's URL resolver, and the drf-spectacular schema generated
in-process), so a route nobody classified fails `test_every_route_has_an_entry` (and an API operation without an
expectation for its method fails `test_every_openapi_operation_has_an_entry`) until someone writes its line in
MATRIX below. Each line gives, per HTTP method, the expected answer for the six roles of tests/security/world.py, in
this order::

    anon  owner  user  other_agent  agent  admin

with five tokens meaning "teams do not restrict" (other_agent = agent). A token is a status code, `login` (302 to
a login page), `any` (below 500), `ok` (allowed: any answer below 500 other than 401, 403, 404, 405 and a login
redirect: the request ran and may have been refused for its input or state), `-` (not tried), or alternatives
joined by `|`. Requests run inside a savepoint that is rolled back, so every request sees the same world.

Beyond statuses, every response body (lists, search, exports, downloads, autocomplete, pages) is scanned for the
canaries of the records that role may not read (world.CANARIES): a foreign row anywhere fails the suite. List
routes are also asked with `?search=CANARY&q=CANARY`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch
from rest_framework.test import APIClient

from tests.security.conftest import report
from tests.security.world import ROLES, build_world, forbidden_canaries

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Expect:
    """Expected answers per role for one method."""

    by_role: dict[str, str]

    @classmethod
    def parse(cls, spec: str) -> Expect:
        tokens = spec.split()
        if len(tokens) == 5:  # teams do not restrict: the agent of another team is answered like the agent
            tokens = [tokens[0], tokens[1], tokens[2], tokens[3], tokens[3], tokens[4]]
        assert len(tokens) == len(ROLES), f"{spec!r}: one token per role {ROLES}"
        return cls(dict(zip(ROLES, tokens, strict=True)))


@dataclass
class R:
    """One route's expectations: a spec string per method, and how to fill its URL parameters."""

    get: str = ""
    post: str = ""
    put: str = ""
    patch: str = ""
    delete: str = ""
    kw: Any = None  # dict, or callable(world) -> dict; default: fill_kwargs()
    query: Any = ""  # a query string (or callable() -> str) sent with every request of the line
    note: str = ""
    expects: dict[str, Expect] = field(init=False)

    def __post_init__(self):
        self.expects = {m: Expect.parse(getattr(self, m)) for m in METHODS if getattr(self, m)}


# Profiles, to keep lines short.
SIGNED_IN = "401 200 200 200 200"  # reference data every signed-in user may read
OWN = "401 200 404 200 200"  # the owner's incident: the other end user gets 404
OWN_WRITE = "401 ok 404 ok ok"
STAFF = "401 404 404 200 200"  # agents' records: end users get 404 as if they did not exist
STAFF_WRITE = "401 404 404 ok ok"
AGENTS_403 = "401 403 403 200 200"  # agents-only reference data: 403 for end users (nothing per record to hide)
ADMIN_WRITE = "401 403 403 403 ok"
ADMIN_ONLY = "401 403 403 403 200"
PAGE_AGENT = "login 404 404 200 200"  # workspace pages
PORTAL = "login 200 200 200 200"  # portal pages about the signed-in user's own work
PORTAL_OWN = "login 200 404 404 404"  # the owner's record in the portal: everyone else gets 404
PORTAL_OWN_WRITE = "login ok 404 404 404"
PAGE_AGENT_POST = "login 404 404 ok ok"
ADMIN_SITE = "login login login login any"  # admins: whatever the admin's own permissions say, never a 500

# Every route, by URL name (namespace:name) or, for unnamed patterns, by route pattern; fnmatch globs allowed
# (exact keys win over globs). Keep new lines next to their siblings.
MATRIX: dict[str, R | list[R]] = {
    # --- site -----------------------------------------------------------------------------------------------
    "home": R(get="login 302 302 302 302"),
    "healthz": R(get="200 200 200 200 200"),
    "login": R(get="200 302 302 302 302", post="ok ok ok ok ok"),
    "logout": R(get="405 405 405 405 405", post="302 302 302 302 302"),
    # --- API: auth, schema, docs ----------------------------------------------------------------------------
    "api-token": R(get="405 405 405 405 405", post="ok ok ok ok ok"),
    "api-root": R(get=SIGNED_IN),
    "api-schema": R(get="200 200 200 200 200", note="the schema of an open-source API is public"),
    "api-docs": R(get="200 200 200 200 200"),
    # --- API: incidents --------------------------------------------------------------------------------------
    "incident-list": R(get=SIGNED_IN, post="401 ok ok ok ok"),
    "incident-export": R(get=SIGNED_IN, note="the whole filtered list as CSV/JSON: an end user exports their own"),
    "incident-detail": R(get=OWN, patch="401 403 404 ok ok"),
    "incident-journal": R(get=OWN, post=OWN_WRITE),
    "incident-attachments": R(get=OWN, post=OWN_WRITE),
    "incident-transitions": R(get=OWN),
    "incident-start": R(post="401 403|409 404 ok ok"),
    "incident-hold": R(post="401 403|409 404 ok ok"),
    "incident-resume": R(post="401 403|409 404 ok ok"),
    "incident-resolve": R(post="401 403|409 404 ok ok"),
    "incident-cancel": R(post="401 403|409 404 ok ok"),
    "incident-reopen": R(post="401 ok 404 ok ok", note="the caller may reopen their resolved incident"),
    "incident-close": R(post="401 ok 404 ok ok", note="the caller may accept their resolution"),
    "hold-reason-list": R(get=SIGNED_IN),
    "hold-reason-detail": R(get=SIGNED_IN),
    "close-code-list": R(get=SIGNED_IN),
    "close-code-detail": R(get=SIGNED_IN),
    # --- API: problems, problem tasks, known errors ---------------------------------------------------------------
    "problem-list": R(get=STAFF, post=STAFF_WRITE),
    "problem-export": R(get=STAFF),
    "problem-from-incident": R(post=STAFF_WRITE),
    "problem-detail": R(get=STAFF, patch=STAFF_WRITE),
    "problem-journal": R(get=STAFF, post=STAFF_WRITE),
    "problem-attachments": R(get=STAFF, post=STAFF_WRITE),
    "problem-transitions": R(get=STAFF),
    **{
        f"problem-{action}": R(post=STAFF_WRITE)
        for action in (
            *("assess", "analyze", "fix", "resolve", "close", "cancel", "reopen"),
            *("link-incident", "unlink-incident", "mark-known-error"),
        )
    },
    "problem-task-list": R(get=STAFF, post=STAFF_WRITE),
    "problem-task-export": R(get=STAFF),
    "problem-task-detail": R(get=STAFF, patch=STAFF_WRITE),
    "problem-task-journal": R(get=STAFF, post=STAFF_WRITE),
    "problem-task-attachments": R(get=STAFF, post=STAFF_WRITE),
    "problem-task-transitions": R(get=STAFF),
    **{f"problem-task-{action}": R(post=STAFF_WRITE) for action in ("assess", "start", "close")},
    "knowledge-article-list": R(get=SIGNED_IN),
    "knowledge-article-detail": R(get=SIGNED_IN),
    # --- API: changes ---------------------------------------------------------------------------------------------
    "change-list": R(get=STAFF, post=STAFF_WRITE),
    "change-export": R(get=STAFF),
    "change-from-template": R(post=STAFF_WRITE),
    "change-detail": R(get=STAFF, patch=STAFF_WRITE),
    "change-journal": R(get=STAFF, post=STAFF_WRITE),
    "change-attachments": R(get=STAFF, post=STAFF_WRITE),
    "change-transitions": R(get=STAFF),
    **{
        f"change-{action}": R(post=STAFF_WRITE)
        for action in (
            *("assess", "assess-risk", "request-approval", "schedule", "implement", "review", "close"),
            *("cancel", "revert-to-new"),
        )
    },
    "change-calendar": R(get=STAFF, query=lambda: _window_query()),
    "change-conflicts": R(get=STAFF),
    "change-task-list": R(get=STAFF, post=STAFF_WRITE),
    "change-task-export": R(get=STAFF),
    "change-task-detail": R(get=STAFF, patch=STAFF_WRITE),
    "change-task-journal": R(get=STAFF, post=STAFF_WRITE),
    "change-task-attachments": R(get=STAFF, post=STAFF_WRITE),
    "change-task-transitions": R(get=STAFF),
    **{f"change-task-{action}": R(post=STAFF_WRITE) for action in ("assess", "start", "close", "cancel", "skip")},
    "change-template-list": R(get=STAFF),
    "change-template-detail": R(get=STAFF),
    "risk-question-list": R(get=STAFF),
    "risk-question-detail": R(get=STAFF),
    # --- API: service requests and the catalog ----------------------------------------------------------------------
    "catalog-item-list": R(get=SIGNED_IN),
    "catalog-item-detail": R(get=SIGNED_IN),
    "request-list": R(get=SIGNED_IN, post="401 ok ok ok ok"),
    "request-export": R(get=SIGNED_IN),
    "request-detail": R(get=OWN),
    "request-journal": R(get=OWN, post=OWN_WRITE),
    "request-attachments": R(get=OWN, post=OWN_WRITE),
    "request-transitions": R(get=OWN),
    "requested-item-list": R(get=SIGNED_IN, post="401 405 405 405 405", note="items are ordered through requests"),
    "requested-item-export": R(get=SIGNED_IN),
    "requested-item-detail": R(get=OWN, patch="401 403 404 ok ok", note="agents change fields; the requester 403"),
    "requested-item-journal": R(get=OWN, post=OWN_WRITE),
    "requested-item-attachments": R(get=OWN, post=OWN_WRITE),
    "requested-item-transitions": R(get=OWN),
    "requested-item-cancel": R(post="401 403|409 404 ok ok", note="the requester withdraws only before fulfilment"),
    "requested-item-close": R(post="401 403|409 404 ok ok"),
    "fulfilment-task-list": R(get=STAFF, post="401 404 404 405 405", note="tasks come from the item's template"),
    "fulfilment-task-export": R(get=STAFF),
    "fulfilment-task-detail": R(get=STAFF, patch=STAFF_WRITE),
    "upload-list": R(get="401 405 405 405 405", post="401 ok ok ok ok", note="a file for an order's attachment answer"),
    "fulfilment-task-journal": R(get=STAFF, post=STAFF_WRITE),
    "fulfilment-task-attachments": R(get=STAFF, post=STAFF_WRITE),
    "fulfilment-task-transitions": R(get=STAFF),
    **{
        f"fulfilment-task-{action}": R(post=STAFF_WRITE)
        for action in ("start", "close-complete", "close-incomplete", "skip")
    },
    # Every practice's watch list and one-click category suggestion. Agents change the watch list; the caller reads
    # it on their own record (403 before the input is read: usernames cannot be probed); suggestions are agents'.
    **{
        f"{base}-{name}": spec
        for base, attr, own in (
            *(("incident", "incident", True), ("request", "request", True)),
            ("requested-item", "requested_item", True),
            *(("problem", "problem", False), ("problem-task", "task", False), ("change", "change", False)),
            *(("change-task", "change_task", False), ("fulfilment-task", "fulfilment_task", False)),
        )
        for name, spec in (
            ("watchers", R(get=OWN if own else STAFF, post="401 403 404 ok ok" if own else STAFF_WRITE)),
            (
                "watcher-detail",
                R(
                    delete="401 403 404 ok ok" if own else STAFF_WRITE,
                    kw=lambda w, attr=attr: {"number": getattr(w, attr).number, "username": "sec_agent"},
                ),
            ),
            ("apply-suggestion", R(post=STAFF_WRITE)),
            ("dismiss-suggestion", R(post=STAFF_WRITE)),
        )
    },
    "api-notification-preferences": R(get=SIGNED_IN, put="401 ok ok ok ok", patch="401 ok ok ok ok"),
    # --- API: kernel ----------------------------------------------------------------------------------------------
    "approval-list": R(get=SIGNED_IN),
    "approval-export": R(get=SIGNED_IN),
    "approval-detail": R(get="401 404 404 200 200", note="an approval on a change: agents see it, end users not"),
    "approval-approve": R(post="401 404 404 403 403", note="only the approver decides, not even an admin"),
    "approval-reject": R(post="401 404 404 403 403"),
    "team-list": R(get=AGENTS_403),
    "team-detail": R(get=AGENTS_403),
    "attachment-list": R(get=SIGNED_IN),
    "attachment-detail": [
        R(get=OWN, kw=lambda w: {"pk": w.public_file.pk}),
        R(get=STAFF, kw=lambda w: {"pk": w.note_file.pk}, note="a work-note file"),
    ],
    "attachment-download": [
        R(get=OWN, kw=lambda w: {"pk": w.public_file.pk}),
        R(get=STAFF, kw=lambda w: {"pk": w.note_file.pk}),
    ],
    "service-list": R(get=SIGNED_IN),
    "service-detail": R(get=SIGNED_IN),
    "configuration-item-list": R(get=SIGNED_IN),
    "configuration-item-detail": R(get=SIGNED_IN),
    # --- API: automation, categories, dashboards, webhooks ------------------------------------------------------------
    "category-list": R(get=SIGNED_IN),
    "category-detail": R(get=SIGNED_IN),
    "api-automation-dry-run": R(post=STAFF_WRITE),
    "api-automation-trends": R(get=STAFF),
    "category-suggestion-list": R(get=STAFF),
    "category-suggestion-detail": R(get=STAFF),
    "category-suggestion-accept": R(post=STAFF_WRITE),
    "categoriser-training-list": R(get=STAFF, post=STAFF_WRITE),
    "categoriser-training-detail": R(get=STAFF),
    "initiative-list": R(get=STAFF, post=STAFF_WRITE),
    # Only the owner (or an admin) changes an initiative; another agent's PUT fails validation or permission.
    "initiative-detail": R(get=STAFF, put="401 404 404 400|403 ok", patch="401 404 404 403 ok"),
    **{f"initiative-{action}": R(post="401 404 404 403 ok") for action in ("approve", "abandon")},
    **{f"initiative-{action}": R(post=STAFF_WRITE) for action in ("start", "complete")},
    "initiative-trend": R(get=STAFF),
    "api-dashboard-agent": R(get=STAFF),
    "api-dashboard-team": R(get=STAFF),
    "webhook-endpoint-list": R(get=ADMIN_ONLY, post=ADMIN_WRITE),
    "webhook-endpoint-detail": R(get=ADMIN_ONLY, put=ADMIN_WRITE, patch=ADMIN_WRITE, delete=ADMIN_WRITE),
    "webhook-delivery-list": R(get=ADMIN_ONLY),
    "webhook-delivery-detail": R(get=ADMIN_ONLY),
    "webhook-delivery-replay": R(post=ADMIN_WRITE),
    # --- API: SLAs ------------------------------------------------------------------------------------------------
    "schedule-list": R(get=AGENTS_403, post=ADMIN_WRITE),
    "schedule-detail": R(get=AGENTS_403, put=ADMIN_WRITE, patch=ADMIN_WRITE, delete=ADMIN_WRITE),
    "schedule-deadline": R(post="401 403 403 ok ok"),
    "schedule-elapsed": R(post="401 403 403 ok ok"),
    "sla-definition-list": R(get=AGENTS_403),
    "sla-definition-detail": R(get=AGENTS_403),
    "sla-definition-preview": R(post=ADMIN_WRITE),
    "sla-report-compliance": R(get=AGENTS_403),
    # --- browser: workspace (agents) and portal (end users) ------------------------------------------------------
    "incidents:workspace_home": R(
        get="302 302 302 302 302", note="a plain redirect to the queue (which needs a login)"
    ),
    "incidents:incident_create": R(get=PAGE_AGENT, post=PAGE_AGENT_POST),
    # The portal shows everyone their own records only (agents too): another person's record is a 404 for all.
    "portal:home": R(get=PORTAL),
    "portal:search": R(get=PORTAL),
    "portal:report": R(get=PORTAL, post="login ok ok ok ok"),
    "portal:suggestions": R(get=PORTAL),
    "portal:solved": R(post="login 404 404 404 404", note="names no suggestion: nothing to count"),
    "portal:tickets": R(get=PORTAL),
    "portal:rate": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.incident.number}),
    "portal:attach": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.requested_item.number}),
    "portal:incident_detail": R(get=PORTAL_OWN, kw=lambda w: {"number": w.incident.number}),
    "portal:incident_comment": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.incident.number}),
    "portal:incident_accept": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.incident.number}),
    "portal:incident_reopen": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.incident.number}),
    "portal:request_detail": R(get=PORTAL_OWN, kw=lambda w: {"number": w.requested_item.number}),
    "portal:request_comment": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.requested_item.number}),
    "portal:request_withdraw": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.requested_item.number}),
    "portal:request_confirm": R(post=PORTAL_OWN_WRITE, kw=lambda w: {"number": w.requested_item.number}),
    "portal:catalog": R(get=PORTAL),
    "portal:catalog_category": R(get=PORTAL, kw=lambda w: {"slug": w.catalog_item.category.slug}),
    "portal:catalog_item": R(get=PORTAL, post="login ok ok ok ok", kw=lambda w: {"pk": w.catalog_item.pk}),
    "portal:cart": R(get=PORTAL),
    "portal:cart_remove": R(post="login ok ok ok ok", kw={"index": 0}),
    "portal:cart_submit": R(post="login ok ok ok ok"),
    "portal:approvals": R(get=PORTAL),
    "portal:approval_detail": R(
        get="login 404 404 404 404",
        post="login 404 404 404 404",
        kw=lambda w: {"pk": w.approval.pk},
        note="an approval addressed to someone else",
    ),
    "portal:kb": R(get=PORTAL),
    "portal:kb_category": R(get="login 404 404 404 404", kw={"slug": "no-such-shelf"}),
    "portal:kb_article": R(get="login 404 404 404 404", kw={"slug": "no-such-article"}),
    "portal:kb_known_error": R(get=PORTAL, kw=lambda w: {"pk": w.article.pk}, note="published known errors are public"),
    "portal:kb_vote": R(post="login 404 404 404 404", note="names no article"),
    "slas:sla_report": R(get=PAGE_AGENT),
    "changes:calendar": R(get=PAGE_AGENT),
    "workspace:home": R(get="login 404 404 200|302 200|302"),
    "workspace:dashboard": R(get=PAGE_AGENT),
    "workspace:team_dashboard": R(get=PAGE_AGENT),
    "workspace:search": R(get=PAGE_AGENT),
    "workspace:goto": R(get="login 404 404 302 302"),
    "workspace:list": R(get=PAGE_AGENT),
    "workspace:export": R(get=PAGE_AGENT),
    "workspace:bulk": R(post=PAGE_AGENT_POST),
    "workspace:filter_save": R(post=PAGE_AGENT_POST),
    "workspace:filter_delete": R(post="login 404 404 404 404", note="another agent's saved filter"),
    "workspace:detail": R(get=PAGE_AGENT),
    "workspace:comment": R(post=PAGE_AGENT_POST),
    "workspace:attach": R(post=PAGE_AGENT_POST),
    "workspace:watchers": R(post=PAGE_AGENT_POST),
    "workspace:suggestion": R(post=PAGE_AGENT_POST),
    "workspace:transition": R(
        post=PAGE_AGENT_POST, kw=lambda w: {"practice": "incidents", "number": w.incident.number, "name": "hold"}
    ),
    "approval_link": R(get="any any any any any", post="any any any any any", note="a forged token approves nothing"),
    # --- Django admin: staff only; every other role is sent to the admin login ------------------------------------
    "admin:*": R(get=ADMIN_SITE),
    "admin:login": R(get="200 200 200 200 302", note="signed-in non-staff users see the form with a refusal"),
    "admin:logout": R(get="any any any any 405", post="302 302 302 302 302"),
    "admin/*": R(get=ADMIN_SITE),
}

# URL parameters by name, for the route-name prefixes that own them (first match wins).
_NUMBERS = [
    ("requested-item-", "requested_item"),
    ("request-", "request"),
    ("fulfilment-task-", "fulfilment_task"),
    ("change-task-", "change_task"),
    ("problem-task-", "task"),
    ("problem-", "problem"),
    ("change-", "change"),
    ("incident", "incident"),
    ("incidents:", "incident"),
]
_PKS = [
    ("approval-", "approval"),
    ("attachment-", "public_file"),
    ("schedule-", "schedule"),
    ("sla-definition-", "definition"),
    ("team-", "team_a"),
    ("service-", "service"),
    ("configuration-item-", "ci"),
    ("knowledge-article-", "article"),
    ("change-template-", "template"),
    ("risk-question-", "risk_question"),
    ("catalog-item-", "catalog_item"),
    ("category-", "category"),
    ("initiative-", "initiative"),
    ("categoriser-training-", "training"),
    ("webhook-endpoint-", "webhook_endpoint"),
    ("webhook-delivery-", "webhook_delivery"),
    ("portal:catalog_item", "catalog_item"),
    ("portal:approval_detail", "approval"),
    ("portal:kb_known_error", "article"),
    ("workspace:filter_delete", "saved_filter"),
]
_SLUGS = {"hold-reason-detail": "awaiting_caller", "close-code-detail": "solution_provided"}


def fill_kwargs(name: str, params: list[str], world) -> dict[str, Any]:
    """Parameters for a route, pointing at a record that belongs to someone else."""
    kwargs: dict[str, Any] = {}
    for param in params:
        if name.startswith("admin") and param in ("pk", "object_id"):
            # named admin routes (admin:app_model_change) and the unnamed admin/app/model/<object_id>/ redirects
            kwargs[param] = _admin_object_id(re.sub(r"^admin/(\w+)/(\w+)/.*", r"admin:\1_\2_change", name))
        elif param == "number":
            attr = next((a for prefix, a in _NUMBERS if name.startswith(prefix)), "incident")
            kwargs[param] = getattr(world, attr).number
        elif param == "pk":
            attr = next((a for prefix, a in _PKS if name.startswith(prefix)), None)
            assert attr, f"route {name}: no record for its pk; give the entry a kw="
            kwargs[param] = getattr(world, attr).pk
        elif param == "slug":
            kwargs[param] = _SLUGS.get(name) or _slug_for(name, world)
        elif param == "practice":
            kwargs[param] = "incidents"
        elif param == "index":
            kwargs[param] = 0
        elif param == "token":
            kwargs[param] = "forged-token"
        elif param == "app_label":
            kwargs[param] = "incidents"
        elif param == "id":  # admin password change of a user
            kwargs[param] = world.users["owner"].pk
        elif param in ("content_type_id",):
            from django.contrib.contenttypes.models import ContentType

            kwargs[param] = ContentType.objects.get_for_model(world.incident).pk
        elif param == "url":
            kwargs[param] = "no-such-page/"
        else:
            raise AssertionError(f"route {name}: unknown URL parameter {param!r}; give the entry a kw=")
    return kwargs


def _window_query() -> str:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    return f"?start={today - timedelta(days=7)}&end={today + timedelta(days=30)}"


def _slug_for(name: str, world) -> str:
    if name.startswith("portal:catalog"):
        return world.catalog_item.category.slug
    if name == "portal:kb_article":
        return world.kb_article.slug
    if name == "portal:kb_category":
        return world.kb_article.category.slug
    raise AssertionError(f"route {name}: no slug; give the entry a kw=")


def _admin_object_id(name: str) -> str:
    match = re.match(r"admin:(\w+?)_(\w+)_\w+$", name)
    if match:
        for model in apps.get_models():
            if f"{model._meta.app_label}_{model._meta.model_name}" == f"{match[1]}_{match[2]}":
                pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
                return str(pk if pk is not None else 0)
    return "1"


# --- enumeration --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name with its namespace, or the pattern for an unnamed one
    pattern: str
    params: tuple[str, ...]


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (namespace + entry.name) if entry.name else None, entry.pattern


def all_routes() -> list[Route]:
    """Every URL pattern of the project, one per name (format-suffix twins of DRF routes are the same view)."""
    routes: dict[str, Route] = {}
    for pattern, name, _compiled in _walk(get_resolver().url_patterns):
        if "(?P<format>" in pattern:
            continue
        params = tuple(
            sorted(set(re.findall(r"\(\?P<(\w+)>", pattern)) | set(re.findall(r"<(?:\w+:)?(\w+)>", pattern)))
        )
        key = name or pattern
        routes.setdefault(key, Route(key=key, pattern=pattern, params=params))
    return sorted(routes.values(), key=lambda r: r.key)


def entries_for(key: str) -> list[R]:
    """The matrix lines of a route: its exact key, else the most specific (longest) matching glob."""
    if key in MATRIX:
        value = MATRIX[key]
        return value if isinstance(value, list) else [value]
    globs = sorted((g for g in MATRIX if any(c in g for c in "*?[") and fnmatch.fnmatchcase(key, g)), key=len)
    if not globs:
        return []
    value = MATRIX[globs[-1]]
    return value if isinstance(value, list) else [value]


def openapi_operations() -> list[tuple[str, str]]:
    """(path, method) of every operation in the schema drf-spectacular generates for this code, in-process."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method) for path, item in schema["paths"].items() for method in item if method in METHODS]


def _route_key_for_path(path: str) -> str:
    concrete = re.sub(r"\{[^}]+\}", "ABC123", path)  # matches numbers ([A-Za-z]+[0-9]+), pks and slugs alike
    match = resolve(concrete)
    return match.view_name or match.route


# --- the tests ----------------------------------------------------------------------------------------------------


def test_every_route_has_an_entry():
    missing = [f"{r.key}  ({r.pattern})" for r in all_routes() if not entries_for(r.key)]
    assert not missing, "Routes without a line in tests/security/test_access_matrix.py MATRIX:\n" + "\n".join(missing)


def test_every_openapi_operation_has_an_entry():
    operations = openapi_operations()
    missing = []
    for path, method in operations:
        key = _route_key_for_path(path)
        if not any(method in entry.expects for entry in entries_for(key)):
            missing.append(f"{method.upper()} {path} (route {key})")
    assert operations
    assert not missing, "OpenAPI operations without an expectation in MATRIX:\n" + "\n".join(missing)


_SAMPLE = {"number": "ABC123", "pk": "1", "id": "1", "object_id": "1"}


def test_no_route_is_shadowed():
    """Each named route's own URL reaches that route (an earlier, broader pattern would answer it instead)."""
    shadowed = []
    for route in all_routes():
        if "/" in route.key:
            continue
        sample = {
            p: ("ABC123" if p == "number" else "1" if p in ("pk", "id", "object_id") else "abc") for p in route.params
        }
        try:
            url = reverse(route.key, kwargs=sample or None)
        except NoReverseMatch:
            continue
        found = resolve(url).view_name
        if found != route.key:
            shadowed.append(f"{url}: {route.key} is answered by {found}")
    assert not shadowed, "Shadowed routes:\n" + "\n".join(shadowed)


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> str:
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", "replace")


def _call(client: APIClient, method: str, url: str):
    """One request inside a savepoint that is rolled back; returns (status, location, body)."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)  # a logout must not sign the role out for the next request
    with transaction.atomic():
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        result = (response.status_code, response.get("Location", ""), _body(response))
        transaction.set_rollback(True)
    client.cookies = cookies
    return result


def _fill_pattern(pattern: str, kwargs: dict[str, Any]) -> str:
    """The URL of an unnamed pattern: its parameters substituted into the route."""
    url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), pattern)
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), url).replace("^", "").rstrip("$")


def _matches(token: str, status: int, location: str) -> bool:
    if "|" in token:
        return any(_matches(alternative, status, location) for alternative in token.split("|"))
    if token == "any":
        return status < 500
    if token == "-":
        return True
    if token == "login":
        return status == 302 and "login" in location
    if token == "ok":
        return status < 500 and status not in (401, 403, 404, 405) and not (status == 302 and "login" in location)
    return status == int(token)


def test_access_matrix(settings, tmp_path):
    """Every route, every declared method, every role: the answer the matrix expects, and no foreign canary."""
    world = build_world(settings, tmp_path)
    clients = {role: _client(user) for role, user in world.users.items()}
    failures: list[str] = []
    requests = 0
    covered = 0
    for route in all_routes():
        entries = entries_for(route.key)
        if not entries:
            continue  # test_every_route_has_an_entry names it
        covered += 1
        for entry in entries:
            kwargs = entry.kw(world) if callable(entry.kw) else entry.kw
            if kwargs is None:
                try:
                    kwargs = fill_kwargs(route.key, list(route.params), world)
                except AssertionError as error:
                    failures.append(str(error))
                    continue
            try:
                url = reverse(route.key, kwargs=kwargs or None) if ":" in route.key or "/" not in route.key else None
            except NoReverseMatch:
                url = None
            if url is None:
                url = _fill_pattern(route.pattern, kwargs)
            base_query = entry.query() if callable(entry.query) else entry.query
            queries = [base_query]
            if not route.params:
                queries.append((base_query + "&" if base_query else "?") + "search=CANARY&q=CANARY")
            for method, expect in entry.expects.items():
                for role, token in expect.by_role.items():
                    for query in queries if method == "get" else [""]:
                        status, location, body = _call(clients[role], method, url + query)
                        requests += 1
                        if not _matches(token, status, location):
                            failures.append(f"{method.upper()} {url}{query} as {role}: {status}, expected {token}")
                        leaked = [c for c in forbidden_canaries(role) if c in body]
                        if leaked:
                            failures.append(f"{method.upper()} {url}{query} as {role}: shows {leaked}")
    report("access matrix", f"{covered} routes covered, {requests} requests as {len(ROLES)} roles")
    print(f"access matrix: {covered} routes covered, {requests} requests")
    assert not failures, f"{len(failures)} access failures:\n" + "\n".join(failures)


def test_staff_without_the_admin_role_reach_no_admin_api(db):
    """A team manager is staff (for the team admin) but no desk admin: admin-only APIs answer 403, whatever
    `is_staff` says (webhook endpoints hold signing secrets and receive every event)."""
    from itsm.enums import Role
    from tests.factories import UserFactory

    manager = UserFactory(username="staff_manager", role=Role.TEAM_MANAGER, is_staff=True)
    client = _client(manager)
    for url in ("/api/v1/webhook-endpoints/", "/api/v1/webhook-deliveries/"):
        assert client.get(url).status_code == 403, url
    created = client.post("/api/v1/webhook-endpoints/", {"name": "x", "url": "https://evil.example/"}, format="json")
    assert created.status_code == 403
