"""The load driver of `make bench`: locust (as a library, headless, one process) against gunicorn on loopback.

gunicorn runs the production settings (DEBUG off, persistent database connections, ManifestStaticFilesStorage,
WhiteNoise) on 127.0.0.1 with BENCH_WORKERS sync workers, over the seed_bench data set (run `manage.py seed_bench`
first). Each scenario runs alone for --seconds (after a short warm-up whose figures are dropped) with --users
concurrent users that send their next request as soon as the last one is answered; the mixed run puts 80% reads and
20% writes on --mixed-users users for --mixed-seconds. Figures per scenario: requests/s, median, p95, p99, errors.

The driver shares the machine's cores with the server and PostgreSQL: it uses locust's FastHttpUser (about a tenth
of the CPU of the requests-based client), a single process, and few users where throughput is measured; its own CPU
time is reported beside each scenario, so its share of the machine is visible.

    python -m bench.load [--users 4] [--seconds 15] [--mixed-users 50] [--mixed-seconds 60] [--only NAME ...]
"""

from __future__ import annotations

# locust patches the standard library with gevent: it must come first.
from locust import FastHttpUser, constant  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import itertools
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import gevent

from bench.common import BENCH_DIR, RESULTS_DIR, static_signature, var_dir, write_result

ROOT = BENCH_DIR.parent


def _free_port() -> int:
    """A port nobody listens on (other engineers' dev servers share this loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT") or _free_port())
WORKERS = int(os.environ.get("BENCH_WORKERS", 5))
SEARCH_WORDS = ["printer", "VPN", "crashing", "Outlook", "certificate", "warehouse", "Citrix", "timeout", "INC0500"]

# Aims from issue 8 (on this machine, 1,000,000 incidents): minimum requests/s and maximum p95 / median (ms).
AIMS = {
    "api_create": {"rps": 300},
    "api_detail": {"rps": 500},
    "api_list": {"rps": 400, "p95": 50},
    "api_filtered": {"rps": 400, "p95": 50},
    "api_deep_page": {"p95": 50},
    "api_search": {"p95": 200},
    "page_queue": {"median": 150},
    "page_ticket": {"median": 150},
    "page_dashboard": {"median": 300},
    "mixed": {"p95": 200, "errors": 0},
}


class Fixture:
    """What the simulated users use: tokens, session cookies, numbers, teams; made in the bench database."""

    def __init__(self, data: dict):
        self.__dict__.update(data)
        self._cycle = itertools.count()

    def next_index(self) -> int:
        return next(self._cycle)


def prepare(users: int) -> dict:
    """API tokens and browser sessions for agents and callers, and the records the scenarios touch."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from incidents.models import HoldReason, Incident
    from itsm.models import Team

    agents = list(User.objects.filter(username__startswith="bench-agent").order_by("id")[: max(users, 8)])
    callers = list(
        User.objects.filter(username__startswith="bench-caller", tickets_called__isnull=False)
        .distinct()
        .order_by("id")[:20]
    )
    if not agents or not callers:
        sys.exit("error: no bench data set: run `manage.py seed_bench` first (make bench does)")

    def session(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    teams = list(Team.objects.filter(name__startswith="Bench team").order_by("id").values_list("id", flat=True))
    numbers = list(Incident.objects.order_by("?").values_list("number", flat=True)[:2000])
    # Incidents the transition scenario puts on hold and takes off hold again (each user its own).
    working = list(Incident.objects.filter(state="in_progress").order_by("?").values_list("number", flat=True)[:400])
    # Incidents that take comments (open ones; closed incidents refuse them), apart from those.
    commentable = list(
        Incident.objects.filter(state__in=["new", "on_hold"]).order_by("?").values_list("number", flat=True)[:1000]
    )
    return {
        "commentable": commentable,
        "tokens": [Token.objects.get_or_create(user=a)[0].key for a in agents],
        "agent_sessions": [session(a) for a in agents],
        "caller_sessions": [session(c) for c in callers],
        "callers": [c.username for c in callers],
        "teams": teams,
        "numbers": numbers,
        "working": working,
        "hold_reason": HoldReason.objects.filter(active=True, category="pending_third_party").first().slug,
    }


# --- the server ------------------------------------------------------------------------------------------------


SECRET_KEY = "bench-only-" + "x" * 40  # the driver signs the users' sessions with it too


def server_env(database_url: str) -> dict:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "itsm.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, as behind a TLS-terminating proxy
        "CONN_MAX_AGE": "600",
        "ITSM_VAR_DIR": str(var_dir()),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        # The throttle still counts every request in Redis, as in production; its cap would only measure itself.
        "ITSM_API_THROTTLE_USER": "10000000/min",
        "ITSM_API_THROTTLE_ANON": "10000000/min",
    }


