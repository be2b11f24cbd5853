"""OCPP-J 1.6 rules at the gateway: error codes with 1.6's names, service only after an accepted
boot, frame size and rate limits. Raw frames in, exact frames out (in-process ASGI)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from ocpp_gateway.models import OcppMessage
from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.transport.rate_limit import station_rate_limits
from supervision.asgi import application
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id="CP-RULES")


async def connected(charge_point_id: str = "CP-RULES") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, f"/ocpp/{charge_point_id}", subprotocols=["ocpp1.6"]
    )
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator


async def answer(communicator, frame) -> list:
    await communicator.send_to(text_data=json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=5))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "OccurenceConstraintViolation"),  # idTag missing
        ({"idTag": 42}, "TypeConstraintViolation"),
        ({"idTag": "X" * 21}, "PropertyConstraintViolation"),  # over CiString20
        ({"idTag": "AB", "colour": "red"}, "FormationViolation"),  # not in the PDU
    ],
)
async def test_schema_violations_get_the_ocpp_16_error_code(station, payload, code):
    communicator = await connected()
    error = await answer(communicator, [2, "m1", "Authorize", payload])
    assert error[:3] == [4, "m1", code]
    assert error[4]["cause"]
    await communicator.disconnect()


@pytest.mark.parametrize("action", ["GetConfiguration", "SignCertificate", "GetDiagnostics"])
async def test_an_ocpp_16_action_we_do_not_handle_is_not_supported(station, action):
    communicator = await connected()
    assert await answer(communicator, [2, "m2", action, {}]) == [
        4,
        "m2",
        "NotSupported",
        "Requested Action is recognized but not supported by the receiver",
        {"cause": f"{action} is an OCPP 1.6 action this CSMS does not handle"},
    ]
    await communicator.disconnect()


@pytest.mark.parametrize("action", ["MakeCoffee", "TransactionEvent", "heartbeat"])
async def test_an_action_ocpp_16_does_not_define_is_not_implemented(station, action):
    communicator = await connected()
    assert await answer(communicator, [2, "m2", action, {}]) == [
        4,
        "m2",
        "NotImplemented",
        "Requested Action is not known by receiver",
        {"cause": f"{action} is not an OCPP 1.6 action"},
    ]
    await communicator.disconnect()


async def test_an_unhandled_action_is_refused_even_before_the_station_booted(transactional_db):
    # Refusing with SecurityError would tell the station to boot for something it never gets.
    await database_sync_to_async(StationFactory)(charge_point_id="CP-NEW", last_boot_at=None)
    communicator = await connected("CP-NEW")
    assert (await answer(communicator, [2, "m2", "GetDiagnostics", {}]))[2] == "NotSupported"
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("action", "payload", "field", "status"),
    [
        ("FirmwareStatusNotification", {"status": "Downloading"}, "firmware_status", "Downloading"),
        ("FirmwareStatusNotification", {"status": "Installed"}, "firmware_status", "Installed"),
        ("DiagnosticsStatusNotification", {"status": "Uploading"}, "log_status", "Uploading"),
        ("DiagnosticsStatusNotification", {"status": "UploadFailed"}, "log_status", "UploadFailed"),
    ],
)
async def test_firmware_and_diagnostics_statuses_are_answered_and_stored(
    station, action, payload, field, status
):
    communicator = await connected()

    assert await answer(communicator, [2, "s1", action, payload]) == [3, "s1", {}]

    await communicator.disconnect()
    await database_sync_to_async(station.refresh_from_db)()
    assert getattr(station, field) == status
    await database_sync_to_async(writer.flush)()
    logged = await database_sync_to_async(OcppMessage.objects.get)(action=action, direction="in")
    assert logged.payload == payload


async def test_a_firmware_status_outside_the_ocpp_16_list_is_refused_and_not_stored(station):
    communicator = await connected()

    error = await answer(communicator, [2, "s2", "FirmwareStatusNotification", {"status": "Nope"}])

    assert error[:3] == [4, "s2", "PropertyConstraintViolation"]
    await communicator.disconnect()
    await database_sync_to_async(station.refresh_from_db)()
    assert station.firmware_status == ""


async def test_a_frame_of_an_unknown_message_type_is_a_formation_violation(station):
    communicator = await connected()
    assert (await answer(communicator, [7, "m3", "Heartbeat", {}]))[:3] == [
        4,
        "m3",
        "FormationViolation",
    ]
    await communicator.disconnect()


async def test_a_station_never_accepted_at_boot_gets_no_other_service_until_it_is(transactional_db):
    await database_sync_to_async(StationFactory)(charge_point_id="CP-NEW", last_boot_at=None)
    communicator = await connected("CP-NEW")

    refused = await answer(communicator, [2, "h1", "Heartbeat", {}])
    boot = await answer(
        communicator,
        [2, "b1", "BootNotification", {"chargePointVendor": "Delta", "chargePointModel": "DC"}],
    )
    served = await answer(communicator, [2, "h2", "Heartbeat", {}])

    assert refused[:3] == [4, "h1", "SecurityError"]
    assert boot[2]["status"] == "Accepted"
    assert served[:2] == [3, "h2"]
    await communicator.disconnect()


async def test_a_frame_over_the_limit_closes_the_connection_with_1009_and_is_logged(
    station, settings
):
    settings.OCPP_MAX_FRAME_BYTES = 2_000
    communicator = await connected()

    await communicator.send_to(
        text_data=json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 3_000}])
    )

    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 1009}
    await database_sync_to_async(writer.flush)()
    logged = await database_sync_to_async(OcppMessage.objects.get)()
    assert len(logged.payload) == 1024 and logged.status == "Error"


async def test_a_station_sending_too_fast_is_slowed_then_disconnected(station, settings):
    settings.OCPP_RATE_PER_SECOND = 10
    settings.OCPP_RATE_BURST = 3
    settings.OCPP_RATE_MAX_DELAY_SECONDS = 0.25  # slowed for more than 2 frames in a row
    communicator = await connected()

    answers = []
    for number in range(10):
        await communicator.send_to(text_data=json.dumps([2, f"hb{number}", "Heartbeat", {}]))
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        answers.append(json.loads(output["text"])[1])

    assert output["code"] == 1008
    # The burst and the slowed-down frames were served before the station was cut off.
    assert answers == ["hb0", "hb1", "hb2", "hb3", "hb4"]


@pytest.mark.parametrize(
    "payload",
    [
        {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
        {"connectorId": 2**31, "errorCode": "NoError", "status": "Available"},
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "x": 2**64},
    ],
)
async def test_integers_no_station_means_are_bad_values_not_internal_errors(station, payload):
    communicator = await connected()
    error = await answer(communicator, [2, "r1", "StatusNotification", payload])
    assert error[:2] == [4, "r1"]
    assert error[2] in {"PropertyConstraintViolation", "FormationViolation"}
    await communicator.disconnect()


async def test_huge_meter_readings_are_bad_values(station):
    communicator = await connected()
    frame = {
        "connectorId": 1,
        "idTag": "AB",
        "meterStart": 2**64,
        "timestamp": "2026-11-24T08:00:00Z",
    }
    error = await answer(communicator, [2, "r2", "StartTransaction", frame])
    assert error[:3] == [4, "r2", "PropertyConstraintViolation"]
    await communicator.disconnect()


async def test_a_timestamp_outside_the_dates_we_store_is_a_type_violation(station):
    communicator = await connected()
    frame = {"connectorId": 3, "errorCode": "NoError", "status": "Available"}
    frame["timestamp"] = "9999-12-31T23:59:59-00:01"
    error = await answer(communicator, [2, "t1", "StatusNotification", frame])
    assert error[:3] == [4, "t1", "TypeConstraintViolation"]
    await communicator.disconnect()


async def test_a_long_message_id_is_echoed_whole_in_the_error(station):
    communicator = await connected()
    error = await answer(communicator, [7, "x" * 100])
    assert error[:3] == [4, "x" * 100, "FormationViolation"]
    await communicator.disconnect()


async def test_a_long_meter_reading_is_stored_as_sent(station):
    communicator = await connected()
    reading = {"timestamp": "2026-01-15T08:00:00Z", "sampledValue": [{"value": "1" * 65}]}
    frame = {"connectorId": 1, "meterValue": [reading]}
    assert await answer(communicator, [2, "v1", "MeterValues", frame]) == [3, "v1", {}]
    await communicator.disconnect()


async def test_a_call_far_over_the_rate_is_dropped_with_a_generic_error_and_not_logged(
    station, settings
):
    settings.OCPP_RATE_PER_SECOND = 0.5  # its next token in 2 s: more than a second away
    settings.OCPP_RATE_BURST = 2
    communicator = await connected()

    served = [await answer(communicator, [2, f"hb{n}", "Heartbeat", {}]) for n in range(2)]
    dropped = await answer(communicator, [2, "hb2", "Heartbeat", {}])

    assert [frame[:2] for frame in served] == [[3, "hb0"], [3, "hb1"]]
    assert dropped == [4, "hb2", "GenericError", "rate limit exceeded", {}]
    assert station_rate_limits.dropped("CP-RULES") == 1
    await communicator.disconnect()
    await database_sync_to_async(writer.flush)()
    logged = await database_sync_to_async(list)(OcppMessage.objects.values_list("unique_id"))
    assert sorted(logged) == [("hb0",), ("hb0",), ("hb1",), ("hb1",)]


async def test_the_station_s_answers_to_our_calls_are_never_dropped(station, settings):
    settings.OCPP_RATE_PER_SECOND = 0.5
    settings.OCPP_RATE_BURST = 1
    communicator = await connected()
    await answer(communicator, [2, "hb0", "Heartbeat", {}])  # the bucket is empty now

    for number in range(3):
        await communicator.send_to(text_data=json.dumps([3, f"answer{number}", {}]))
    dropped = await answer(communicator, [2, "hb1", "Heartbeat", {}])

    assert dropped[:3] == [4, "hb1", "GenericError"]  # the answers were not: no error for them
    await communicator.disconnect()
    await database_sync_to_async(writer.flush)()
    answers = await database_sync_to_async(OcppMessage.objects.filter(message_type=3).count)()
    assert answers == 3 + 1  # the station's three, logged, and ours to hb0


async def test_a_flooding_station_that_reconnects_is_still_limited(station, settings):
    # A token every 0.5 s: the reconnection has that long before its bucket has one again.
    settings.OCPP_RATE_PER_SECOND = 2
    settings.OCPP_RATE_BURST = 3
    settings.OCPP_RATE_MAX_DELAY_SECONDS = 1
    communicator = await connected()
    for number in range(10):
        await communicator.send_to(text_data=json.dumps([2, f"hb{number}", "Heartbeat", {}]))
    while (output := await communicator.receive_output(timeout=5))["type"] != "websocket.close":
        pass
    assert output["code"] == 1008
    await communicator.disconnect()  # the socket's end, as the server hears it

    again = await connected()  # a new socket, the same station: not a full burst
    for number in range(3):
        await again.send_to(text_data=json.dumps([2, f"again{number}", "Heartbeat", {}]))
    answers = []
    while (output := await again.receive_output(timeout=5))["type"] != "websocket.close":
        answers.append(json.loads(output["text"])[1])

    await again.disconnect()
    assert output["code"] == 1008  # still over the rate: cut off within the three
    assert len(answers) < 3
