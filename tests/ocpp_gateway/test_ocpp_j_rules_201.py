"""OCPP-J 2.0.1 rules at the gateway: error codes with 2.0.1's names, the message id "-1" for a
frame whose id cannot be read, service only after an accepted boot. Raw frames in, exact
frames out (in-process ASGI)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from ocpp_gateway.models import OcppMessage
from supervision.asgi import application
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id="CP-RULES-201", last_boot_at="2026-01-01T00:00:00Z")


async def connected() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ocpp/CP-RULES-201", subprotocols=["ocpp2.0.1"]
    )
    accepted, subprotocol = await communicator.connect()
    assert (accepted, subprotocol) == (True, "ocpp2.0.1")
    return communicator


async def answer(communicator, text: str) -> list:
    await communicator.send_to(text_data=text)
    return json.loads(await communicator.receive_from(timeout=5))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "OccurrenceConstraintViolation"),  # idToken missing
        ({"idToken": {"idToken": 42, "type": "Central"}}, "TypeConstraintViolation"),
        ({"idToken": {"idToken": "AB", "type": "Barcode"}}, "PropertyConstraintViolation"),
        ({"idToken": {"idToken": "AB", "type": "Central"}, "colour": "red"}, "ProtocolError"),
    ],
)
async def test_schema_violations_get_the_ocpp_201_error_code(station, payload, code):
    communicator = await connected()
    error = await answer(communicator, json.dumps([2, "m1", "Authorize", payload]))
    assert error[:3] == [4, "m1", code]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[2, 17, ", [4, "-1", "RpcFrameworkError"]),  # not JSON, no readable id
        ('{"not": "an array"}', [4, "-1", "RpcFrameworkError"]),
        ('[7, "m3", "Heartbeat", {}]', [4, "m3", "MessageTypeNotSupported"]),
        ('[2, "m4", 12, {}]', [4, "m4", "RpcFrameworkError"]),
        ('[2, "m5", "GetConfiguration", {}]', [4, "m5", "NotImplemented"]),  # a 1.6 action
    ],
)
async def test_malformed_frames_get_a_call_error_even_without_a_readable_id(
    station, text, expected
):
    communicator = await connected()
    assert (await answer(communicator, text))[:3] == expected
    await communicator.disconnect()
    logged = await database_sync_to_async(OcppMessage.objects.filter(direction="in").count)()
    assert logged == 1


async def test_a_station_never_accepted_at_boot_gets_a_security_error(station):
    station.last_boot_at = None
    await database_sync_to_async(station.save)()
    communicator = await connected()

    error = await answer(communicator, json.dumps([2, "m6", "Heartbeat", {}]))

    assert error[:3] == [4, "m6", "SecurityError"]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("action", "code", "description", "cause"),
    [
        (
            "GetVariables",  # 2.0.1 defines it (CSMS → station); we do not handle it
            "NotSupported",
            "Requested Action is recognized but not supported by the receiver",
            "GetVariables is an OCPP 2.0.1 action this CSMS does not handle",
        ),
        (
            "PublishFirmwareStatusNotification",
            "NotSupported",
            "Requested Action is recognized but not supported by the receiver",
            "PublishFirmwareStatusNotification is an OCPP 2.0.1 action this CSMS does not handle",
        ),
        (
            "StartTransaction",  # OCPP 1.6's, gone in 2.0.1
            "NotImplemented",
            "Requested Action is not known by receiver",
            "StartTransaction is not an OCPP 2.0.1 action",
        ),
        (
            "MakeCoffee",
            "NotImplemented",
            "Requested Action is not known by receiver",
            "MakeCoffee is not an OCPP 2.0.1 action",
        ),
    ],
)
async def test_an_unhandled_action_is_not_supported_and_an_unknown_one_not_implemented(
    station, action, code, description, cause
):
    communicator = await connected()
    assert await answer(communicator, json.dumps([2, "u1", action, {}])) == [
        4,
        "u1",
        code,
        description,
        {"cause": cause},
    ]
    await communicator.disconnect()
