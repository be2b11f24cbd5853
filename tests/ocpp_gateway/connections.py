"""Stations connected through Channels' test communicator, for the protocol tests."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from stations.models import ConnectionState, Station
from supervision.asgi import application


async def open_station(charge_point_id: str, subprotocols=("ocpp1.6",)) -> WebsocketCommunicator:
    """A station's connection, once the supervision has recorded it. The consumer accepts the
    upgrade before it records anything (a station gone meanwhile leaves nothing behind): a
    test that calls a service before the station's first frame waits for the record, as the
    station's first frame would."""
    communicator = WebsocketCommunicator(
        application, f"/ocpp/{charge_point_id}", subprotocols=list(subprotocols)
    )
    connected, _ = await communicator.connect()
    assert connected
    await until_recorded(charge_point_id)
    return communicator


async def until_recorded(charge_point_id: str) -> None:
    """Return once the station's connection is recorded (at most 5 s)."""

    @database_sync_to_async
    def recorded() -> bool:
        return Station.objects.filter(
            charge_point_id=charge_point_id, connection_state=ConnectionState.CONNECTED
        ).exists()

    deadline = asyncio.get_running_loop().time() + 5
    while not await recorded():
        assert asyncio.get_running_loop().time() < deadline, "the connection was not recorded"
        await asyncio.sleep(0.01)
