"""Protocol tests: raw OCPP-J frames in through the real ASGI application, exact frames out,
log rows and database state asserted."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from badges.models import BadgeState
from ocpp_gateway.models import OcppMessage
from ocpp_gateway.transport.log_writer import writer
from stations.models import ChargingSession, ConnectionState, Connector, MeterValue, Station
from supervision.asgi import application
from tests.factories import BadgeFactory, StationFactory
from tests.ocpp_gateway.connections import until_recorded

pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = "2026-11-24T08:00:00Z"


@pytest.fixture
def station(transactional_db) -> Station:
    return StationFactory(charge_point_id="CP-PROTO")


@pytest.fixture
def badge(station):
    return BadgeFactory(rfid="VID:A014310E004E", company=station.company)


async def open_station(charge_point_id: str = "CP-PROTO", subprotocols=("ocpp1.6",)):
    communicator = WebsocketCommunicator(
        application, f"/ocpp/{charge_point_id}", subprotocols=list(subprotocols)
    )
    connected, subprotocol = await communicator.connect()
    if connected:
        await until_recorded(charge_point_id)
    return communicator, connected, subprotocol


async def exchange(communicator, frame) -> list:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=5))


def log_rows(**filters) -> list[OcppMessage]:
    writer.flush()
    return list(OcppMessage.objects.filter(**filters).order_by("id"))


@database_sync_to_async
def db(function, *args, **kwargs):
    return function(*args, **kwargs)


async def test_unknown_station_is_refused_before_the_upgrade(station):
    _, connected, _ = await open_station("NOT-REGISTERED")
    assert connected is False
    assert await db(OcppMessage.objects.count) == 0


async def test_handshake_without_a_subprotocol_we_speak_is_refused(station):
    _, connected, _ = await open_station(subprotocols=("ocpp2.1", "ocpp1.5"))
    assert connected is False


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (("ocpp1.6",), "ocpp1.6"),
        (("ocpp2.0.1",), "ocpp2.0.1"),
        (("ocpp1.6", "ocpp2.0.1"), "ocpp2.0.1"),
        (("ocpp2.1", "ocpp1.6"), "ocpp1.6"),
    ],
)
async def test_the_newest_protocol_offered_is_chosen_and_recorded(station, offered, chosen):
    communicator, connected, subprotocol = await open_station(subprotocols=offered)
    assert (connected, subprotocol) == (True, chosen)
    await db(station.refresh_from_db)
    assert station.ocpp_version == chosen.removeprefix("ocpp")
    await communicator.disconnect()


async def test_station_connects_with_ocpp16_and_is_marked_connected_then_disconnected(station):
    communicator, connected, subprotocol = await open_station()
    assert (connected, subprotocol) == (True, "ocpp1.6")
    await db(station.refresh_from_db)
    assert station.connection_state == ConnectionState.CONNECTED
    await communicator.disconnect()
    await db(station.refresh_from_db)
    assert station.connection_state == ConnectionState.DISCONNECTED


async def test_boot_notification_is_accepted_and_records_the_station_identity(station, settings):
    settings.OCPP_HEARTBEAT_INTERVAL = 120
    communicator, *_ = await open_station()
    answer = await exchange(
        communicator,
        [
            2,
            "boot-1",
            "BootNotification",
            {
                "chargePointVendor": "Kempower",
                "chargePointModel": "S-Series",
                "chargePointSerialNumber": "KP-001",
                "firmwareVersion": "1.2.3",
            },
        ],
    )
    assert answer[:2] == [3, "boot-1"]
    assert answer[2]["status"] == "Accepted"
    assert answer[2]["interval"] == 120
    assert answer[2]["currentTime"].endswith("Z")
    await db(station.refresh_from_db)
    assert (station.vendor, station.model, station.serial_number, station.firmware_version) == (
        "Kempower",
        "S-Series",
        "KP-001",
        "1.2.3",
    )
    assert station.last_boot_at is not None
    rows = await db(log_rows)
    assert [(r.direction, r.message_type, r.unique_id, r.action) for r in rows] == [
        ("in", 2, "boot-1", "BootNotification"),
        ("out", 3, "boot-1", "BootNotification"),
    ]
    assert rows[1].ocpp_status == "Accepted"
    await communicator.disconnect()


async def test_heartbeat_answers_the_time_and_records_it(station):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "hb", "Heartbeat", {}])
    assert answer[:2] == [3, "hb"] and set(answer[2]) == {"currentTime"}
    await db(station.refresh_from_db)
    assert station.last_heartbeat_at is not None
    await communicator.disconnect()


async def test_status_notification_updates_the_connector(station):
    communicator, *_ = await open_station()
    frame = {
        "connectorId": 2,
        "errorCode": "GroundFailure",
        "status": "Faulted",
        "timestamp": TIMESTAMP,
    }
    assert await exchange(communicator, [2, "s1", "StatusNotification", frame]) == [3, "s1", {}]
    frame.update(errorCode="NoError", status="Available")
    assert await exchange(communicator, [2, "s2", "StatusNotification", frame]) == [3, "s2", {}]
    connector = await db(Connector.objects.get, station=station, connector_id=2)
    assert (connector.status, connector.error_code) == ("Available", "NoError")
    await communicator.disconnect()


async def test_authorize_of_a_known_vehicle_is_accepted_and_logged_with_the_reason(badge):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "a1", "Authorize", {"idTag": "VID:A014310E004E"}])
    assert answer == [3, "a1", {"idTagInfo": {"status": "Accepted"}}]
    request = (await db(log_rows, direction="in", action="Authorize"))[0]
    assert (request.status, request.ocpp_status, request.reason, request.id_tag) == (
        "Accepted",
        "Accepted",
        "accepted",
        "VID:A014310E004E",
    )
    await communicator.disconnect()


async def test_authorize_of_an_unknown_vehicle_is_invalid_and_logged_rejected(station):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "a2", "Authorize", {"idTag": "VID:A014310E0099"}])
    assert answer == [3, "a2", {"idTagInfo": {"status": "Invalid"}}]
    request = (await db(log_rows, direction="in", action="Authorize"))[0]
    assert (request.status, request.ocpp_status, request.reason) == (
        "Rejected",
        "Invalid",
        "unknown_badge",
    )
    assert request.payload == {"idTag": "VID:A014310E0099"}
    await communicator.disconnect()


async def test_authorize_accepts_a_mac_with_separators_beyond_cistring20_and_logs_it_raw(badge):
    communicator, *_ = await open_station()
    raw = "vid:a0:14:31:0e:00:4e"  # 21 characters: over CiString20, as some firmwares send it
    answer = await exchange(communicator, [2, "a3", "Authorize", {"idTag": raw}])
    assert answer == [3, "a3", {"idTagInfo": {"status": "Accepted"}}]
    request = (await db(log_rows, direction="in", action="Authorize"))[0]
    assert request.payload == {"idTag": raw}
    assert request.id_tag == "VID:A014310E004E"
    await communicator.disconnect()


async def test_authorize_with_an_accepted_badge_that_expires_carries_its_expiry_date(station):
    expiry = timezone.now() + timedelta(days=3)
    await db(BadgeFactory, rfid="RFID-CARD-1", company=station.company, expires_at=expiry)
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "a4", "Authorize", {"idTag": "rfid-card-1"}])
    assert answer[2]["idTagInfo"]["status"] == "Accepted"
    assert answer[2]["idTagInfo"]["expiryDate"].startswith(expiry.strftime("%Y-%m-%dT%H:%M"))
    await communicator.disconnect()


async def test_a_payload_failing_the_schema_gets_a_callerror_and_is_logged(station):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "bad-1", "Authorize", {"idTag": 42}])
    assert answer[:3] == [4, "bad-1", "TypeConstraintViolation"]
    rows = await db(log_rows)
    assert [(r.direction, r.message_type, r.status) for r in rows] == [
        ("in", 2, ""),
        ("out", 4, "Error"),
    ]
    assert rows[1].ocpp_status == "TypeConstraintViolation"
    assert rows[1].action == "Authorize"
    await communicator.disconnect()


async def test_an_unknown_action_gets_a_callerror(station):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "x1", "MakeCoffee", {}])
    assert answer[:2] == [4, "x1"]
    assert answer[2] in {"NotImplemented", "NotSupported"}
    await communicator.disconnect()


async def test_a_frame_that_is_not_an_ocpp_array_is_logged_and_answered_when_its_id_is_readable(
    station,
):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, '[7, "odd-1", "Authorize", {}]')
    assert answer[:2] == [4, "odd-1"]
    await communicator.send_to(text_data="this is not json")
    assert await communicator.receive_nothing(timeout=0.3)
    rows = await db(log_rows, direction="in")
    assert [r.payload for r in rows] == ['[7, "odd-1", "Authorize", {}]', "this is not json"]
    assert all(r.message_type is None and r.status == "Error" for r in rows)
    # The connection is still usable.
    assert (await exchange(communicator, [2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]
    await communicator.disconnect()


async def test_start_transaction_without_authorize_rechecks_the_badge(badge):
    badge.state = BadgeState.DISABLED
    await db(badge.save)
    communicator, *_ = await open_station()
    answer = await exchange(
        communicator,
        [
            2,
            "st",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "VID:A014310E004E",
                "meterStart": 500,
                "timestamp": TIMESTAMP,
            },
        ],
    )
    session = await db(ChargingSession.objects.get)
    assert answer == [
        3,
        "st",
        {"transactionId": session.transaction_id, "idTagInfo": {"status": "Blocked"}},
    ]
    assert (session.authorization_status, session.authorization_reason) == (
        "Blocked",
        "badge_disabled",
    )
    request = (await db(log_rows, direction="in", action="StartTransaction"))[0]
    assert (request.status, request.reason) == ("Rejected", "badge_disabled")
    await communicator.disconnect()


async def test_a_full_session_is_attributed_and_its_energy_computed(badge):
    communicator, *_ = await open_station()
    start = await exchange(
        communicator,
        [
            2,
            "st",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "VID:A014310E004E",
                "meterStart": 1000,
                "timestamp": TIMESTAMP,
            },
        ],
    )
    transaction_id = start[2]["transactionId"]
    meter = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {
                "timestamp": "2026-11-24T08:10:00Z",
                "sampledValue": [
                    {"value": "5000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "61.5", "measurand": "SoC", "unit": "Percent"},
                ],
            }
        ],
    }
    assert await exchange(communicator, [2, "mv", "MeterValues", meter]) == [3, "mv", {}]
    stop = await exchange(
        communicator,
        [
            2,
            "sp",
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": 21000,
                "timestamp": "2026-11-24T08:40:00Z",
                "reason": "EVDisconnected",
                "idTag": "VID:A014310E004E",
            },
        ],
    )
    assert stop == [3, "sp", {"idTagInfo": {"status": "Accepted"}}]
    session = await db(ChargingSession.objects.select_related("vehicle", "company").get)
    assert session.vehicle == badge.vehicle and session.company == badge.company
    assert (session.auth_method, session.energy_wh, session.stop_reason) == (
        "autocharge",
        20000,
        "EVDisconnected",
    )
    values = await db(
        lambda: list(MeterValue.objects.filter(session=session).values_list("measurand", "value"))
    )
    assert values == [("Energy.Active.Import.Register", "5000"), ("SoC", "61.5")]
    await communicator.disconnect()


async def test_stop_of_an_unknown_transaction_is_answered_and_creates_nothing(station):
    communicator, *_ = await open_station()
    answer = await exchange(
        communicator,
        [
            2,
            "sp",
            "StopTransaction",
            {"transactionId": 999, "meterStop": 1, "timestamp": TIMESTAMP},
        ],
    )
    assert answer == [3, "sp", {}]
    assert await db(ChargingSession.objects.count) == 0
    await communicator.disconnect()


async def test_data_transfer_answers_unknown_vendor(station):
    communicator, *_ = await open_station()
    answer = await exchange(communicator, [2, "dt", "DataTransfer", {"vendorId": "com.example"}])
    assert answer == [3, "dt", {"status": "UnknownVendorId"}]
    await communicator.disconnect()


async def test_an_unparseable_timestamp_gets_a_callerror_and_stores_nothing(badge):
    communicator, *_ = await open_station()
    answer = await exchange(
        communicator,
        [
            2,
            "st",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "VID:A014310E004E",
                "meterStart": 0,
                "timestamp": "yesterday",
            },
        ],
    )
    assert answer[:3] == [4, "st", "TypeConstraintViolation"]
    assert await db(ChargingSession.objects.count) == 0
    await communicator.disconnect()
