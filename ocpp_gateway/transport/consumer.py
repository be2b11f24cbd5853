"""The WebSocket consumer stations connect to: ``/ocpp/<charge_point_id>``.

It owns the socket and decides who may open it before the upgrade (``handshake``): 404 for an
unknown station, 401 for wrong credentials, 400 without an ``ocpp2.0.1`` or ``ocpp1.6``
subprotocol; the protocol chosen decides which version's charge point handles the frames. One live
connection per station: a new one replaces the old, which is closed. Each frame goes to the
``ocpp`` library through the logged connection; frames over ``OCPP_MAX_FRAME_BYTES`` close the
connection (1009), and a station sending faster than ``OCPP_RATE_PER_SECOND`` is slowed down,
its calls dropped when it is far over, and disconnected (1008) if it keeps it up, so it cannot
starve the others (``rate_limit``: per station, across its reconnections).

Commands and operations recorded by any server process reach the one holding the socket through
the station's channel-layer group, which the process's one channel joins for it
(``local_stations``); the consumer hands them to its runner, never awaiting a call to the
station itself (the answer is a frame it could not read meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop
from ocpp.exceptions import OCPPError
from ocpp.messages import CallError, unpack
from uvicorn.protocols.utils import ClientDisconnected

from ocpp_gateway.operations import procedures
from ocpp_gateway.operations.station_runner import StationRunner
from ocpp_gateway.transport import metrics
from ocpp_gateway.transport.connection import LoggedConnection
from ocpp_gateway.transport.handshake import CHARGE_POINTS, Admission, Refusal, admit
from ocpp_gateway.transport.local_stations import local_stations
from ocpp_gateway.transport.message_log import looks_like_an_answer, message_id_of, read_frame
from ocpp_gateway.transport.protocol_errors import log_unreadable_frame
from ocpp_gateway.transport.rate_limit import Verdict, is_an_answer, station_rate_limits
from ocpp_gateway.transport.services import station_record_connection
from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.upstream import ConsumerWithoutConnectionHop, forget_handshake
from ocpp_gateway.versions.common import GatewayChargePoint
from stations.models import CloseReason
from stations.services import station_connection_close
from supervision.log_format import station_in_context
from supervision.websocket_denial import send_denial

logger = logging.getLogger(__name__)


# WebSocket close codes (RFC 6455).
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_REPLACED = 4000  # private range: a newer connection of the same station took over


# Close codes uvicorn reports: the server is stopping (going away), or the TCP connection was
# lost without a close frame.
CLOSE_SERVICE_RESTART = 1012
CLOSE_ABNORMAL = 1006


_slots: tuple[asyncio.AbstractEventLoop, int, asyncio.Semaphore] | None = None


def _connecting_slots() -> asyncio.Semaphore:
    """The process's slots for connections being opened (made again for another event loop or
    setting: tests run several, one after the other)."""
    global _slots
    loop, size = asyncio.get_running_loop(), settings.OCPP_CONNECTING_AT_ONCE
    if _slots is None or _slots[:2] != (loop, size):
        _slots = (loop, size, asyncio.Semaphore(size))
    return _slots[2]


def _close_reason(code: int | None, *, replaced: bool) -> CloseReason:
    if replaced or code == CLOSE_REPLACED:
        return CloseReason.REPLACED
    if code == CLOSE_SERVICE_RESTART:
        return CloseReason.SERVER_STOPPED
    if code in (CLOSE_POLICY_VIOLATION, CLOSE_TOO_BIG):
        return CloseReason.POLICY
    if code == CLOSE_ABNORMAL or code is None:
        return CloseReason.NETWORK
    return CloseReason.STATION


class OcppConsumer(ConsumerWithoutConnectionHop, AsyncWebsocketConsumer):
    charge_point: GatewayChargePoint | None = None
    replaced = False
    flooding = False  # cut off for sending too fast (rate_limit)
    # Channel-layer messages come from the process's task (local_stations), between the
    # socket's events: a close they ask for while an event is handled waits for its end, so
    # the answer to the frame (or the handshake's) is not sent on a closed socket.
    handling_event = False
    close_code_after_event: int | None = None
    closed = False
    connection_id: str | None = None  # names this connection (takeovers, the station's row)
    finished = False
    counted_as: str | None = None  # the OCPP version it counts for in the metrics

    async def __call__(self, scope, receive, send) -> None:
        # Channels' own loop gives each consumer a channel-layer channel and reads it and the
        # socket with two tasks and an asyncio.wait per message; the process's stations share
        # one channel instead, so only the socket is read here, one event after the other.
        self.scope, self.base_send = scope, send
        # The server-log lines of this connection's task name its station (its id once known).
        station_in_context(scope["url_route"]["kwargs"]["charge_point_id"])
        self.channel_layer = get_channel_layer()
        try:
            while True:
                message = await receive()
                self.handling_event = True
                try:
                    await self.dispatch(message)
                finally:
                    self.handling_event = False
                if self.close_code_after_event is not None:
                    await self.close(code=self.close_code_after_event)
        except (StopConsumer, ClientDisconnected):  # the latter: gone while we answered
            pass
        finally:
            # However the connection ended (even by an error of ours), it ends here, once.
            await self._finish(None)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        # Once: a takeover may ask while the connection is already closing (1008, 1009).
        if not self.closed:
            self.closed = True
            await super().close(code=code, reason=reason)

    async def connect(self) -> None:
        # At most OCPP_CONNECTING_AT_ONCE connections of the process between their handshake
        # and their recorded connection: after a restart, thousands wait their turn before any
        # of their work starts, rather than all holding it half done at once, and the storm
        # leaves less memory behind (bench/README.md: a third less a station).
        async with _connecting_slots():
            admission = await admit(self.scope)
            if not isinstance(admission, Refusal):
                await self._open(admission)
                return
        if admission.status in (400, 404):  # the others are logged by the admission
            logger.warning(
                "%s refused: %s",
                self.scope["url_route"]["kwargs"]["charge_point_id"],
                admission.reason,
            )
        # Out of the slots: wrong passwords waiting for their answer keep no station waiting.
        await admission.wait()
        await self._refuse(admission)

    async def _open(self, admission: Admission) -> None:
        """Accept the connection, make what serves it, and record it."""
        station = admission.station
        try:
            await self.accept(admission.subprotocol)
        except ClientDisconnected:
            # The station gave up waiting before the upgrade completed: nothing happened, no
            # connection, no takeover, nothing recorded.
            raise StopConsumer() from None
        forget_handshake(self.scope, self.base_send)
        charge_point_id = station.charge_point_id
        self.connection_id = uuid.uuid4().hex
        self.connection = LoggedConnection(
            send_text=self._send_text, station_id=station.pk, charge_point_id=charge_point_id
        )
        self.charge_point = CHARGE_POINTS[admission.subprotocol](
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
        self.charge_point.run_later = self.runner.submit
        self.station_id = station.pk
        station_in_context(charge_point_id, station.pk)
        self.counted_as = admission.subprotocol.removeprefix("ocpp")
        metrics.stations_connected.labels(self.counted_as).inc()
        await local_stations().register(self)
        recorded = await shared_transactions.run(
            station_record_connection,
            station=station,
            protocol=admission.subprotocol.removeprefix("ocpp"),
            connection_id=self.connection_id,
            remote_address=admission.address,
            connected_at=timezone.now(),
        )
        if recorded.takeover:
            # Whichever process holds the older connection closes it (see station_takeover).
            await local_stations().send_to_station(
                station.pk, {"type": "station.takeover", "by": self.connection_id}
            )
        self.runner.start()
        self.runner.submit(
            lambda: procedures.catch_up(self.runner, owes_clear_cache=recorded.owes_clear_cache)
        )

    async def _refuse(self, refusal: Refusal) -> None:
        """Answer the handshake with the refusal's HTTP status (daphne always answers 403)."""
        self.closed = True  # refused: nothing more to close
        await send_denial(
            self.scope,
            self.base_send,
            status=refusal.status,
            body=refusal.reason.encode(),
            headers=refusal.headers,
        )

    async def disconnect(self, code: int) -> None:
        await self._finish(code)

    async def _finish(self, code: int | None) -> None:
        """End the connection's life in the supervision, once, however it ended: no more
        messages for it, its jobs stopped, its log written, and the station disconnected if
        this was still its live connection."""
        if self.charge_point is None or self.finished:
            return
        self.finished = True
        try:
            await local_stations().unregister(self)
            await self.runner.stop(
                detail=gettext_noop("The station disconnected before answering.")
            )
            # Its log complete before it is called disconnected, including a call the runner
            # made while this was on its way (a test's flush raced such a row on PostgreSQL).
            await self.connection.written()
            await database_sync_to_async(station_connection_close)(
                station=self.charge_point.station,
                connection_id=self.connection_id,
                reason=_close_reason(code, replaced=self.replaced),
                code=code,
            )
        finally:
            # Counted until its last write is done: a connected count of 0 means this process
            # has nothing more to write for its stations (what a test waits for, on PostgreSQL).
            if self.counted_as is not None:
                metrics.stations_connected.labels(self.counted_as).dec()

    # --- Channel-layer messages (see ocpp_gateway.operations) ---------------------------------

    async def station_takeover(self, message: dict[str, Any]) -> None:
        if message["by"] == self.connection_id or self.replaced:
            return
        self.replaced = True
        if self.handling_event:
            self.close_code_after_event = CLOSE_REPLACED
        else:
            await self.close(code=CLOSE_REPLACED)

    # A replaced connection leaves what it is told to the newer one (in the same process, both
    # hear it; a command is run once either way: command_claim).

    async def station_command(self, message: dict[str, Any]) -> None:
        if not self.replaced:
            self.runner.submit_command(message["command"])

    async def station_autocharge(self, message: dict[str, Any]) -> None:
        if self.replaced:
            return
        self.runner.submit(
            lambda: procedures.enable_autocharge(
                self.runner, requested_by_id=message.get("requested_by")
            )
        )

    async def station_local_list(self, message: dict[str, Any]) -> None:
        if self.replaced:
            return
        self.runner.submit(
            lambda: procedures.sync_local_list(
                self.runner, full=message["full"], requested_by_id=message.get("requested_by")
            )
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.flooding:  # frames sent before it learnt it was cut off: not even logged
            return
        text = text_data if text_data is not None else bytes_data.decode("utf-8", "replace")
        if len(text) > settings.OCPP_MAX_FRAME_BYTES or (
            len(text.encode("utf-8", "replace")) > settings.OCPP_MAX_FRAME_BYTES
        ):
            # Logged by its beginning: enough to see what it was, not a way to fill the log.
            self.connection.received(read_frame(text[:1024]))
            await self.connection.flush()
            await self.close(code=CLOSE_TOO_BIG)
            return
        # Per station, whichever of its connections sent it (rate_limit): frames are handled
        # one at a time, so waiting is what slows the station down.
        admission = station_rate_limits.admit(
            self.charge_point.id,
            rate=settings.OCPP_RATE_PER_SECOND,
            burst=settings.OCPP_RATE_BURST,
            max_delay=settings.OCPP_RATE_MAX_DELAY_SECONDS,
            answer=is_an_answer(text),
        )
        if admission.verdict is Verdict.DISCONNECT:
            self.flooding = True
            logger.warning("%s disconnected: sending too fast", self.charge_point.station)
            self.connection.received(read_frame(text))
            await self.connection.flush()
            await self.close(code=CLOSE_POLICY_VIOLATION)
            return
        if admission.verdict is Verdict.DROP:
            # Counted, not logged one by one: a flood must not fill the message log.
            unique_id = message_id_of(text)
            if unique_id:
                await self._send_text(
                    CallError(unique_id, "GenericError", "rate limit exceeded", {}).to_json()
                )
            return
        if admission.delay:
            # The station's next frames wait in its socket meanwhile.
            await asyncio.sleep(admission.delay)
        # Parsed once, here: the log and the library share it.
        frame = read_frame(text, keep_message_id=True)
        request = self.connection.received(frame)
        if request.message_type is None:
            await self._answer_unreadable(frame.text)
        else:
            await self.charge_point.route_frame(
                self.charge_point.adjust_frame(
                    frame.value, request.message_type, request.action, request.payload
                )
            )
        await self.connection.flush()

    async def _answer_unreadable(self, text: str) -> None:
        """The library drops frames it cannot unpack; OCPP-J wants a CALLERROR whenever the
        message id of a call can be read (a malformed answer to our call gets none), and
        OCPP-J 2.0.1 even when it cannot, with the message id "-1"."""
        station = self.charge_point.id
        if looks_like_an_answer(text):
            log_unreadable_frame(charge_point_id=station, code=None, cause="a malformed answer")
            return
        # Whole: the log keeps only its first 64 characters.
        unique_id = message_id_of(text) or self.charge_point.UNREADABLE_MESSAGE_ID
        if not unique_id:
            log_unreadable_frame(charge_point_id=station, code=None, cause="no message id")
            return
        try:
            unpack(text)
        except RecursionError:
            log_unreadable_frame(charge_point_id=station, code=None, cause="nested too deep")
            return
        except OCPPError as error:
            code, description, details = (
                self.charge_point.unreadable_error_code(error),
                error.description,
                error.details,
            )
        else:
            code = self.charge_point.unreadable_error_code(None)
            description, details = "Not strict JSON.", {}
        log_unreadable_frame(
            charge_point_id=station, code=code, cause=str(details.get("cause") or description)
        )
        await self.connection.send(CallError(unique_id, code, description, details).to_json())

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)
