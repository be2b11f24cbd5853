"""Protocol tests of commands to stations: recorded by the service, delivered through the
channel layer (in memory here) to the consumer, sent as an exact CALL frame, and finished by the
station's answer, error, silence or departure."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from ocpp_gateway.models import Command, CommandState, OcppMessage
from ocpp_gateway.operations.commands import StationNotConnected, command_send
from ocpp_gateway.transport.log_writer import writer
from stations.models import ConfigurationKey, Station
from tests.factories import StationFactory
from tests.ocpp_gateway.connections import open_station as open_connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station(transactional_db) -> Station:
    return StationFactory(charge_point_id="CP-CMD")


async def open_station(charge_point_id: str = "CP-CMD") -> WebsocketCommunicator:
    return await open_connected(charge_point_id)


@database_sync_to_async
def send(station, action, payload=None, **options) -> Command:
    return command_send(station=station, action=action, payload=payload, **options)


@database_sync_to_async
def reload(model):
    return type(model).objects.get(pk=model.pk)


async def finished(command: Command) -> Command:
    """The command once it left ``pending`` and ``sent`` (or as it is after 5 s)."""
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        command = await reload(command)
        if command.is_finished or asyncio.get_running_loop().time() > deadline:
            return command
        await asyncio.sleep(0.02)


async def next_call(communicator) -> list:
    frame = json.loads(await communicator.receive_from(timeout=5))
    assert frame[0] == 2, frame
    return frame


async def answer(communicator, unique_id: str, payload: dict) -> None:
    await communicator.send_to(text_data=json.dumps([3, unique_id, payload]))


@database_sync_to_async
def log_rows(**filters) -> list[OcppMessage]:
    writer.flush()
    return list(OcppMessage.objects.filter(**filters).order_by("id"))


async def test_a_get_configuration_reaches_the_station_and_its_answer_is_stored(station):
    communicator = await open_station()

    command = await send(station, "GetConfiguration", {"key": ["AllowedAuthenticationMethods"]})
    _, unique_id, action, payload = await next_call(communicator)

    assert (action, payload) == ("GetConfiguration", {"key": ["AllowedAuthenticationMethods"]})
    sent = await reload(command)
    assert (sent.state, sent.unique_id) == (CommandState.SENT, unique_id)
    assert sent.sent_at is not None
    result = {
        "configurationKey": [
            {"key": "AllowedAuthenticationMethods", "readonly": False, "value": "rfid"}
        ],
        "unknownKey": [],
    }
    await answer(communicator, unique_id, result)
    command = await finished(command)
    assert (command.state, command.response, command.ocpp_status) == ("accepted", result, "")
    assert command.completed_at is not None
    keys = await database_sync_to_async(
        lambda: list(ConfigurationKey.objects.values_list("key", "value", "readonly"))
    )()
    assert keys == [("AllowedAuthenticationMethods", "rfid", False)]
    rows = await log_rows(unique_id=unique_id)
    assert [(r.direction, r.message_type, r.action) for r in rows] == [
        ("out", 2, "GetConfiguration"),
        ("in", 3, "GetConfiguration"),
    ]
    await communicator.disconnect()


async def test_an_answer_with_another_status_than_accepted_rejects_the_command(station):
    communicator = await open_station()

    command = await send(station, "Reset", {"type": "Hard"})
    _, unique_id, action, payload = await next_call(communicator)
    await answer(communicator, unique_id, {"status": "Rejected"})

    command = await finished(command)
    assert (action, payload) == ("Reset", {"type": "Hard"})
    assert (command.state, command.ocpp_status) == ("rejected", "Rejected")
    assert command.response == {"status": "Rejected"}
    [answer_row] = await log_rows(unique_id=unique_id, direction="in")
    assert (answer_row.action, answer_row.ocpp_status) == ("Reset", "Rejected")
    await communicator.disconnect()


async def test_unlocked_is_what_an_accepted_unlock_connector_says(station):
    communicator = await open_station()

    command = await send(station, "UnlockConnector", {"connectorId": 1})
    _, unique_id, *_ = await next_call(communicator)
    await answer(communicator, unique_id, {"status": "Unlocked"})

    command = await finished(command)
    assert (command.state, command.ocpp_status) == ("accepted", "Unlocked")
    await communicator.disconnect()


async def test_a_callerror_fails_the_command_with_the_error_kept(station):
    communicator = await open_station()

    command = await send(station, "ClearCache")
    _, unique_id, action, payload = await next_call(communicator)
    await communicator.send_to(
        text_data=json.dumps([4, unique_id, "NotImplemented", "No cache here", {}])
    )

    command = await finished(command)
    assert (action, payload) == ("ClearCache", {})
    assert (command.state, command.ocpp_status) == ("failed", "NotImplemented")
    assert command.response == {
        "errorCode": "NotImplemented",
        "errorDescription": "No cache here",
        "errorDetails": {},
    }
    assert command.detail == "NotImplemented: No cache here"
    [error_row] = await log_rows(unique_id=unique_id, direction="in")
    assert (error_row.action, error_row.message_type, error_row.status) == (
        "ClearCache",
        4,
        "Error",
    )
    await communicator.disconnect()


async def test_an_answer_failing_the_schema_fails_the_command(station):
    communicator = await open_station()

    command = await send(station, "ClearCache")
    _, unique_id, *_ = await next_call(communicator)
    await answer(communicator, unique_id, {"status": "Maybe"})

    command = await finished(command)
    assert command.state == "failed"
    assert command.response == {"status": "Maybe"}
    assert command.detail.startswith("The answer fails the OCPP 1.6 schema")
    await communicator.disconnect()


async def test_a_station_that_does_not_answer_in_time_times_the_command_out(station, settings):
    settings.OCPP_RESPONSE_TIMEOUT = 0.2
    communicator = await open_station()

    command = await send(station, "TriggerMessage", {"requestedMessage": "Heartbeat"})
    await next_call(communicator)

    command = await finished(command)
    assert (command.state, command.response) == ("timeout", None)
    assert command.detail == "No answer within 0.2 s."
    await communicator.disconnect()


async def test_a_command_in_flight_fails_when_the_station_disconnects(station):
    communicator = await open_station()

    command = await send(station, "GetLocalListVersion")
    await next_call(communicator)
    await communicator.disconnect()

    command = await finished(command)
    assert command.state == "failed"
    assert command.detail == "The station disconnected before answering."


async def test_commands_queue_and_each_gets_its_own_answer(station):
    communicator = await open_station()

    first = await send(station, "ClearCache")
    second = await send(station, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    _, first_id, first_action, _ = await next_call(communicator)
    # One call at a time: the second leaves only once the first is answered.
    assert await communicator.receive_nothing(timeout=0.1)
    await answer(communicator, first_id, {"status": "Accepted"})
    _, second_id, second_action, _ = await next_call(communicator)
    await answer(communicator, second_id, {"status": "Scheduled"})

    first, second = await finished(first), await finished(second)
    assert (first_action, second_action) == ("ClearCache", "ChangeAvailability")
    assert (first.state, second.state, second.ocpp_status) == ("accepted", "accepted", "Scheduled")
    await communicator.disconnect()


async def test_the_station_s_own_calls_are_answered_while_a_command_awaits_its_answer(station):
    communicator = await open_station()

    command = await send(station, "GetConfiguration")
    _, unique_id, *_ = await next_call(communicator)
    await communicator.send_to(text_data=json.dumps([2, "hb-1", "Heartbeat", {}]))
    heartbeat = json.loads(await communicator.receive_from(timeout=5))
    await answer(communicator, unique_id, {"configurationKey": []})

    assert heartbeat[:2] == [3, "hb-1"]
    assert (await finished(command)).state == "accepted"
    rows = await log_rows()
    assert [(r.direction, r.message_type, r.unique_id, r.action) for r in rows] == [
        ("out", 2, unique_id, "GetConfiguration"),
        ("in", 2, "hb-1", "Heartbeat"),
        ("out", 3, "hb-1", "Heartbeat"),
        ("in", 3, unique_id, "GetConfiguration"),
    ]
    await communicator.disconnect()


async def test_a_station_that_is_not_connected_fails_at_once_and_the_attempt_is_recorded(
    station,
):
    with pytest.raises(StationNotConnected) as offline:
        await send(station, "Reset", {"type": "Soft"})

    command = await reload(offline.value.command)
    assert command.state == "failed"
    assert command.detail == "CP-CMD is not connected."
    assert command.completed_at is not None


async def test_commands_of_a_lost_connection_fail_when_the_station_reconnects(station):
    @database_sync_to_async
    def sent_on_a_connection_that_died():
        Station.objects.filter(pk=station.pk).update(connection_state="connected")
        return Command.objects.create(
            station=station, action="ClearCache", payload={}, state=CommandState.SENT
        )

    orphan = await sent_on_a_connection_that_died()
    communicator = await open_station()

    orphan = await finished(orphan)
    assert orphan.state == "failed"
    assert "reconnected" in orphan.detail
    await communicator.disconnect()
