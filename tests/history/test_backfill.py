"""The migration that added the recorded attribution fills it for existing sessions from
their relations as they are then."""

from importlib import import_module

import pytest
from django.apps import apps

from stations.models import ChargingSession

pytestmark = pytest.mark.django_db

MIGRATION = "stations.migrations.0016_session_recorded_attribution_station_archived"


def test_existing_sessions_record_their_current_attribution(depot):
    ChargingSession.objects.create(  # anonymous: an open-charge session
        station=depot.station, connector_id=2, started_at=depot.alpha_session.started_at
    )
    blank = dict.fromkeys([*ChargingSession.RECORDED_ATTRIBUTION, "station_company_name"], "")
    ChargingSession.objects.update(station_company=None, **blank)

    import_module(MIGRATION).record_attribution(apps, None)

    recorded = ChargingSession.objects.order_by("pk").values_list(
        "company_name",
        "vehicle_plate",
        "badge_rfid",
        "badge_visual_number",
        "usage",
        "badge_mode",
        "station_company",
        "station_company_name",
    )
    assert list(recorded) == [
        (
            "Alpha",
            "AA-001-AA",
            "VID:A014310E0001",
            "A014310E0001",
            "professional",
            "vehicle",
            depot.alpha.pk,
            "Alpha",
        ),
        (
            "Beta",
            "BB-002-BB",
            "VID:A014310E0002",
            "A014310E0002",
            "personal",
            "vehicle",
            depot.alpha.pk,
            "Alpha",
        ),
        ("", "", "", "", "", "", depot.alpha.pk, "Alpha"),
    ]
