"""End to end: a real daphne process, and the ``ocpp`` library's ChargePoint over a real
WebSocket (the same simulated station as ``manage.py simulate_station``)."""

import asyncio
from datetime import timedelta

import pytest
import websockets
from django.utils import timezone

from badges.models import BadgeState
from ocpp_gateway.models import OcppMessage
from simulator import v16 as simulator
from stations.models import AuthMode, ChargingSession
from tests.e2e.stations import wait_for
from tests.factories import AuthorizationGroupFactory, BadgeFactory, CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAC_TAG = "VID:A014310E004E"


def charge(server_url: str, station, id_tag: str, **options) -> simulator.ChargingReport:
    return asyncio.run(
        simulator.charge(
            url=f"{server_url}/ocpp",
            charge_point_id=station.charge_point_id,
            id_tag=id_tag,
            **options,
        )
    )


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id="E2E-KEMPOWER-1")


def test_known_vehicle_charges_and_the_session_is_attributed_with_its_energy(server_url, station):
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)

    report = charge(server_url, station, MAC_TAG, energy_wh=15_000)

    assert (report.boot_status, report.authorize_status, report.start_status) == (
        "Accepted",
        "Accepted",
        "Accepted",
    )
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert (session.badge, session.vehicle, session.company) == (
        badge,
        badge.vehicle,
        badge.company,
    )
    assert (session.auth_method, session.energy_wh) == ("autocharge", 15_000)
    assert session.stopped_at is not None
    assert session.meter_values.count() == 3


def test_unknown_vehicle_is_invalid_and_the_log_holds_a_rejected_authorize(server_url, station):
    report = charge(server_url, station, "VID:A014310E0077")

    assert report.authorize_status == "Invalid"
    assert report.transaction_id is None
    # The log is written in batches, a moment after the answer.
    entry = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert (entry.status, entry.ocpp_status, entry.reason) == (
        "Rejected",
        "Invalid",
        "unknown_badge",
    )
    assert entry.payload == {"idTag": "VID:A014310E0077"}
    assert not ChargingSession.objects.exists()


def test_disabled_badge_is_blocked(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=station.company, state=BadgeState.DISABLED)
    assert charge(server_url, station, MAC_TAG).authorize_status == "Blocked"


def test_expired_badge_is_expired(server_url, station):
    BadgeFactory(
        rfid=MAC_TAG, company=station.company, expires_at=timezone.now() - timedelta(hours=1)
    )
    assert charge(server_url, station, MAC_TAG).authorize_status == "Expired"


def test_badge_not_permitted_at_this_station_is_invalid(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=CompanyFactory())
    report = charge(server_url, station, MAC_TAG)
    assert report.authorize_status == "Invalid"
    # The log is written in batches, a moment after the answer.
    entry = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert entry.reason == "not_permitted_at_station"


def test_badge_of_another_company_charges_where_its_group_allows(server_url, station):
    group = AuthorizationGroupFactory()
    group.stations.add(station)
    badge = BadgeFactory(rfid=MAC_TAG, company=group.company)
    badge.groups.add(group)
    assert charge(server_url, station, MAC_TAG).start_status == "Accepted"


def test_open_charge_station_accepts_anyone_and_the_session_is_anonymous(server_url, station):
    station.auth_mode = AuthMode.OPEN
    station.save()

    report = charge(server_url, station, "VID:A014310E0055")

    assert (report.authorize_status, report.start_status) == ("Accepted", "Accepted")
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert (session.auth_method, session.badge, session.vehicle, session.company) == (
        "open",
        None,
        None,
        None,
    )
    assert session.energy_wh == 12_000


def test_lowercase_colon_separated_vid_finds_the_badge(server_url, station):
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)

    report = charge(server_url, station, "vid:a0:14:31:0e:00:4e")

    assert (report.authorize_status, report.start_status) == ("Accepted", "Accepted")
    assert (
        ChargingSession.objects.get(transaction_id=report.transaction_id).vehicle == badge.vehicle
    )


def test_start_transaction_without_authorize_is_checked(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=station.company, state=BadgeState.DISABLED)

    report = charge(server_url, station, MAC_TAG, skip_authorize=True)

    assert report.authorize_status is None
    assert report.start_status == "Blocked"
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert (session.authorization_status, session.authorization_reason) == (
        "Blocked",
        "badge_disabled",
    )


def test_unknown_station_is_refused_at_the_handshake(server_url, station):
    async def handshake():
        await simulator.connect(f"{server_url}/ocpp", "NOT-REGISTERED")

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(handshake())
    assert refused.value.response.status_code == 404