def start_server(database_url: str) -> subprocess.Popen:
    env = server_env(database_url)
    python = sys.executable
    # Compressing and hashing every static file takes minutes on a busy 2-core machine: done again only when the
    # project's static files changed.
    stamp, signature = var_dir() / "static" / ".bench-collected", static_signature()
    if not stamp.exists() or stamp.read_text() != signature:
        print("  collecting static files (the project's changed since the last run)")
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        stamp.write_text(signature)
    gunicorn = [python, "-m", "gunicorn", "itsm.wsgi", f"--bind=127.0.0.1:{PORT}", f"--workers={WORKERS}"]
    process = subprocess.Popen([*gunicorn, "--log-level=warning", "--timeout=60"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("error: gunicorn exited; see its output above")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz/", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    stop_server(process)
    sys.exit("error: gunicorn did not answer /healthz/ within 120 s")


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the users -------------------------------------------------------------------------------------------------


def user_classes(fx: Fixture, deep_url: str | None) -> dict[str, type]:
    """One locust user class per scenario (a single task each), and the mixed one."""
    base = f"http://127.0.0.1:{PORT}"

    class Agent(FastHttpUser):
        abstract = True
        host = base
        wait_time = constant(0)

        def on_start(self):
            i = fx.next_index()
            self.i = i
            token = fx.tokens[i % len(fx.tokens)]
            self.api = {"Authorization": f"Token {token}", "Accept": "application/json"}
            self.page = {"Cookie": f"sessionid={fx.agent_sessions[i % len(fx.agent_sessions)]}"}
            self.portal = {"Cookie": f"sessionid={fx.caller_sessions[i % len(fx.caller_sessions)]}"}
            self.rng = random.Random(i)
            self.mine = fx.working[i % len(fx.working)]
            self.on_hold = False

        def call(self, method: str, url: str, headers: dict, name: str, body=None, expected: int = 200):
            """One request; anything but the expected status (a redirect to the login page too) is an error."""
            with self.client.request(
                method, url, headers=headers, json=body, name=name, allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code == expected:
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return response

        # API
        def api_create(self):
            body = {
                "short_description": f"Bench load: {self.rng.choice(SEARCH_WORDS)} does not work",
                "caller": self.rng.choice(fx.callers),
                "assignment_group": self.rng.choice(fx.teams),
                "impact": 2,
                "urgency": 2,
            }
            self.call("POST", "/api/v1/incidents/", self.api, "api_create", body, 201)

        def api_list(self):
            self.call("GET", "/api/v1/incidents/", self.api, "api_list")

        def api_filtered(self):
            team = self.rng.choice(fx.teams)
            url = f"/api/v1/incidents/?assignment_group={team}&state=in_progress&ordering=priority,opened_at"
            self.call("GET", url, self.api, "api_filtered")

        def api_deep_page(self):
            self.call("GET", deep_url, self.api, "api_deep_page")

        def api_search(self):
            word = self.rng.choice(SEARCH_WORDS)
            self.call("GET", f"/api/v1/incidents/?search={word}", self.api, "api_search")

        def api_detail(self):
            number = self.rng.choice(fx.numbers)
            self.call("GET", f"/api/v1/incidents/{number}/", self.api, "api_detail")

        def api_transition(self):
            # Each user toggles its own in-progress incident: on hold, then back in progress.
            if self.on_hold:
                url, body = f"/api/v1/incidents/{self.mine}/resume/", {}
            else:
                url, body = f"/api/v1/incidents/{self.mine}/hold/", {"hold_reason": fx.hold_reason}
            if self.call("POST", url, self.api, "api_transition", body).status_code == 200:
                self.on_hold = not self.on_hold

        def api_comment(self):
            number = self.rng.choice(fx.commentable)
            body = {"kind": "comment", "body": "Bench load: any news?"}
            self.call("POST", f"/api/v1/incidents/{number}/journal/", self.api, "api_comment", body, 201)

        # Pages
        def page_queue(self):
            self.call("GET", PAGE_URLS["page_queue"](fx), self.page, "page_queue")  # each agent's own team

        def page_ticket(self):
            number = self.rng.choice(fx.numbers)
            self.call("GET", f"/workspace/incidents/{number}/", self.page, "page_ticket")

        def page_dashboard(self):
            self.call("GET", PAGE_URLS["page_dashboard"](fx), self.page, "page_dashboard")

        def page_portal(self):
            self.call("GET", PAGE_URLS["page_portal"](fx), self.portal, "page_portal")

    scenarios = [
        "api_create", "api_list", "api_filtered", "api_deep_page", "api_search", "api_detail", "api_transition",
        "api_comment", "page_queue", "page_ticket", "page_dashboard", "page_portal",
    ]  # fmt: skip
    classes = {}
    for name in scenarios:
        method = getattr(Agent, name)
        classes[name] = type(name, (Agent,), {"abstract": False, "tasks": [method]})
    # Mixed: 80% reads, 20% writes.
    reads = {"api_list": 16, "api_filtered": 12, "api_detail": 16, "api_search": 4, "page_queue": 12, "page_ticket": 12,
             "page_dashboard": 4, "page_portal": 4}  # fmt: skip
    writes = {"api_create": 8, "api_comment": 8, "api_transition": 4}
    mixed_tasks = {getattr(Agent, n): w for n, w in (reads | writes).items()}
    classes["mixed"] = type("mixed", (Agent,), {"abstract": False, "tasks": mixed_tasks})
    return classes


def run(user_class: type, users: int, seconds: float, warmup: float = 3) -> dict:
    env = Environment(user_classes=[user_class])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    env.stats.reset_all()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    gevent.sleep(seconds)
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    total = env.stats.total
    per_name = {name: _figures(entry, elapsed) for (name, _), entry in env.stats.entries.items() if entry.num_requests}
    errors = [{"name": e.name, "error": str(e.error)[:300], "count": e.occurrences} for e in env.stats.errors.values()]
    runner.quit()
    driver_cpu = (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
    return (
        _figures(total, elapsed)
        | {
            "users": users,
            "seconds": round(elapsed, 1),
            "driver_cpu_share": round(driver_cpu / elapsed, 2),  # cores used by locust itself
            "by_request": per_name,
            "error_samples": errors[:5],
        }
    )


def _figures(entry, elapsed: float) -> dict:
    count = entry.num_requests
    return {
        "requests": count,
        "rps": round(count / elapsed, 1) if elapsed else None,
        "median_ms": round(entry.median_response_time) if count else None,
        "p95_ms": round(entry.get_response_time_percentile(0.95)) if count else None,
        "p99_ms": round(entry.get_response_time_percentile(0.99)) if count else None,
        "errors": entry.num_failures,
    }


# The agent workspace and the portal as they are in the tree (itsm/workspace/urls.py, portal/urls.py).
PAGE_URLS = {
    "page_queue": lambda fx: "/workspace/incidents/?queue=my_teams",
    "page_ticket": lambda fx: f"/workspace/incidents/{fx.numbers[0]}/",
    "page_dashboard": lambda fx: "/workspace/dashboard/",
    "page_portal": lambda fx: "/portal/tickets/",
}


def probe(name: str, fx: Fixture) -> str | None:
    """Why a page scenario cannot run in this tree (its URL answers other than 200), or None."""
    if name not in PAGE_URLS:
        return None
    url = PAGE_URLS[name](fx)
    session = fx.caller_sessions[0] if name == "page_portal" else fx.agent_sessions[0]
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{url}", headers={"Cookie": f"sessionid={session}"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=120) as answer:
            return None if answer.status == 200 else f"GET {url} answers {answer.status}"
    except urllib.error.HTTPError as error:
        return f"GET {url} answers {error.code} {error.headers.get('Location') or ''}".rstrip()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def deep_cursor(fx: Fixture, pages: int, budget: float) -> tuple[str, float, int]:
    """Follow `next` from the first page `pages` times, or for `budget` seconds; returns the last URL (path), the
    seconds it took and the pages followed."""
    import json

    url = f"http://127.0.0.1:{PORT}/api/v1/incidents/"
    headers = {"Authorization": f"Token {fx.tokens[0]}", "Accept": "application/json"}
    began = time.perf_counter()
    followed = 0
    while followed < pages and time.perf_counter() - began < budget:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as answer:
            url = json.load(answer)["next"]
        if not url:
            break
        followed += 1
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}", time.perf_counter() - began, followed


def _purge_queue() -> None:
    """Drop the notification tasks the run queued (no worker runs during the bench)."""
    import redis

    redis.Redis.from_url(server_env("")["REDIS_URL"]).delete("celery", "sla")


def met(name: str, figures: dict) -> bool | None:
    aim = AIMS.get(name)
    if not aim:
        return None
    checks = []
    if "rps" in aim:
        checks.append(figures["rps"] >= aim["rps"])
    if "p95" in aim:
        checks.append(figures["p95_ms"] is not None and figures["p95_ms"] <= aim["p95"])
    if "median" in aim:
        checks.append(figures["median_ms"] is not None and figures["median_ms"] <= aim["median"])
    if "errors" in aim:
        checks.append(figures["errors"] == aim["errors"])
    return all(checks) and figures["errors"] == 0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=4, help="concurrent users per scenario")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--mixed-users", type=int, default=50)
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--deep", type=int, default=1000, help="pages to follow for the deep-page scenario")
    parser.add_argument("--deep-seconds", type=float, default=300, help="at most this long following next")
    parser.add_argument("--only", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    from bench import sla_sweep

    url = sla_sweep.database_url()
    os.environ["SECRET_KEY"] = SECRET_KEY
    sla_sweep.setup_django(url)
    from django.db import connection

    from bench.seed import present

    with connection.cursor() as cursor:
        dataset = present(cursor)
    if not dataset:
        sys.exit("error: no bench data set: run `manage.py seed_bench` first (make bench does)")
    fx = Fixture(prepare(max(args.users, args.mixed_users)))
    connection.close()
    server = start_server(url)
    results: dict[str, dict] = {}
    try:
        classes = user_classes(fx, None)
        wanted = args.only or list(classes)
        deep_url, deep_seconds, followed = None, None, 0
        if "api_deep_page" in wanted:
            deep_url, deep_seconds, followed = deep_cursor(fx, args.deep, args.deep_seconds)
            print(f"  followed next {followed:,} times in {deep_seconds:.1f} s (of {args.deep:,} wanted)")
            classes = user_classes(fx, deep_url)
        for name in wanted:
            missing = probe(name, fx)
            if missing:
                results[name] = {"missing": missing}
                print(f"  {name:16} not measured: {missing}")
                continue
            users, seconds = (args.mixed_users, args.mixed_seconds) if name == "mixed" else (args.users, args.seconds)
            figures = run(classes[name], users, seconds)
            figures["met"] = met(name, figures)
            results[name] = figures
            print(
                f"  {name:16} {figures['rps']:>7} req/s  p50 {figures['median_ms']} ms  p95 {figures['p95_ms']} ms"
                f"  p99 {figures['p99_ms']} ms  errors {figures['errors']}  (locust {figures['driver_cpu_share']} core)"
            )
            for sample in figures["error_samples"]:
                print(f"      error: {sample}")
    finally:
        stop_server(server)
        _purge_queue()
    previous = RESULTS_DIR / "load.json"
    deep = {"pages_wanted": args.deep, "pages_followed": followed, "seconds_to_follow": deep_seconds, "url": deep_url}
    if args.only and previous.exists():  # a partial run keeps the other scenarios' figures
        before = json.loads(previous.read_text())
        results = before["scenarios"] | results
        deep = deep if deep_url else before.get("deep_page", deep)
    result = {
        "dataset": dataset,
        "server": {"workers": WORKERS, "settings": "itsm.settings.production", "conn_max_age": 600},
        "deep_page": deep,
        "scenarios": results,
        "aims": AIMS,
    }
    path = write_result("load", result)
    print(f"  -> {path}")
    return result


if __name__ == "__main__":
    main()
