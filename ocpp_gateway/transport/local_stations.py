"""The stations this server process holds, reached through one channel-layer channel.

Commands and operations recorded by any process are sent to the station's group
(``commands.station_group``); the process holding the station's socket must be in it. Channels'
consumer would give each connection a channel of its own, with a queue and a task reading it.
Here the process has one channel, in the group of every station it holds, and one task reading
it, which hands each message to the local connections of the station the message names
(``message["station"]``, its primary key).

The process joins a station's group when it gets its first connection of that station and
leaves it when the last one goes: a connection replaced by a newer one of the same station in
the same process must not take the newer one's commands away.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from ocpp_gateway.operations.commands import station_group

logger = logging.getLogger(__name__)


class StationConnection(Protocol):
    station_id: int
    connection_id: str | None
    replaced: bool

    async def dispatch(self, message: dict[str, Any]) -> None: ...


class LocalStations:
    """The connections of one event loop (a server process runs one), by station."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self._layer = layer
        self.channel = ""  # made by the first connection
        self._connections: dict[int, list[StationConnection]] = {}
        self._joined: set[int] = set()  # stations whose group has the process channel
        # Joining and leaving a station's group, one at a time per station: a leave still on
        # its way must not undo the join of a station's next connection.
        self._membership_locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._tasks: list[asyncio.Task] = []
        # A group could not be joined or the channel read (Redis away): join every group again
        # once the layer answers (the gateway's lifespan watches Redis).
        self.needs_rejoin = False

    async def register(self, connection: StationConnection) -> None:
        """Deliver the station's messages to ``connection`` from now on, and have the station's
        group reach this process (once joined, this returns)."""
        if not self.channel:
            try:
                await self._open_channel()
            except Exception:  # the channel layer is down: the connection goes on without it
                logger.warning("The stations' channel could not be opened; again later")
                self.needs_rejoin = True
                self._connections.setdefault(connection.station_id, []).append(connection)
                return
        self._connections.setdefault(connection.station_id, []).append(connection)
        await self._update_membership(connection.station_id)

    async def unregister(self, connection: StationConnection) -> None:
        connections = self._connections.get(connection.station_id, [])
        if connection not in connections:
            return
        connections.remove(connection)
        if not connections:
            self._connections.pop(connection.station_id, None)
        await self._update_membership(connection.station_id)

    def live_connections(self) -> list[StationConnection]:
        return [
            connection
            for connections in self._connections.values()
            for connection in connections
            if not connection.replaced
        ]

    def connection_of(self, station_id: int, connection_id: str) -> StationConnection | None:
        """The local connection with this id, if it is here and still the station's."""
        for connection in self._connections.get(station_id, ()):
            if connection.connection_id == connection_id and not connection.replaced:
                return connection
        return None

    async def send_to_station(self, station_id: int, message: dict[str, Any]) -> None:
        """Hand ``message`` to the station's connections here and, through its group, in every
        other process. Those here get it even when the channel layer is down."""
        message = {**message, "station": station_id}
        await self._dispatch(message)
        try:
            await self._layer.group_send(station_group(station_id), message)
        except Exception:
            logger.warning("Station %s: %s not sent to other processes", station_id, message)

    async def rejoin(self) -> None:
        """Join again the group of every station held here: the channel layer lost its
        memberships (Redis restarted, failed over, or was away)."""
        if not self.channel:
            await self._open_channel()
        self.needs_rejoin = False
        for station_id in list(self._connections):
            async with self._membership(station_id):
                self._joined.discard(station_id)
            await self._update_membership(station_id)
        logger.warning("Rejoined the channel-layer groups of %d stations", len(self._joined))

    async def _open_channel(self) -> None:
        # Channels' default prefix: channels-redis reads all of a process's channels through
        # one list and one reader, and a channel of another prefix starved the others (the
        # portal's live pages waited for its reads to time out).
        channel = await self._layer.new_channel()
        if self.channel:  # another connection opened it meanwhile
            return
        self.channel = channel
        self._tasks = [
            asyncio.create_task(self._deliver()),
            asyncio.create_task(self._refresh_memberships()),
        ]

    async def _update_membership(self, station_id: int) -> None:
        # A channel layer that is down must not keep a station from connecting: it is joined
        # again once the layer is back (``rejoin``), and its commands meanwhile come from the
        # database (the gateway's command sweep).
        async with self._membership(station_id):
            wanted = station_id in self._connections
            try:
                if wanted and station_id not in self._joined:
                    await self._layer.group_add(station_group(station_id), self.channel)
                    self._joined.add(station_id)
                elif not wanted and station_id in self._joined:
                    self._joined.discard(station_id)
                    await self._layer.group_discard(station_group(station_id), self.channel)
            except Exception:
                self.needs_rejoin = True
                logger.warning("Station %s: channel-layer group not updated", station_id)

    @asynccontextmanager
    async def _membership(self, station_id: int) -> AsyncIterator[None]:
        # A lock exists only while someone uses it: most stations never wait for one.
        if station_id not in self._membership_locks:
            self._membership_locks[station_id] = (asyncio.Lock(), [0])
        lock, users = self._membership_locks[station_id]
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._membership_locks[station_id]

    async def _deliver(self) -> None:
        failing = False
        while True:
            try:
                message = await self._layer.receive(self.channel)
            except Exception as error:  # Redis away: this task is every station's only way in
                if not failing:  # once per outage, not every second of it
                    logger.warning("The stations' channel cannot be read (%s); retrying", error)
                    self.needs_rejoin = True
                failing = True
                await asyncio.sleep(1)
                continue
            failing = False
            await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        # A copy: a connection closing may unregister while its message is handled.
        for connection in list(self._connections.get(message.get("station"), ())):
            try:
                await connection.dispatch(message)
            except Exception:
                logger.exception("Station %s: %s not handled", connection.station_id, message)

    async def _refresh_memberships(self) -> None:
        # Channels ends a group membership after its group_expiry (a day by default), however
        # alive the channel: a station connected for longer would stop receiving commands.
        while True:
            await asyncio.sleep(settings.OCPP_GROUP_REFRESH_SECONDS)
            for station_id in list(self._joined):
                async with self._membership(station_id):
                    if station_id not in self._joined:
                        continue
                    try:
                        await self._layer.group_add(station_group(station_id), self.channel)
                    except Exception:
                        logger.exception("Station %s: its group was not joined again", station_id)


# One per event loop: the tests run several loops in one process, and a task or a layer's queue
# belongs to the loop it was made in.
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalStations] = (
    weakref.WeakKeyDictionary()
)


def local_stations() -> LocalStations:
    """The running event loop's stations."""
    loop = asyncio.get_running_loop()
    stations = _by_loop.get(loop)
    if stations is None:
        stations = _by_loop[loop] = LocalStations(get_channel_layer())
    return stations
