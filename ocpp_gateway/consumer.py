"""The WebSocket consumer stations connect to: ``/ocpp/<charge_point_id>``.

It owns the socket, refuses unknown stations and foreign subprotocols before the upgrade, and
hands each frame to the ``ocpp`` library through the logged connection.

It also joins the station's channel-layer group, so commands and operations recorded by any
server process reach the one holding the socket; it hands them to its runner, never awaiting a
call to the station itself (the answer is a frame it could not read meanwhile).
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from ocpp.exceptions import OCPPError
from ocpp.messages import CallError, unpack

from ocpp_gateway import procedures
from ocpp_gateway.commands import commands_fail_orphaned, station_group
from ocpp_gateway.connection import LoggedConnection
from ocpp_gateway.runner import StationRunner
from ocpp_gateway.services import station_for_connection
from ocpp_gateway.v16.charge_point import (
    SUBPROTOCOL,
    CentralSystemChargePoint,
    tolerate_long_vid_tag,
)
from stations.services import station_set_connected

logger = logging.getLogger(__name__)


class OcppConsumer(AsyncWebsocketConsumer):
    charge_point: CentralSystemChargePoint | None = None

    async def connect(self) -> None:
        charge_point_id = self.scope["url_route"]["kwargs"]["charge_point_id"]
        if SUBPROTOCOL not in self.scope.get("subprotocols", []):
            logger.warning("%s refused: no %s subprotocol offered", charge_point_id, SUBPROTOCOL)
            await self.close()
            return
        station = await database_sync_to_async(station_for_connection)(
            charge_point_id=charge_point_id
        )
        if station is None:
            logger.warning("%s refused: unknown station", charge_point_id)
            await self.close()
            return
        self.connection = LoggedConnection(
            send_text=self._send_text, station_id=station.pk, charge_point_id=charge_point_id
        )
        self.charge_point = CentralSystemChargePoint(
            station=station,
            connection=self.connection,
            response_timeout=settings.OCPP_RESPONSE_TIMEOUT,
        )
        self.runner = StationRunner(
            station=station,
            charge_point=self.charge_point,
            connection=self.connection,
            response_timeout=settings.OCPP_RESPONSE_TIMEOUT,
        )
        self.charge_point.after_boot = lambda: self.runner.submit(
            lambda: procedures.after_boot(self.runner)
        )
        self.group = station_group(station.pk)
        connected_at = timezone.now()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(SUBPROTOCOL)
        await database_sync_to_async(station_set_connected)(station=station, connected=True)
        await database_sync_to_async(commands_fail_orphaned)(
            station=station,
            before=connected_at,
            detail="The station reconnected before answering: the command was lost with the "
            "previous connection.",
        )
        self.runner.start()
        self.runner.submit(lambda: procedures.catch_up(self.runner))

    async def disconnect(self, code: int) -> None:
        if self.charge_point is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.runner.stop(detail="The station disconnected before answering.")
            await database_sync_to_async(station_set_connected)(
                station=self.charge_point.station, connected=False
            )

    # --- Channel-layer messages (see ocpp_gateway.commands and .operations) -----------------

    async def station_command(self, message: dict[str, Any]) -> None:
        self.runner.submit_command(message["command"])

    async def station_autocharge(self, message: dict[str, Any]) -> None:
        self.runner.submit(
            lambda: procedures.enable_autocharge(
                self.runner, requested_by_id=message.get("requested_by")
            )
        )

    async def station_local_list(self, message: dict[str, Any]) -> None:
        self.runner.submit(
            lambda: procedures.sync_local_list(
                self.runner, full=message["full"], requested_by_id=message.get("requested_by")
            )
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        text = text_data if text_data is not None else bytes_data.decode("utf-8", "replace")
        request = self.connection.received(text)
        if request.message_type is None:
            await self._answer_unreadable(text, request.unique_id)
        else:
            await self.charge_point.route_message(
                tolerate_long_vid_tag(text, request.message_type, request.action, request.payload)
            )
        await self.connection.flush()

    async def _answer_unreadable(self, text: str, unique_id: str) -> None:
        """The library drops frames it cannot unpack; OCPP-J wants a CALLERROR whenever the
        message id can be read."""
        if not unique_id:
            return
        try:
            unpack(text)
        except OCPPError as error:
            await self.connection.send(
                CallError(unique_id, error.code, error.description, error.details).to_json()
            )

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)
