"""Login lockout (admin and API token), API throttling, CSRF on session-authenticated writes,
and production settings that pass ``check --deploy``."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fleet.models import Company, Vehicle
from tests.api.conftest import PASSWORD, TOKEN_URL
from tests.supervision.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = reverse("admin:login")


def admin_login(password: str, username: str = "alice", address: str = "192.0.2.1", **headers: str):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(
        LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}
    )
    return client, response


def token_request(password: str, username: str = "alice", address: str = "192.0.2.1", **extra):
    return APIClient().post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **extra,
    )


# --- Login lockout -------------------------------------------------------------------------


@pytest.mark.django_db
class TestLockout:
    def test_repeated_admin_login_failures_lock_the_username_out_from_that_address(
        self, staff, lockout
    ):
        failures = [admin_login("wrong")[1].status_code for _ in range(3)]

        client, response = admin_login(PASSWORD)

        assert failures == [200, 200, 429]  # the form again, then the lockout
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        assert AccessAttempt.objects.get(username="alice").failures_since_start >= 3

    def test_the_lockout_holds_one_username_at_one_address_only(self, staff, lockout):
        make_user("bob")
        for _ in range(3):
            admin_login("wrong")

        _client, other_address = admin_login(PASSWORD, address="192.0.2.2")
        _client, other_user = admin_login(PASSWORD, username="bob")

        assert other_address.status_code == other_user.status_code == 302

    def test_a_success_before_the_limit_starts_the_count_again(self, staff, lockout):
        for _ in range(2):
            admin_login("wrong")
        admin_login(PASSWORD)
        for _ in range(2):
            admin_login("wrong")

        client, response = admin_login(PASSWORD)

        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(staff.pk)

    def test_token_endpoint_failures_count_and_lock_out_even_the_right_password(
        self, staff, lockout
    ):
        failures = [token_request("wrong").status_code for _ in range(3)]

        response = token_request(PASSWORD)

        assert failures == [400, 400, 429]
        assert response.status_code == 429
        assert response.json() == {"detail": "Too many failed login attempts: try again later."}
        assert not Token.objects.exists()

    def test_admin_failures_also_lock_the_token_endpoint(self, staff, lockout):
        for _ in range(3):
            admin_login("wrong")

        assert token_request(PASSWORD).status_code == 429


# --- API throttling --------------------------------------------------------------------------


@pytest.mark.django_db
class TestThrottling:
    def test_a_user_beyond_the_rate_gets_429(self, staff, rates):
        rates(user="2/min")
        client = APIClient()
        client.force_authenticate(staff)

        statuses = [client.get("/api/v1/vehicles/").status_code for _ in range(3)]

        assert statuses == [200, 200, 429]

    def test_the_token_endpoint_has_its_own_stricter_rate_per_address(self, staff, rates):
        rates(token="2/min")

        statuses = [token_request("wrong").status_code for _ in range(2)]
        throttled = token_request(PASSWORD)
        elsewhere = token_request(PASSWORD, address="192.0.2.9")

        assert statuses == [400, 400]
        assert throttled.status_code == 429
        assert elsewhere.status_code == 200

    def test_a_forged_forwarded_for_header_does_not_escape_the_rate(self, staff, rates):
        rates(token="2/min")

        statuses = [
            token_request("wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
            for n in range(3)
        ]

        assert statuses == [400, 400, 429]


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestCsrf:
    def test_a_session_authenticated_write_without_the_csrf_token_is_refused(self, staff):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(staff)
        company = staff.staff_membership.company

        response = client.post(
            "/api/v1/vehicles/", {"company": company.pk, "license_plate": "AA-1"}, format="json"
        )

        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
        assert not Vehicle.objects.exists()

    def test_a_token_authenticated_write_needs_no_csrf_token(self, staff):
        client = APIClient(enforce_csrf_checks=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
        company = staff.staff_membership.company

        response = client.post(
            "/api/v1/vehicles/", {"company": company.pk, "license_plate": "AA-1"}, format="json"
        )

        assert response.status_code == 201
        assert Vehicle.objects.get().company == Company.objects.get(name="Acme")


# --- Production settings --------------------------------------------------------


def deploy_check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_behind_a_tls_proxy_pass_the_deployment_checks():
    result = deploy_check(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_ALLOWED_HOSTS="supervision.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_embedded_default_fails_the_deployment_checks():
    """The check above can fail: plain HTTP gets the warnings the switch answers."""
    with pytest.raises(SystemCheckError) as error:
        call_command("check", "--deploy", "--fail-level", "WARNING")

    for check in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert check in str(error.value)
