"""Suite 10, configuration: Django's deployment checks pass with the production settings, the security headers are
on every kind of response, and bandit finds nothing of medium severity or above (each exception justified inline).

The production settings run in a child process of their own (they read SECRET_KEY and ALLOWED_HOSTS from the
environment and turn DEBUG off), exactly as `web` starts in docker-compose.yml.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.security.conftest import report

ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="itsm.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="desk.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/itsm"),
        REDIS_URL=settings.ITSM_TEST_REDIS_URL,
    )
    return env


def test_deploy_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Run with the production settings: one HTTPS page, one API answer, one plain-HTTP request.
_HEADERS_SCRIPT = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# Pages name their static files through the manifest that collectstatic writes at image build time; none here.
storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
override_settings(STORAGES=storages).enable()
client = Client(HTTP_HOST="desk.example.com")
out = {}
for name, path, secure in [("page", "/accounts/login/", True), ("api", "/api/v1/incidents/", True),
                           ("plain", "/accounts/login/", False)]:
    response = client.get(path, secure=secure)
    out[name] = {"status": response.status_code, "headers": dict(response.headers)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses():
    result = subprocess.run(
        [sys.executable, "-c", _HEADERS_SCRIPT],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["page", "api"])
def test_security_headers_in_production(production_responses, kind):
    response = production_responses[kind]
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert response["status"] in (200, 401), response
    hsts = headers["strict-transport-security"]
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts)[1]) >= 31536000
    assert "includeSubDomains" in hsts
    csp = headers["content-security-policy"]  # enforced, not report-only
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_plain_http_is_redirected_to_https_in_production(production_responses):
    response = production_responses["plain"]
    assert response["status"] == 301
    assert response["headers"]["Location"].startswith("https://desk.example.com/")


def test_security_headers_under_default_settings(client, db):
    """The embedded default (and the test settings) send the same CSP, frame, referrer and sniffing headers."""
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_bandit_finds_nothing_of_medium_severity_or_above():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", ".", "-ll", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    findings = json.loads(result.stdout)
    issues = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in findings["results"]]
    assert not issues, "\n".join(issues)
    assert result.returncode == 0, result.stderr
    scanned = findings["metrics"]["_totals"]["loc"]
    report("bandit", f"0 findings of medium severity or above in {scanned} lines")


def test_every_bandit_exception_is_justified():
    """Each `# nosec` names the test it silences, and a comment just above it (within three lines) says why."""
    unjustified = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "bench", "var", "node_modules"}:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "# nosec" not in line:
                continue
            named = re.search(r"# nosec B\d{3}", line)
            reason = any(previous.strip().startswith("#") for previous in lines[max(number - 3, 0) : number])
            if not named or not reason:
                unjustified.append(f"{relative}:{number + 1}: {line.strip()}")
    assert not unjustified, "\n".join(unjustified)


# --- the policy in a real browser ---------------------------------------------------------------------------------

_PAGES = [
    "/portal/",
    "/workspace/",
    "/workspace/incidents/",
    "/workspace/reports/sla/",
    "/admin/",
    "/admin/incidents/incident/",
    "/api/docs/",
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pages_work_under_the_content_security_policy(live_server, monkeypatch):
    """Headless Chromium loads the main pages of each audience under the enforced CSP: no violation is reported
    (an inline script or style the policy blocks would be a broken page)."""
    from django.db import connections

    from tests.browser.test_smoke import CHROMIUM, CHROMIUM_ARGS
    from tests.conftest import require_service
    from tests.factories import UserFactory, incident_factory

    require_service(Path(CHROMIUM).exists(), "Chromium is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    admin = UserFactory(username="csp_admin", is_staff=True, is_superuser=True)
    incident_factory(by=admin, caller=admin)
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(30_000)  # the shared CI machine can be slow
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => "
                "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.on("console", lambda m: violations.append(f"{page.url}: {m.text}") if "CSP" in m.text else None)
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=username]", "csp_admin")
            page.fill("input[name=password]", "pw")
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_load_state("networkidle")
            for path in _PAGES:
                response = page.goto(f"{live_server.url}{path}")
                page.wait_for_load_state("networkidle")
                assert response is not None and response.status == 200, path
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
                if path == "/api/docs/":  # Swagger UI really starts: its operations are listed
                    page.wait_for_selector(".opblock")
        finally:
            browser.close()
            connections.close_all()
    assert not violations, "\n".join(violations)
    report("csp", f"{len(_PAGES) + 1} pages loaded in Chromium under the enforced CSP, 0 violations")
