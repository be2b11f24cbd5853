"""The scheduled jobs and the e-mail outbox in the admin: superusers read them (in English
and French), staff of a company do not see them at all."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from fleet.models import StaffMembership
from supervision.models import JobState, OutgoingEmail
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    JobState.objects.create(name="send_emails", runs=7, last_error="SMTPConnectError: away")
    OutgoingEmail.objects.create(
        subject="Station takeover at ACME-1",
        body="…",
        from_email="supervision@localhost",
        recipients=["ops@acme.example"],
        attempts=2,
        last_error="SMTPConnectError: away",
    )


@pytest.mark.parametrize(
    ("language", "title", "column"),
    [("en", "Outgoing e-mails", "Recipients"), ("fr", "E-mails sortants", "Destinataires")],
)
def test_a_superuser_reads_the_outbox(admin_client, records, language, title, column):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = admin_client.get(reverse("admin:supervision_outgoingemail_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Station takeover at ACME-1" in html
    assert "SMTPConnectError: away" in html
    assert title in html
    assert column in html


def test_a_superuser_reads_the_jobs_in_french(admin_client, records):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = admin_client.get(reverse("admin:supervision_jobstate_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "send_emails" in html
    assert "Dernière erreur" in html
    assert "Tâches planifiées" in html or "tâches planifiées" in html


def test_company_staff_do_not_see_them(records):
    user = get_user_model().objects.create_user("alice", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=CompanyFactory())
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_outgoingemail", "view_jobstate"])
    )
    client = Client()
    client.force_login(user)
    for name in ("outgoingemail", "jobstate"):
        assert client.get(reverse(f"admin:supervision_{name}_changelist")).status_code == 403
