"""Values stored before the plausibility checks: repaired by migration 0011, and pages that
sum energies never overflow whatever is stored."""

import importlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ocpp_gateway.models import Direction, OcppMessage
from stations.models import AnomalyKind, ChargingSession
from tests.factories import BadgeFactory, StationFactory, accepted_session

pytestmark = pytest.mark.django_db

repair = importlib.import_module(
    "stations.migrations.0012_values_plausibility_corrections"
).repair_stored_values


def stored_session(**fields) -> ChargingSession:
    return accepted_session(**fields)


def test_the_migration_gives_absurd_stored_times_and_energies_way_and_flags_them():
    year_9999 = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    session = stored_session(
        started_at=year_9999, stopped_at=datetime(1970, 1, 1, tzinfo=UTC), energy_wh=2**63 - 1
    )
    ordinary = stored_session(
        started_at=timezone.now() - timedelta(hours=2),
        stopped_at=timezone.now() - timedelta(hours=1),
        energy_wh=10_000,
    )

    repair(apps, None)

    session.refresh_from_db()
    assert session.started_at == session.created_at
    assert session.stopped_at.year == timezone.now().year
    assert session.energy_wh is None
    details = {a.kind: a.details for a in session.anomalies.all()}
    assert details[AnomalyKind.IMPLAUSIBLE_METER]["energy_wh"] == 2**63 - 1
    assert session.anomalies.filter(kind=AnomalyKind.IMPLAUSIBLE_TIMESTAMP).count() == 2
    ordinary.refresh_from_db()
    assert ordinary.energy_wh == 10_000 and not ordinary.anomalies.exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pages_summing_energy_answer_even_with_int64_energies_stored(language):
    badge = BadgeFactory()
    for hours in (1, 2):
        ChargingSession.objects.create(
            station=StationFactory(company=badge.company),
            connector_id=1,
            id_tag=badge.rfid,
            badge=badge,
            vehicle=badge.vehicle,
            company=badge.company,
            auth_method="autocharge",
            authorization_status="Accepted",
            authorization_reason="ok",
            started_at=timezone.now() - timedelta(hours=hours),
            stopped_at=timezone.now(),
            energy_wh=2**63 - 1,
        )
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "x"))
    today = timezone.localdate()
    period = f"?start={(today - timedelta(days=3)).isoformat()}&end={today.isoformat()}"
    for url in [
        reverse("portal:dashboard"),
        reverse("portal:report") + period,
        reverse("portal:report-download", args=["csv"]) + period,
        reverse("portal:report-download", args=["xlsx"]) + period,
        reverse("portal:vehicle-detail", args=[badge.vehicle_id]),
        reverse("admin:stations_chargingsession_changelist"),
        "/api/v1/sessions/",
    ]:
        assert browser.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code == 200, url


def test_purge_old_records_runs_from_the_command_line(settings):
    settings.OCPP_LOG_RETENTION_DAYS = 30
    station = StationFactory()
    OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction=Direction.IN,
        payload={},
        created_at=timezone.now() - timedelta(days=31),
    )
    out = StringIO()

    call_command("purge_old_records", stdout=out)

    assert not OcppMessage.objects.exists()
    assert "Purged 1 message-log frame(s) and 0 meter value(s)." in out.getvalue()
