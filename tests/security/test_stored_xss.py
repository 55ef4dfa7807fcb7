"""Suite 4: stored XSS. Every payload of xss_payloads.txt (script tags, event handlers, javascript: URLs, SVG,
markdown tricks, encoded variants) is written, through the services, into every user-writable text: short
descriptions (one record each, spread over incidents, problems and changes), descriptions, close notes, comments
and work notes, problem causes and workarounds (published as a known-error article), change plans, attachment file
names and people's names. Then every page that shows them is rendered in headless Chromium: the workspace (lists and
ticket pages), the portal (my tickets, the ticket, the known-error article), the admin (change pages and lists) and
the notification e-mails (their HTML bodies). Many payloads share each page, so the suite needs a few dozen page
loads, not thousands.

The browser runs with the Content-Security-Policy bypassed, so what is tested is the escaping itself, not the CSP
behind it. On every page: no dialog fires, and the DOM holds no element with an `on*` attribute, no
`javascript:`/`vbscript:`/`data:text/html` URL, no inline script or active element carrying a payload's code
(every payload's script calls 1337).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from itsm.models import OutboxMessage
from tests.browser.test_smoke import browser  # noqa: F401 (the fixture)
from tests.factories import (
    AgentFactory,
    TeamFactory,
    UserFactory,
    change_factory,
    incident_factory,
    problem_factory,
)
from tests.security.conftest import report

CORPUS = Path(__file__).with_name("xss_payloads.txt")
MAILS_PER_PAGE = 100
PER_COMMENT = 4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def payloads() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line.replace("\\n", "\n") for line in lines if line and not line.startswith("# ")]


# Runs in the page: everything a payload could have injected. The app itself has no inline handler or script URL.
SCAN = """() => {
  const found = [];
  const urlAttrs = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster',
                            'lowsrc', 'dynsrc', 'srcdoc', 'codebase', 'content']);
  const active = new Set(['SCRIPT', 'IFRAME', 'FRAME', 'OBJECT', 'EMBED', 'BASE', 'META', 'LINK', 'STYLE', 'FORM',
                          'svg', 'SVG', 'MATH', 'math', 'TEMPLATE', 'AUDIO', 'VIDEO', 'SET', 'ANIMATE', 'HANDLER']);
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      for (const attr of Array.from(el.attributes)) {
        const name = attr.name.toLowerCase();
        const value = (attr.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        if (name.startsWith('on') || name.startsWith('hx-on') || name.startsWith('data-hx-on')) {
          found.push(`${el.tagName} has ${attr.name}="${attr.value.slice(0, 60)}"`);
        }
        if (urlAttrs.has(name) && /(javascript|vbscript):|data:text\\/html|url=javascript/.test(value)) {
          found.push(`${el.tagName} ${attr.name}="${attr.value.slice(0, 60)}"`);
        }
      }
      // An active element whose own attributes (or, for scripts and styles, whose code) carry a payload's code;
      // escaped payload text inside the app's own forms is fine.
      const own = Array.from(el.attributes).map((a) => a.value).join(' ');
      const code = ['SCRIPT', 'STYLE', 'HANDLER'].includes(el.tagName.toUpperCase()) ? el.textContent : '';
      if (active.has(el.tagName) && (own + code).includes('1337')) {
        found.push(`active ${el.tagName}: ${el.outerHTML.slice(0, 80)}`);
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""


class Scanner:
    """Opens pages in one browser context per user and collects dialogs and injected DOM."""

    def __init__(self, chromium, base_url: str):
        self.browser = chromium
        self.base_url = base_url
        self.findings: list[str] = []
        self.pages = 0

    def context_for(self, user):
        client = Client()
        client.force_login(user)
        context = self.browser.new_context(bypass_csp=True, java_script_enabled=True)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": self.base_url}])
        return context

    def _watch(self, page, where: str) -> None:
        def on_dialog(dialog, where=where):
            self.findings.append(f"{where}: a {dialog.type} dialog fired ({dialog.message})")
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def visit(self, context, path: str) -> str:
        """Load the page, give injected code a moment to run, scan; returns the page's text."""
        page = context.new_page()
        page.set_default_timeout(20_000)
        self._watch(page, path)
        response = page.goto(f"{self.base_url}{path}", wait_until="load")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        page.wait_for_timeout(150)
        self.findings += [f"{path}: {finding}" for finding in page.evaluate(SCAN)]
        text = page.inner_text("body")
        page.close()
        self.pages += 1
        return text

    def render_html(self, context, html: str, where: str) -> None:
        page = context.new_page()
        self._watch(page, where)
        page.set_content(html, wait_until="load")
        page.wait_for_timeout(50)
        self.findings += [f"{where}: {finding}" for finding in page.evaluate(SCAN)]
        page.close()
        self.pages += 1


def _joined(items: list[str]) -> str:
    return "\n".join(items)


def _plant(corpus: list[str]) -> dict:
    """Write every payload into every user-writable text, through the services."""
    from incidents import services as incidents
    from itsm.services import attachment_add
    from problems import services as problems
    from tests.factories import close_code

    team = TeamFactory(name="XSS desk")
    agent = AgentFactory(username="xss_agent", first_name=corpus[0][:150], last_name=corpus[1][:150])
    team.members.add(agent)
    caller = UserFactory(username="xss_caller", first_name=corpus[2][:150], last_name=corpus[3][:150])
    admin = UserFactory(username="xss_admin", is_staff=True, is_superuser=True)

    # Short descriptions: one record per payload, a block per practice, each block on one list page (100 a page).
    for index, payload in enumerate(corpus):
        text = payload[:160]
        if index < 100:
            incident_factory(by=agent, caller=caller, short_description=text)
        elif index < 175:
            problem_factory(by=agent, short_description=text)
        else:
            change_factory(by=agent, short_description=text)

    everything = _joined(corpus)
    big = incident_factory(by=agent, caller=caller, short_description="Every payload", description=everything)
    for start in range(0, len(corpus), PER_COMMENT):  # a few payloads per comment: each one lands in the timeline
        incidents.incident_comment(incident=big, by=agent, body="\n\n".join(corpus[start : start + PER_COMMENT]))
    incidents.incident_comment(incident=big, by=agent, body=everything, kind="work_note")
    for payload in corpus[:60]:
        attachment_add(
            ticket=big, by=caller, uploaded=SimpleUploadedFile(f"{payload[:150]}.txt", b"log line\n", "text/plain")
        )
    resolved = incident_factory(by=agent, caller=caller, short_description="Resolved with payloads")
    incidents.incident_start(incident=resolved, by=agent)
    incidents.incident_resolve(incident=resolved, by=agent, close_code=close_code(), close_notes=everything)

    problem = problem_factory(by=agent, short_description="Problem with payloads", description=everything)
    article = problems.problem_mark_known_error(
        problem=problem, by=agent, workaround=everything, cause_notes=everything
    )
    problems.problem_comment(problem=problem, by=agent, body=everything)
    change = change_factory(
        by=agent,
        short_description="Change with payloads",
        description=everything,
        implementation_plan=everything,
        backout_plan=everything,
        test_plan=everything,
    )
    return {
        "agent": agent,
        "caller": caller,
        "admin": admin,
        "big": big,
        "resolved": resolved,
        "problem": problem,
        "article": article,
        "change": change,
    }


def test_no_payload_runs_anywhere(live_server, browser):  # noqa: F811
    from itsm.workspace import practices

    corpus = payloads()
    assert len(corpus) >= 200
    started = time.monotonic()
    desk = _plant(corpus)
    planted = time.monotonic() - started
    scanner = Scanner(browser, live_server.url)

    agent = scanner.context_for(desk["agent"])
    text = scanner.visit(agent, f"/workspace/t/{desk['big'].number}/")
    shown = sum(" ".join(p.split())[:40] in " ".join(text.split()) for p in corpus)
    for record in ("resolved", "problem", "change"):
        scanner.visit(agent, f"/workspace/t/{desk[record].number}/")
    for practice in practices():
        scanner.visit(agent, f"/workspace/{practice.slug}/?per_page=100")
    scanner.visit(agent, "/workspace/")
    scanner.visit(agent, "/workspace/search/?q=1337")
    agent.close()

    caller = scanner.context_for(desk["caller"])
    scanner.visit(caller, "/portal/")
    scanner.visit(caller, "/portal/tickets/")
    scanner.visit(caller, f"/portal/incidents/{desk['big'].number}/")
    scanner.visit(caller, f"/portal/incidents/{desk['resolved'].number}/")
    scanner.visit(caller, f"/portal/kb/known-errors/{desk['article'].pk}/")
    scanner.visit(caller, "/portal/search/?q=1337")
    mails = sorted(set(OutboxMessage.objects.exclude(html_body="").values_list("html_body", flat=True)))
    for start in range(0, len(mails), MAILS_PER_PAGE):  # many e-mails per page: they are rendered one after another
        batch = mails[start : start + MAILS_PER_PAGE]
        scanner.render_html(caller, "\n<hr>\n".join(batch), f"notification e-mails {start}-{start + len(batch)}")
    caller.close()

    admin = scanner.context_for(desk["admin"])
    scanner.visit(admin, f"/admin/incidents/incident/{desk['big'].pk}/change/")
    scanner.visit(admin, "/admin/incidents/incident/")
    scanner.visit(admin, f"/admin/problems/problem/{desk['problem'].pk}/change/")
    scanner.visit(admin, f"/admin/changes/change/{desk['change'].pk}/change/")
    scanner.visit(admin, "/admin/itsm/journalentry/")
    scanner.visit(admin, "/admin/itsm/attachment/")
    scanner.visit(admin, "/admin/itsm/outboxmessage/")
    scanner.visit(admin, "/admin/auth/user/")
    admin.close()

    line = (
        f"{len(corpus)} payloads tried in every user-writable text; {scanner.pages} pages and e-mails rendered "
        f"({len(mails)} e-mails); {shown} payloads visible as text on the ticket page; "
        f"{len(scanner.findings)} injections "
        f"(planting {planted:.0f} s, browsing {time.monotonic() - started - planted:.0f} s)"
    )
    print("\nstored XSS: " + line)
    report("4 stored XSS", line)
    assert not scanner.findings, "\n".join(scanner.findings[:50])
    assert shown >= len(corpus) * 0.8, f"only {shown} of {len(corpus)} payloads reached the ticket page as text"
    assert mails, "the payload comments sent the caller HTML notifications"
