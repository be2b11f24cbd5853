"""End to end: finding unknown vehicles, enrolling them, pairing mode and identity safety, with a
real daphne process and the ``ocpp`` library's ChargePoint over a real WebSocket."""

import asyncio
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from ocpp.v16 import call
from rest_framework.test import APIClient

from badges.models import (
    Badge,
    EnrolledVia,
    InboxStatus,
    PairingWindow,
    SharedMacModel,
    UnknownVehicle,
)
from simulator import v16 as simulator
from stations.enrolment import pairing_open
from stations.models import ChargingSession, SecurityEvent
from tests.e2e.stations import wait_for
from tests.factories import BadgeFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN_TAG = "VID:A014310E0AB1"


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
def depot(transactional_db):
    return StationFactory(charge_point_id="E2E-DEPOT-1")


@pytest.fixture
def vehicle(depot):
    return VehicleFactory(company=depot.company, license_plate="FT-123-ER")


def test_unknown_vehicle_at_two_stations_is_one_inbox_entry_with_both_stations(server_url, depot):
    second = StationFactory(charge_point_id="E2E-DEPOT-2", company=depot.company)

    assert charge(server_url, depot, UNKNOWN_TAG).authorize_status == "Invalid"
    assert charge(server_url, second, UNKNOWN_TAG.lower()).authorize_status == "Invalid"
    assert charge(server_url, second, UNKNOWN_TAG).authorize_status == "Invalid"

    entry = UnknownVehicle.objects.get()
    assert (entry.mac, entry.id_tag, entry.attempts, entry.status) == (
        "A014310E0AB1",
        UNKNOWN_TAG,
        3,
        InboxStatus.OPEN,
    )
    assert set(entry.sightings.values_list("station__charge_point_id", flat=True)) == {
        "E2E-DEPOT-1",
        "E2E-DEPOT-2",
    }
    # Each sighting points at the exact log entry of its refused Authorize.
    from ocpp_gateway.models import OcppMessage

    for sighting in entry.sightings.all():
        # Written in a batch, after the sighting that refers to it.
        logged = wait_for(OcppMessage.objects.filter(pk=sighting.log_entry_id).first)
        assert (logged.action, logged.status, logged.id_tag) == (
            "Authorize",
            "Rejected",
            UNKNOWN_TAG,
        )


def test_enrolling_from_the_admin_inbox_lets_the_vehicle_charge(
    server_url, depot, vehicle, admin_client
):
    charge(server_url, depot, UNKNOWN_TAG)
    entry = UnknownVehicle.objects.get()

    admin_client.post(
        reverse("admin:badges_unknownvehicle_changelist"),
        {
            "action": "enrol_into_vehicle",
            "_selected_action": [entry.pk],
            "vehicle": vehicle.pk,
            "confirm": "yes",
        },
    )

    report = charge(server_url, depot, UNKNOWN_TAG)
    assert (report.authorize_status, report.start_status) == ("Accepted", "Accepted")
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert (session.vehicle, session.company) == (vehicle, vehicle.company)
    badge = Badge.objects.get(rfid=UNKNOWN_TAG)
    assert (badge.visual_number, badge.enrolled_via) == ("A014310E0AB1", EnrolledVia.INBOX)


