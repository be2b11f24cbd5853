"""Migration 0015: security events recorded before name other companies only where superusers
read them, run for real (back to 0014, old rows, forward)."""

import pytest

from stations.models import SecurityEvent
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory
from tests.migrations import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("stations", "0014_security_event_other_companies_details")]


def test_old_events_keep_only_the_station_company_facts_in_their_details():
    alpha, beta = CompanyFactory(name="Alpha"), CompanyFactory(name="Beta")
    alpha_station = StationFactory(company=alpha, charge_point_id="CP-ALPHA")
    StationFactory(company=alpha, charge_point_id="CP-ALPHA-2")
    StationFactory(company=beta, charge_point_id="CP-BETA")
    beta_badge = BadgeFactory(
        company=beta, vehicle=VehicleFactory(company=beta), rfid="VID:A014310E0002"
    )
    Event = migrate(BEFORE).get_model("stations", "SecurityEvent")

    def event(kind: str, id_tag: str, details: dict):
        return Event.objects.create(
            kind=kind, severity="info", station_id=alpha_station.pk, id_tag=id_tag, details=details
        ).pk

    concurrent = event(
        "concurrent_vid", "VID:A014310E0001", {"charging_at": ["CP-ALPHA-2", "CP-BETA"]}
    )
    probing = event("mac_probing", "VID:A014310E0003", {"companies": 2})
    paired_at_partner = event("mac_changed", beta_badge.rfid, {"vehicle": "BETA-1"})
    takeover = event("station_takeover", "", {"takeovers_in_the_last_hour": 6})

    migrate(latest())

    events = SecurityEvent.objects.in_bulk()
    assert events[concurrent].details == {
        "charging_at": ["CP-ALPHA-2"],
        "charging_at_other_companies_stations": 1,
    }
    assert events[concurrent].other_companies_details == {"charging_at": ["CP-BETA"]}
    assert events[concurrent].station_id == alpha_station.pk
    assert (events[probing].station, events[probing].details) == (
        None,
        {"companies": 2, "latest_station": "CP-ALPHA"},
    )
    assert (events[paired_at_partner].station, events[paired_at_partner].details) == (
        None,
        {"vehicle": "BETA-1", "paired_at": "CP-ALPHA"},
    )
    assert (events[takeover].station_id, events[takeover].details) == (
        alpha_station.pk,
        {"takeovers_in_the_last_hour": 6},
    )
