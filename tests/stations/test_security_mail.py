"""The mail a security event sends to its station's company: readable (one detail a line, never
the stored dict) and in the contact's language, French unless configured otherwise."""

import pytest
from django.core import mail

from stations.models import SecurityEventKind, Severity
from stations.security import security_event_record
from supervision.outbox import emails_send
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(db):
    company = CompanyFactory(name="Transports Martin", contact_email="flotte@martin.example")
    return StationFactory(company=company, charge_point_id="CP-DEPOT-1")


def record_failed_logins(station):
    return security_event_record(
        kind=SecurityEventKind.STATION_LOGIN_FAILED,
        severity=Severity.WARNING,
        station=station,
        details={
            "attempts": 3,
            "addresses": {"203.0.113.7": 2, "203.0.113.8": 1},
            "charge_point_ids": ["CP-DEPOT-1", "CP-DEPOT-2"],
            "custom_flag": True,
            "locked_out_until": "2026-12-07T09:30:00+00:00",
        },
    )


def test_the_security_mail_is_in_french_and_lists_each_detail_on_a_line(station):
    record_failed_logins(station)

    emails_send()

    [message] = mail.outbox
    assert message.to == ["flotte@martin.example"]
    assert message.subject == (
        "[Supervision Autocharge] Échecs de connexion de bornes sur CP-DEPOT-1"
    )
    body = message.body
    assert "Gravité : Avertissement" in body
    assert f"Borne : {station}" in body
    assert "- Tentatives : 3" in body
    assert "- Adresses : 203.0.113.7 (2), 203.0.113.8 (1)" in body
    assert "- Identités de borne essayées : CP-DEPOT-1, CP-DEPOT-2" in body
    assert "- custom flag : oui" in body  # a key the mail has no name for, still readable
    assert "- Bloqué jusqu’au : 7 décembre 2026 10:30" in body  # Paris time, French format
    assert "{" not in body and "'" not in body  # no Python dict nor list
    assert "Severity" not in body and "Details" not in body


def test_the_security_mail_follows_the_configured_contact_language(station, settings):
    settings.COMPANY_CONTACT_LANGUAGE = "en"
    record_failed_logins(station)

    emails_send()

    [message] = mail.outbox
    assert message.subject == "[Autocharge supervision] Failed station logins at CP-DEPOT-1"
    assert "Severity: Warning" in message.body
    assert "- Addresses: 203.0.113.7 (2), 203.0.113.8 (1)" in message.body
    assert "- Station identities tried: CP-DEPOT-1, CP-DEPOT-2" in message.body
    assert "- custom flag: yes" in message.body
    assert "- Locked out until: Dec. 7, 2026, 10:30 a.m." in message.body
