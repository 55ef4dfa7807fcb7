"""Shared fixtures, and the rule that a missing service is a skip locally but a failure in CI."""

import os
import socket

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TeamFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("ITSM_REQUIRE_SERVICES") == "1"


def require_service(available: bool, reason: str) -> None:
    """Skip when a server is missing; with ITSM_REQUIRE_SERVICES=1 (CI) fail instead."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ITSM_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def tcp_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _fresh_config_caches():
    """Each test starts without cached configuration (a rolled-back trigger or endpoint sends no signal)."""
    from itsm.configcache import config_caches_clear

    config_caches_clear()
    yield
    config_caches_clear()


@pytest.fixture
def postgres(db):
    require_service(connection.vendor == "postgresql", "PostgreSQL is not available")


@pytest.fixture
def team(db):
    return TeamFactory(name="Service Desk")


@pytest.fixture
def agent(db, team):
    user = AgentFactory(username="agent_a")
    team.members.add(user)
    return user


@pytest.fixture
def other_agent(db):
    other_team = TeamFactory(name="Network")
    user = AgentFactory(username="agent_b")
    other_team.members.add(user)
    return user


@pytest.fixture
def end_user(db):
    return UserFactory(username="enduser_a")


@pytest.fixture
def other_end_user(db):
    return UserFactory(username="enduser_b")


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pytest_collection_modifyitems(items):
    """A transactional test must restore the reference data the migrations load (roles, the priority matrix ...):
    without serialized_rollback its flush re-creates part of it through post_migrate, and every later test that
    restores it fails on duplicates. Such a test is refused at collection."""
    unsafe = [
        item.nodeid
        for item in items
        for marker in item.iter_markers("django_db")
        if marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback")
    ]
    if unsafe:
        raise pytest.UsageError(
            "django_db(transaction=True) needs serialized_rollback=True as well: " + ", ".join(sorted(set(unsafe)))
        )
