"""Each alert through the real stack: the stations' services (as the gateway calls them) send
their signals, the alerts queue mail in the outbox, ``emails_send()`` delivers it."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from alerts import services
from alerts.models import AlertKind, AlertNotice
from stations.enrolment import authorization_request
from stations.models import ChargingSession, ConnectionState, StationConnection
from stations.services import connector_update_status
from supervision.outbox import emails_send
from tests.alerts.conftest import make_staff, subscribe
from tests.factories import BadgeFactory, StationFactory

UNKNOWN_TAG = "VID:A014310E0099"


REAL_CLOCK = timezone.now


def delivered() -> list:
    """What the outbox sends, by the real clock (the tests move the alerts' clock, and the
    outbox sends only what is due)."""
    with mock.patch.object(timezone, "now", REAL_CLOCK):
        emails_send()
    return list(mail.outbox)


def test_a_faulted_connector_is_mailed_to_the_company_subscriber_with_a_link(alpha, beta):
    connector_update_status(
        station=alpha.station, connector_id=2, status="Faulted", error_code="GroundFailure"
    )

    [message] = delivered()
    assert message.to == ["alpha@example.com"]
    assert message.subject == "[Autocharge] Connector 2 faulted at Station CP-ALPHA (CP-ALPHA)"
    assert "reports Faulted: it cannot charge" in message.body
    assert "Error code: GroundFailure" in message.body
    station_url = f"https://supervision.example.com/stations/{alpha.station.pk}/"
    assert station_url in message.body
    # Readable in HTML too, with the same link.
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'<a href="{station_url}">' in html
    assert "<li>Error code: GroundFailure</li>" in html
    assert "https://supervision.example.com/alerts/" in message.body


def test_a_connector_that_is_not_faulted_mails_nobody(alpha):
    connector_update_status(station=alpha.station, connector_id=1, status="Available")
    connector_update_status(station=alpha.station, connector_id=1, status="Unavailable")

    assert delivered() == []


def test_the_unknown_vehicle_alert_is_in_french_for_a_french_subscriber(alpha):
    alpha.subscription.language = "fr"
    services.alert_subscription_save(subscription=alpha.subscription)

    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)

    [message] = delivered()
    assert message.subject == "[Autocharge] Véhicule inconnu refusé à Station CP-ALPHA (CP-ALPHA)"
    assert "Un véhicule que personne n’a enrôlé (VID:A014310E0099) a été refusé" in message.body
    assert "Vu 1 fois." in message.body
    entry = alpha.station.company.unknown_vehicles.get()
    assert (
        f"Enrôlez-le ou écartez-le : https://supervision.example.com/admin/badges/unknownvehicle/{entry.pk}/change/"
        in message.body
    )
    [(html, _mimetype)] = message.alternatives
    assert '<html lang="fr">' in html
    assert "Modifier mes alertes" in html


def test_a_refused_vehicle_the_company_knows_is_no_unknown_vehicle_alert(alpha, beta):
    # Beta's vehicle at Alpha's station: refused (not permitted), but not unknown.
    BadgeFactory(company=beta.company, rfid=UNKNOWN_TAG)

    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)

    assert delivered() == []


def test_alerts_about_a_station_are_throttled_per_subscription_and_kind(alpha, settings):
    settings.ALERTS_THROTTLE_MINUTES = 30
    for _attempt in range(3):
        connector_update_status(station=alpha.station, connector_id=1, status="Faulted")
        authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)
    other_station = StationFactory(company=alpha.company, charge_point_id="CP-ALPHA-2")
    connector_update_status(station=other_station, connector_id=1, status="Faulted")

    subjects = sorted(message.subject for message in delivered())
    assert subjects == [
        "[Autocharge] Connector 1 faulted at Station CP-ALPHA (CP-ALPHA)",
        "[Autocharge] Connector 1 faulted at Station CP-ALPHA-2 (CP-ALPHA-2)",
        "[Autocharge] Unknown vehicle refused at Station CP-ALPHA (CP-ALPHA)",
    ]
    # Once the throttle's time has passed, the next one leaves.
    AlertNotice.objects.update(created_at=timezone.now() - timedelta(minutes=31))
    mail.outbox.clear()
    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")
    assert len(delivered()) == 1


def test_another_company_user_never_gets_the_alert_even_subscribed_by_hand(alpha, beta):
    # A superuser subscribed to Alpha gets it; Beta's staff, even with a subscription row for
    # Alpha written around the checks, does not.
    root = make_staff("root", None, superuser=True)
    subscribe(root, alpha.company, language="fr")
    type(alpha.subscription).objects.create(user=beta.staff, company=alpha.company)

    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")

    assert sorted(message.to[0] for message in delivered()) == [
        "alpha@example.com",
        "root@example.com",
    ]


def test_an_inactive_subscription_or_a_kind_turned_off_mails_nobody(
    alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alpha.subscription.connector_faulted = False
        services.alert_subscription_save(subscription=alpha.subscription)
    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")
    assert delivered() == []

    with django_capture_on_commit_callbacks(execute=True):
        alpha.subscription.connector_faulted = True
        alpha.subscription.active = False
        services.alert_subscription_save(subscription=alpha.subscription)
    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)
    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")
    assert delivered() == []


def test_a_status_of_a_company_nobody_listens_to_costs_no_query(
    alpha, beta, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from alerts.receivers import on_connector_status_changed

    with django_capture_on_commit_callbacks(execute=True):
        services.alert_subscription_delete(subscription=beta.subscription)
    on_connector_status_changed(
        None, station=alpha.station, connector_id=1, status="Faulted", error_code=""
    )  # reads who listens, once

    with django_assert_num_queries(0):
        on_connector_status_changed(
            None, station=beta.station, connector_id=1, status="Faulted", error_code=""
        )
        on_connector_status_changed(
            None, station=alpha.station, connector_id=1, status="Available", error_code=""
        )


# --- The offline job, time moved --------------------------------------------------------------
def disconnect(station, *, at: datetime) -> StationConnection:
    connection = StationConnection.objects.create(
        station=station,
        connection_id=f"c-{station.pk}-{at.timestamp()}",
        opened_at=at - timedelta(hours=1),
        closed_at=at,
    )
    station.connection_state = ConnectionState.DISCONNECTED
    station.save(update_fields=["connection_state"])
    return connection


def test_a_station_offline_longer_than_the_delay_is_mailed_once_per_disconnection(
    alpha, beta, monkeypatch
):
    alpha.subscription.offline_minutes = 20
    services.alert_subscription_save(subscription=alpha.subscription)
    now = timezone.now()
    disconnect(alpha.station, at=now)
    disconnect(beta.station, at=now)

    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=16))
    assert services.offline_alerts_send() == 1  # Beta's 15 minutes have passed, not Alpha's 20
    [message] = delivered()
    assert message.to == ["beta@example.com"]
    assert message.subject == "[Autocharge] Station Station CP-BETA (CP-BETA) offline"

    mail.outbox.clear()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=21))
    assert services.offline_alerts_send() == 1
    assert services.offline_alerts_send() == 0  # the same disconnection: told already
    [message] = delivered()
    assert message.to == ["alpha@example.com"]
    assert "Offline for more than 20 minutes:" in message.body
    assert f"https://supervision.example.com/stations/{alpha.station.pk}/" in message.body

    # Back online, then off again: a new disconnection, a new alert.
    mail.outbox.clear()
    disconnect(alpha.station, at=now + timedelta(minutes=30))
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=51))
    assert services.offline_alerts_send() == 1
    assert [m.to for m in delivered()] == [["alpha@example.com"]]


def test_a_connected_station_is_not_offline(alpha, monkeypatch):
    disconnect(alpha.station, at=timezone.now() - timedelta(hours=2))
    alpha.station.connection_state = ConnectionState.CONNECTED
    alpha.station.save(update_fields=["connection_state"])

    assert services.offline_alerts_send() == 0


def charged(tenant, **fields):
    """An accepted session of a badge of the tenant at its station."""
    badge = BadgeFactory(company=tenant.company)
    return ChargingSession.objects.create(
        station=tenant.station,
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        company=tenant.company,
        authorization_status="Accepted",
        authorization_reason="ok",
        meter_start=0,
        **fields,
    )


# --- The daily digest --------------------------------------------------------------------------
PARIS = ZoneInfo("Europe/Paris")


def test_the_daily_digest_leaves_at_its_time_once_with_the_last_24_hours(
    alpha, beta, monkeypatch, settings
):
    settings.TIME_ZONE = "Europe/Paris"
    settings.ALERTS_DIGEST_TIME = "07:00"
    due = datetime(2026, 3, 10, 7, 0, tzinfo=PARIS)
    within = due - timedelta(hours=3)
    for energy in (12_000, 8_500):
        charged(alpha, energy_wh=energy, started_at=within)
    charged(beta, energy_wh=99_000, started_at=within)
    charged(alpha, energy_wh=1_000, started_at=due + timedelta(minutes=2))  # in the next digest
    charged(alpha, energy_wh=1_000, started_at=due - timedelta(days=1, minutes=1))  # before
    monkeypatch.setattr(timezone, "now", lambda: within)
    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)
    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)
    disconnect(alpha.station, at=within)
    mail.outbox.clear()
    AlertNotice.objects.all().delete()

    monkeypatch.setattr(timezone, "now", lambda: due - timedelta(minutes=1))
    assert services.daily_digests_send() == 0  # not yet 07:00
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(minutes=4))
    assert services.daily_digests_send() == 2
    assert services.daily_digests_send() == 0  # today's is sent

    messages = {message.to[0]: message for message in delivered()}
    assert set(messages) == {"alpha@example.com", "beta@example.com"}
    alpha_digest = messages["alpha@example.com"]
    assert alpha_digest.subject == "[Autocharge] Daily digest for Alpha"
    body = alpha_digest.body
    assert "- Charging sessions: 2\n" in body
    assert "- Energy: 20.5 kWh\n" in body
    assert "- Refused vehicles: 2\n" in body
    assert "- Unknown vehicles: 1\n" in body
    assert "- Disconnections: 1\n" in body
    assert "- Stations offline now: 1 / 1\n" in body
    assert "https://supervision.example.com/reports/" in body
    assert "- Energy: 99.0 kWh\n" in messages["beta@example.com"].body
    assert AlertNotice.objects.filter(kind=AlertKind.DAILY_DIGEST).count() == 2

    # The next day's, at its time.
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(days=1, minutes=-1))
    assert services.daily_digests_send() == 0
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(days=1, minutes=1))
    assert services.daily_digests_send() == 2


def test_the_daily_digest_in_french(alpha, monkeypatch, settings):
    settings.TIME_ZONE = "Europe/Paris"
    alpha.subscription.language = "fr"
    services.alert_subscription_save(subscription=alpha.subscription)
    due = timezone.localtime().replace(hour=7, minute=0, second=0, microsecond=0)
    charged(alpha, energy_wh=12_345, started_at=due - timedelta(hours=1))
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(minutes=30))

    assert services.daily_digests_send() == 1
    [message] = delivered()
    assert message.subject == "[Autocharge] Synthèse quotidienne pour Alpha"
    assert "- Sessions de charge : 1\n" in message.body
    assert "- Énergie : 12,3 kWh\n" in message.body


def test_a_subscription_s_user_moved_to_another_company_stops_getting_its_alerts(alpha, beta):
    membership = alpha.staff.staff_membership
    membership.company = beta.company
    membership.save()

    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")

    assert delivered() == []


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_mail_renders_in_both_languages_without_template_errors(alpha, language, settings):
    settings.TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = "INVALID %s"
    alpha.subscription.language = language
    alpha.subscription.save()
    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")
    authorization_request(id_tag=UNKNOWN_TAG, station=alpha.station, connector_id=1)
    disconnect(alpha.station, at=timezone.now() - timedelta(hours=1))
    services.offline_alerts_send()

    messages = delivered()
    assert len(messages) == 3
    for message in messages:
        assert "INVALID" not in message.body
        assert "INVALID" not in message.alternatives[0][0]


def test_old_notices_are_pruned_but_not_those_of_a_station_still_offline(alpha, beta, settings):
    settings.ALERTS_RETENTION_DAYS = 90
    long_ago = timezone.now() - timedelta(days=100)
    disconnect(alpha.station, at=long_ago)
    disconnect(beta.station, at=long_ago)
    assert services.offline_alerts_send() == 2
    beta.station.connection_state = ConnectionState.CONNECTED
    beta.station.save(update_fields=["connection_state"])
    connector_update_status(station=beta.station, connector_id=1, status="Faulted")
    AlertNotice.objects.update(created_at=long_ago)
    connector_update_status(station=alpha.station, connector_id=1, status="Faulted")

    assert services.alert_notices_prune() == 2  # Beta's: back online, and its fault

    kept = AlertNotice.objects.order_by("kind")
    assert [(n.kind, n.station) for n in kept] == [
        (AlertKind.CONNECTOR_FAULTED, alpha.station),
        (AlertKind.STATION_OFFLINE, alpha.station),
    ]
    assert services.offline_alerts_send() == 0  # Alpha's outage is not told again
