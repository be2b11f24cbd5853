"""The process's stations behind one channel-layer channel
(``ocpp_gateway.transport.local_stations``), through the real ASGI application: what reaches
which connection, takeovers within the process, a close asked while a frame is handled, and
group memberships that outlive the layer's expiry."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from ocpp_gateway.models import CommandState
from ocpp_gateway.operations.commands import station_group
from ocpp_gateway.transport.consumer import CLOSE_REPLACED
from ocpp_gateway.transport.local_stations import local_stations
from ocpp_gateway.versions.common import GatewayChargePoint
from stations.models import ConnectionState
from tests.factories import StationFactory
from tests.ocpp_gateway.test_commands import finished, open_station, reload, send

pytestmark = pytest.mark.django_db(transaction=True)


def in_memory_layer(settings, **config) -> None:
    """The embedded default's layer, whose groups a test can read (also under REDIS_URL)."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "ocpp_gateway.upstream.SweptInMemoryChannelLayer",
            "CONFIG": {"channel_capacity": settings.STATIONS_CHANNEL_CAPACITY, **config},
        }
    }


async def answered(communicator: WebsocketCommunicator, action: str, payload: dict) -> None:
    """Receive our call of ``action`` and answer it."""
    frame = json.loads(await communicator.receive_from(timeout=5))
    assert frame[0::2] == [2, action], frame
    await communicator.send_to(text_data=json.dumps([3, frame[1], payload]))


async def test_the_process_stations_share_one_channel_and_each_gets_its_own_messages(
    transactional_db, settings
):
    in_memory_layer(settings)
    first = await database_sync_to_async(StationFactory)(charge_point_id="CP-ONE")
    second = await database_sync_to_async(StationFactory)(charge_point_id="CP-TWO")
    first_socket, second_socket = await open_station("CP-ONE"), await open_station("CP-TWO")

    command = await send(second, "GetLocalListVersion")
    await answered(second_socket, "GetLocalListVersion", {"listVersion": 3})

    assert (await finished(command)).response == {"listVersion": 3}
    assert await first_socket.receive_nothing()
    groups = get_channel_layer().groups
    assert (
        set(groups[station_group(first.pk)])
        == set(groups[station_group(second.pk)])
        == {local_stations().channel}
    )
    await first_socket.disconnect()
    assert station_group(first.pk) not in get_channel_layer().groups
    await second_socket.disconnect()


async def test_a_second_connection_in_the_process_replaces_the_first_and_gets_the_commands(
    transactional_db,
):
    station = await database_sync_to_async(StationFactory)(charge_point_id="CP-TWICE")
    old = await open_station("CP-TWICE")

    new = await open_station("CP-TWICE")

    assert await old.receive_output(timeout=5) == {"type": "websocket.close", "code": 4000}
    await old.disconnect(code=CLOSE_REPLACED)  # the station's goodbye
    assert (await reload(station)).connection_state == ConnectionState.CONNECTED
    # The old connection leaving did not take the process out of the station's group.
    command = await send(station, "ClearCache")
    await answered(new, "ClearCache", {"status": "Accepted"})
    assert (await finished(command)).state == CommandState.ACCEPTED
    await new.disconnect()
    assert (await reload(station)).connection_state == ConnectionState.DISCONNECTED


async def test_a_takeover_during_a_frame_closes_the_old_connection_after_its_answer(
    transactional_db, monkeypatch
):
    await database_sync_to_async(StationFactory)(charge_point_id="CP-BUSY")
    handling, release = asyncio.Event(), asyncio.Event()
    current_station = GatewayChargePoint.current_station

    async def held_current_station(self):
        handling.set()
        await release.wait()
        return await current_station(self)

    monkeypatch.setattr(GatewayChargePoint, "current_station", held_current_station)
    old = await open_station("CP-BUSY")
    await old.send_to(text_data=json.dumps([2, "a1", "Authorize", {"idTag": "NOBODY"}]))
    await asyncio.wait_for(handling.wait(), timeout=5)

    new = await open_station("CP-BUSY")  # its takeover reaches the old one mid-frame
    assert await old.receive_nothing(timeout=0.2)
    release.set()

    answer = json.loads(await old.receive_from(timeout=5))
    assert answer == [3, "a1", {"idTagInfo": {"status": "Invalid"}}]
    assert await old.receive_output(timeout=5) == {"type": "websocket.close", "code": 4000}
    await old.disconnect(code=CLOSE_REPLACED)
    await new.disconnect()


async def test_the_process_joins_its_stations_groups_again_before_they_expire(
    transactional_db, settings
):
    in_memory_layer(settings, group_expiry=1)
    settings.OCPP_GROUP_REFRESH_SECONDS = 0.2
    station = await database_sync_to_async(StationFactory)(charge_point_id="CP-LONG")
    socket = await open_station("CP-LONG")

    await asyncio.sleep(2.5)  # more than the group expiry (the layer counts whole seconds)
    command = await send(station, "GetLocalListVersion")

    await answered(socket, "GetLocalListVersion", {"listVersion": 0})
    assert (await finished(command)).state == CommandState.ACCEPTED
    await socket.disconnect()
