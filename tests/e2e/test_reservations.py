"""End to end: reservations made over REST reach ``ocpp``-library stations in 1.6 and 2.0.1 as
ReserveNow, hold their connector for the reserved badge, and end by use, cancel or expiry.

The 2.0.1 tests are named after the OCTT 2.0.1 CSMS cases of block H they cover (the case list
comes from a public reimplementation of the OCTT's CSMS cases); those left out are listed, with
the reason, in the README (OCPP 2.0.1 support).
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from badges.models import Reservation, ReservationStatus
from ocpp_gateway.models import OcppMessage
from simulator.v16 import ocpp_now
from tests.e2e.stations import Api, Online201, staff_token, station_online, wait_for
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

RESERVED = "04A1B2C3D4"
OTHER = "04FFEEDDCC"


@pytest.fixture
def api(server_url, transactional_db) -> Api:
    return Api(server_url, staff_token())


def make_station(charge_point_id: str):
    station = StationFactory(charge_point_id=charge_point_id)
    BadgeFactory(rfid=RESERVED, company=station.company)
    BadgeFactory(rfid=OTHER, company=station.company)
    return station


def reserve(api, station, *, connector_id=1, seconds=600, **fields) -> Reservation:
    code, body = api.post(
        "/reservations/",
        {
            "station": station.pk,
            "connector_id": connector_id,
            "badge": station.company.badges.get(rfid=RESERVED).pk,
            "expires_at": (timezone.now() + timedelta(seconds=seconds)).isoformat(),
            **fields,
        },
    )
    assert code == 201, body
    assert body["status"] == "requested"
    return answered(body["id"])


def answered(pk: int) -> Reservation:
    return wait_for(lambda: Reservation.objects.exclude(status="requested").filter(pk=pk).first())


def reason_of(action: str, id_tag: str) -> str:
    """The reason the log recorded for the last refused ``action`` of ``id_tag`` (the log is
    written in batches: waited for)."""
    entries = OcppMessage.objects.filter(
        action=action, direction="in", id_tag=id_tag, status="Rejected"
    )
    return wait_for(lambda: entries.exists() and entries.first()).reason


# --- OCPP 1.6 ------------------------------------------------------------------------------


def authorize16(runner, online, id_tag: str) -> str:
    return runner.run(online.call(call16.Authorize(id_tag=id_tag))).id_tag_info["status"]


def start16(runner, online, id_tag: str, **fields):
    return runner.run(
        online.call(
            call16.StartTransaction(
                connector_id=1, id_tag=id_tag, meter_start=0, timestamp=ocpp_now(), **fields
            )
        )
    )


def test_a_1_6_reservation_refuses_another_badge_and_accepts_the_reserved_one(server_url, api):
    station = make_station("E2E-RES-16")
    with station_online(server_url, station.charge_point_id) as (online, runner):
        # Accepted a moment before: the server's cache remembers it, and must forget it.
        assert authorize16(runner, online, OTHER) == "Accepted"
        reservation = reserve(api, station)
        assert reservation.status == ReservationStatus.ACCEPTED
        (sent,) = online.calls("ReserveNow")
        assert sent["connector_id"] == 1
        assert sent["id_tag"] == RESERVED
        assert sent["reservation_id"] == reservation.reservation_id

        assert authorize16(runner, online, OTHER) == "Invalid"
        assert reason_of("Authorize", OTHER) == "reserved_for_another"
        refused = start16(runner, online, OTHER)
        assert refused.id_tag_info["status"] == "Invalid"
        assert reason_of("StartTransaction", OTHER) == "reserved_for_another"

        assert authorize16(runner, online, RESERVED) == "Accepted"
        started = start16(runner, online, RESERVED, reservation_id=reservation.reservation_id)
        assert started.id_tag_info["status"] == "Accepted"
        reservation.refresh_from_db()
        assert reservation.status == ReservationStatus.USED
        # Used, it holds nothing any more.
        assert authorize16(runner, online, OTHER) == "Accepted"


def test_a_1_6_reservation_cancelled_over_rest_is_cancelled_at_the_station_too(server_url, api):
    station = make_station("E2E-RES-16-CANCEL")
    with station_online(server_url, station.charge_point_id) as (online, runner):
        reservation = reserve(api, station)
        assert authorize16(runner, online, OTHER) == "Invalid"

        code, body = api.post(f"/reservations/{reservation.pk}/cancel/")
        assert (code, body["status"]) == (200, "cancelled")
        wait_for(lambda: online.calls("CancelReservation"))
        assert online.calls("CancelReservation") == [{"reservation_id": reservation.reservation_id}]
        assert online.reservations == set()
        assert authorize16(runner, online, OTHER) == "Accepted"
        code, _ = api.post(f"/reservations/{reservation.pk}/cancel/")
        assert code == 409


def test_a_1_6_reservation_past_its_expiry_no_longer_refuses(server_url, api):
    station = make_station("E2E-RES-16-EXPIRY")
    with station_online(server_url, station.charge_point_id) as (online, runner):
        reservation = reserve(api, station, seconds=2)
        assert authorize16(runner, online, OTHER) == "Invalid"
        time.sleep(max(0.0, (reservation.expires_at - timezone.now()).total_seconds()) + 0.2)
        assert authorize16(runner, online, OTHER) == "Accepted"
        assert start16(runner, online, OTHER).id_tag_info["status"] == "Accepted"
        # The sweep says so in the list too.
        wait_for(
            lambda: Reservation.objects.filter(pk=reservation.pk, status="expired").exists(),
            timeout=15,
        )


def test_a_1_6_station_that_answers_occupied_leaves_the_connector_free(server_url, api):
    station = make_station("E2E-RES-16-OCCUPIED")
    with station_online(server_url, station.charge_point_id, reservation_answer="Occupied") as (
        online,
        runner,
    ):
        reservation = reserve(api, station)
        assert reservation.status == ReservationStatus.OCCUPIED
        assert authorize16(runner, online, OTHER) == "Accepted"


# --- OCPP 2.0.1, block H -------------------------------------------------------------------

TOKEN = {"id_token": RESERVED, "type": "ISO14443"}
OTHER_TOKEN = {"id_token": OTHER, "type": "ISO14443"}


@pytest.fixture
def station201(transactional_db):
    return make_station("E2E-RES-201")


@pytest.fixture
def cp(server_url, station201):
    connected = Online201(server_url, station201)
    connected.send(connected.station.status(1, "Available"))
    yield connected
    connected.close()


def authorize201(cp, token: dict) -> str:
    return cp.send(cp.station.call(call201.Authorize(id_token=token))).id_token_info["status"]


def started201(cp, token: dict, tx: str, **fields):
    return cp.send(
        cp.station.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=ocpp_now(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": tx},
                evse={"id": 1, "connector_id": 1},
                id_token=token,
                **fields,
            )
        )
    )


def test_TC_H_01_CSMS_reserve_a_specific_evse_accepted(station201, cp, api):
    reservation = reserve(api, station201, connector_id=1)
    assert reservation.status == ReservationStatus.ACCEPTED
    (sent,) = cp.station.calls("ReserveNow")
    assert sent["id"] == reservation.reservation_id
    assert sent["evse_id"] == 1
    assert sent["id_token"] == TOKEN
    cp.send(cp.station.status(1, "Reserved"))

    assert authorize201(cp, OTHER_TOKEN) == "NotAtThisTime"
    refused = started201(cp, OTHER_TOKEN, "tx-h01-other")
    assert refused.id_token_info["status"] == "NotAtThisTime"
    assert reason_of("TransactionEvent", OTHER) == "reserved_for_another"

    assert authorize201(cp, TOKEN) == "Accepted"
    started = started201(cp, TOKEN, "tx-h01", reservation_id=reservation.reservation_id)
    assert started.id_token_info["status"] == "Accepted"
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.USED


def test_TC_H_07_CSMS_reservation_ended_not_used(station201, cp, api):
    reservation = reserve(api, station201)
    assert authorize201(cp, OTHER_TOKEN) == "NotAtThisTime"
    cp.send(
        cp.station.call(
            call201.ReservationStatusUpdate(
                reservation_id=reservation.reservation_id, reservation_update_status="Expired"
            )
        )
    )
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert authorize201(cp, OTHER_TOKEN) == "Accepted"


def test_TC_H_08_CSMS_reserve_an_unspecified_evse_accepted(station201, cp, api):
    reservation = reserve(api, station201, connector_id=0)
    assert reservation.status == ReservationStatus.ACCEPTED
    (sent,) = cp.station.calls("ReserveNow")
    assert "evse_id" not in sent
    assert sent["id_token"] == TOKEN
    # The reserved badge may use it on the station's EVSE, with or without naming it.
    assert started201(cp, TOKEN, "tx-h08").id_token_info["status"] == "Accepted"
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.USED


def test_TC_H_14_CSMS_reserve_an_unspecified_evse_when_evses_equal_reservations(
    station201, cp, api
):
    # One EVSE, one "any EVSE" reservation: nothing is left for another badge.
    reserve(api, station201, connector_id=0)
    assert authorize201(cp, OTHER_TOKEN) == "NotAtThisTime"
    assert started201(cp, OTHER_TOKEN, "tx-h14").id_token_info["status"] == "NotAtThisTime"
    assert authorize201(cp, TOKEN) == "Accepted"


def test_TC_H_15_CSMS_reserve_a_connector_with_a_specific_type(station201, cp, api):
    reservation = reserve(api, station201, connector_id=0, connector_type="cCCS2")
    assert reservation.status == ReservationStatus.ACCEPTED
    (sent,) = cp.station.calls("ReserveNow")
    assert sent["connector_type"] == "cCCS2"


def test_TC_H_17_CSMS_cancel_reservation_of_an_evse(station201, cp, api):
    reservation = reserve(api, station201)
    code, body = api.post(f"/reservations/{reservation.pk}/cancel/")
    assert (code, body["status"]) == (200, "cancelled")
    wait_for(lambda: cp.station.calls("CancelReservation"))
    assert cp.station.calls("CancelReservation") == [{"reservation_id": reservation.reservation_id}]
    assert authorize201(cp, OTHER_TOKEN) == "Accepted"


def test_TC_H_20_CSMS_charging_station_cancels_reservation_when_faulted(station201, cp, api):
    reservation = reserve(api, station201)
    cp.send(cp.station.status(1, "Faulted"))
    cp.send(
        cp.station.call(
            call201.ReservationStatusUpdate(
                reservation_id=reservation.reservation_id, reservation_update_status="Removed"
            )
        )
    )
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.detail == "Removed by the station."


def test_TC_H_22_CSMS_reserve_a_specific_evse_configured_to_reject(server_url, api):
    station = make_station("E2E-RES-201-REJECT")
    connected = Online201(server_url, station, reservation_answer="Rejected")
    try:
        reservation = reserve(api, station)
        assert reservation.status == ReservationStatus.REJECTED
        assert authorize201(connected, OTHER_TOKEN) == "Accepted"
    finally:
        connected.close()