def test_enrolling_through_the_api_lets_the_vehicle_charge(server_url, depot, vehicle, admin_user):
    charge(server_url, depot, UNKNOWN_TAG)
    entry = UnknownVehicle.objects.get()
    api = APIClient()
    api.force_authenticate(admin_user)

    response = api.post(
        f"/api/v1/unknown-vehicles/{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    report = charge(server_url, depot, UNKNOWN_TAG, energy_wh=7_500)
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert (report.start_status, session.vehicle, session.energy_wh) == ("Accepted", vehicle, 7_500)


def test_pairing_enrols_the_first_plug_in_inside_the_window(server_url, depot, vehicle, admin_user):
    pairing_open(station=depot, vehicle=vehicle, minutes=10, opened_by=admin_user)

    report = charge(server_url, depot, UNKNOWN_TAG)

    assert (report.authorize_status, report.start_status) == ("Accepted", "Accepted")
    badge = Badge.objects.get(rfid=UNKNOWN_TAG)
    assert (badge.vehicle, badge.enrolled_via, badge.enrolled_by) == (
        vehicle,
        EnrolledVia.PAIRING,
        admin_user,
    )
    window = PairingWindow.objects.get()
    assert (window.status, window.badge) == ("paired", badge)
    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    assert session.vehicle == vehicle
    # The window closed: the next unknown vehicle is not enrolled into the same car.
    assert charge(server_url, depot, "VID:A014310E0AB3").authorize_status == "Invalid"


def test_pairing_does_nothing_after_the_window_expired(server_url, depot, vehicle):
    window = pairing_open(station=depot, vehicle=vehicle, minutes=10)
    window.expires_at = timezone.now() - timedelta(seconds=1)
    window.save()

    assert charge(server_url, depot, UNKNOWN_TAG).authorize_status == "Invalid"
    assert not Badge.objects.filter(rfid=UNKNOWN_TAG).exists()


def test_pairing_does_nothing_at_another_station(server_url, depot, vehicle):
    other = StationFactory(charge_point_id="E2E-DEPOT-2", company=depot.company)
    pairing_open(station=depot, vehicle=vehicle, minutes=10)

    assert charge(server_url, other, UNKNOWN_TAG).authorize_status == "Invalid"
    assert not Badge.objects.filter(rfid=UNKNOWN_TAG).exists()
    assert PairingWindow.objects.get().status == "open"


def test_the_same_vid_starting_at_a_second_station_is_concurrent_and_a_security_event(
    server_url, depot
):
    badge = BadgeFactory(rfid="VID:A014310E0AB5", company=depot.company)
    second = StationFactory(charge_point_id="E2E-DEPOT-2", company=depot.company)

    async def charging_at_first_then_plug_in_at_second():
        async with await simulator.connect(
            f"{server_url}/ocpp", depot.charge_point_id
        ) as websocket:
            station = simulator.SimulatedStation(depot.charge_point_id, websocket)
            listener = asyncio.create_task(station.start())
            try:
                start = await station.call(
                    call.StartTransaction(
                        connector_id=1,
                        id_tag=badge.rfid,
                        meter_start=0,
                        timestamp=simulator.ocpp_now(),
                    )
                )
                assert start.id_tag_info["status"] == "Accepted"
                return await simulator.charge(
                    url=f"{server_url}/ocpp",
                    charge_point_id=second.charge_point_id,
                    id_tag=badge.rfid,
                )
            finally:
                listener.cancel()

    report = asyncio.run(charging_at_first_then_plug_in_at_second())

    assert report.authorize_status == "ConcurrentTx"
    event = SecurityEvent.objects.get()
    assert (event.kind, event.severity, event.station, event.id_tag) == (
        "concurrent_vid",
        "critical",
        second,
        badge.rfid,
    )
    assert event.details["charging_at"] == ["E2E-DEPOT-1"]


def test_a_shared_evccid_model_needs_the_acknowledgement(server_url, depot, admin_user):
    # Transactional tests truncate tables, seeded rows included: make sure the line is there.
    SharedMacModel.objects.get_or_create(make="Volkswagen", model="ID.3")
    id3 = VehicleFactory(company=depot.company, make="Volkswagen", model="ID.3 Pro")
    charge(server_url, depot, UNKNOWN_TAG)
    entry = UnknownVehicle.objects.get()
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/v1/unknown-vehicles/{entry.pk}/enrol/"

    refused = api.post(url, {"vehicle": id3.pk}, format="json")
    assert refused.status_code == 400
    assert not Badge.objects.filter(rfid=UNKNOWN_TAG).exists()
    assert charge(server_url, depot, UNKNOWN_TAG).authorize_status == "Invalid"

    accepted = api.post(url, {"vehicle": id3.pk, "acknowledge_shared_mac": True}, format="json")
    assert accepted.status_code == 201
    assert charge(server_url, depot, UNKNOWN_TAG).authorize_status == "Accepted"
