"""The logged connection, the choke point every frame crosses: our own calls and the station's
answers to them are logged with the right action, without disturbing the station's call being
handled at the same moment."""

import json

import pytest
from channels.db import database_sync_to_async

from ocpp_gateway.models import OcppMessage
from ocpp_gateway.transport.connection import LoggedConnection
from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.transport.message_log import read_frame
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent():
    return []


@pytest.fixture
def connection(transactional_db, sent) -> LoggedConnection:
    station = StationFactory(charge_point_id="CP-LOG")

    async def send_text(text: str) -> None:
        sent.append(json.loads(text))

    return LoggedConnection(send_text=send_text, station_id=station.pk, charge_point_id="CP-LOG")


@database_sync_to_async
def rows():
    writer.flush()
    return [
        (row.direction, row.message_type, row.unique_id, row.action, row.reason)
        # In the order things happened (log ids are UUIDs, not a sequence).
        for row in OcppMessage.objects.order_by("created_at", "id")
    ]


async def test_our_call_while_the_station_s_call_is_handled_leaves_that_call_pending(
    connection, sent
):
    authorize = [2, "a1", "Authorize", {"idTag": "VID:A014310E004E"}]
    connection.received(read_frame(json.dumps(authorize)))
    # Our command leaves while the Authorize is being decided.
    await connection.send(json.dumps([2, "cmd-1", "ClearCache", {}]))
    connection.record_decision(
        accepted=False, ocpp_status="Invalid", reason="unknown_badge", id_tag="VID:A014310E004E"
    )
    await connection.send(json.dumps([3, "a1", {"idTagInfo": {"status": "Invalid"}}]))
    connection.received(read_frame(json.dumps([3, "cmd-1", {"status": "Accepted"}])))
    await connection.flush()

    assert [frame[1] for frame in sent] == ["cmd-1", "a1"]
    assert await rows() == [
        ("in", 2, "a1", "Authorize", "unknown_badge"),
        ("out", 2, "cmd-1", "ClearCache", ""),
        ("out", 3, "a1", "Authorize", ""),
        ("in", 3, "cmd-1", "ClearCache", ""),
    ]
    assert connection.answer_to("cmd-1") == (3, {"status": "Accepted"})
    assert connection.answer_to("cmd-1") is None


async def test_a_callerror_to_our_call_is_logged_with_our_action_and_kept_for_the_command(
    connection,
):
    await connection.send(json.dumps([2, "cmd-2", "Reset", {"type": "Soft"}]))
    connection.received(read_frame(json.dumps([4, "cmd-2", "NotSupported", "No reset", {}])))
    await connection.flush()

    assert (await rows())[-1] == ("in", 4, "cmd-2", "Reset", "")
    assert connection.answer_to("cmd-2") == (
        4,
        {"errorCode": "NotSupported", "errorDescription": "No reset", "errorDetails": {}},
    )


async def test_an_answer_to_a_call_we_never_made_is_logged_without_an_action(connection):
    connection.received(read_frame(json.dumps([3, "stray", {"status": "Accepted"}])))
    await connection.flush()

    assert await rows() == [("in", 3, "stray", "", "")]
    assert connection.answer_to("stray") is None
