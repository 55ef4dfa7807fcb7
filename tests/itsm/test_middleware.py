"""The health check answers before host validation and the HTTPS redirect, so probes work behind production settings."""

import pytest
from django.conf import settings
from django.db import DatabaseError
from django.test import override_settings

pytestmark = pytest.mark.django_db

# What production looks like: only the public name is allowed, and plain HTTP is redirected to HTTPS.
PRODUCTION_LIKE = override_settings(ALLOWED_HOSTS=["desk.example.com"], SECURE_SSL_REDIRECT=True)


def test_health_check_middleware_is_first():
    assert settings.MIDDLEWARE[0] == "itsm.middleware.HealthCheckMiddleware"


@PRODUCTION_LIKE
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "10.0.3.7:8000", "desk.example.com"])
def test_healthz_answers_200_over_http_for_any_host(client, host):
    response = client.get("/healthz/", HTTP_HOST=host)

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


@PRODUCTION_LIKE
def test_healthz_answers_head(client):
    response = client.head("/healthz/", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 200


@PRODUCTION_LIKE
def test_healthz_reports_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("itsm.views.connection.cursor", broken_cursor)

    response = client.get("/healthz/", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 503


@PRODUCTION_LIKE
def test_other_paths_still_check_host_and_redirect_to_https(client):
    # The middleware answers only the exact health path; everything else gets the usual protections.
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/healthz/x", HTTP_HOST="127.0.0.1:8000").status_code == 400
    redirect = client.get("/accounts/login/", HTTP_HOST="desk.example.com")
    assert redirect.status_code == 301
    assert redirect.url == "https://desk.example.com/accounts/login/"


@PRODUCTION_LIKE
def test_healthz_refuses_writes(client):
    assert client.post("/healthz/", HTTP_HOST="127.0.0.1:8000").status_code == 405
