"""The one choke point every frame crosses, in and out: it records the frame in the message log.

The ``ocpp`` library only needs an object with ``send()``; this is it. The consumer owns the
socket and gives us its send function.

Two conversations share the socket: the station's calls, which we answer, and our own calls
(commands), which the station answers. A station's call is logged together with our answer;
our call is logged as it leaves, and the station's answer to it, which does not repeat the
action, is logged with the action of our call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ocpp_gateway.models import Direction, LogStatus, MessageType
from ocpp_gateway.transport import metrics
from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.transport.message_log import Frame, LogRow, log_entry

# Our calls awaiting an answer, remembered by message id; bounded, because a station may never
# answer. The library sends one call at a time, so a handful is already generous.
_CALLS_REMEMBERED = 64


class LoggedConnection:
    def __init__(
        self,
        *,
        send_text: Callable[[str], Awaitable[None]],
        station_id: int,
        charge_point_id: str,
    ) -> None:
        self._send_text = send_text
        self._station_id = station_id
        self._charge_point_id = charge_point_id
        # The frame being handled, queued for the log together with its answer (the process's
        # writer stores them in batches, see log_writer); the answer does not wait for it.
        self._pending: LogRow | None = None
        self._pending_since = 0.0  # when the frame being handled arrived (monotonic)
        self._last_row = 0  # the writer's number of our last row
        # Our calls in flight: message id → action, then the station's answer, read by the
        # command that made the call (the library only hands over a converted payload).
        self._calls: OrderedDict[str, str] = OrderedDict()
        self._answers: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def received(self, frame: Frame) -> LogRow:
        entry = log_entry(
            frame=frame,
            direction=Direction.IN,
            station_id=self._station_id,
            charge_point_id=self._charge_point_id,
        )
        if entry.message_type in (MessageType.CALL_RESULT, MessageType.CALL_ERROR):
            action = self._calls.pop(entry.unique_id, None)
            if action is not None:
                entry.action = action
                self._answers[entry.unique_id] = (entry.message_type, entry.payload)
                while len(self._answers) > _CALLS_REMEMBERED:  # late answers nobody reads
                    self._answers.popitem(last=False)
        self._pending, self._pending_since = entry, time.monotonic()
        return entry

    @property
    def request_id(self):
        """The log id of the frame being handled, known before the row is written."""
        return self._pending.id if self._pending is not None else None

    def answer_to(self, unique_id: str) -> tuple[int, Any] | None:
        """The station's answer to our call ``unique_id``: ``(message type, payload)``, the
        payload of a CALLERROR being its code, description and details; None if none came."""
        return self._answers.pop(unique_id, None)

    def record_decision(
        self, *, accepted: bool, ocpp_status: str, reason: str, id_tag: str
    ) -> None:
        """Note an authorization outcome on the request being handled."""
        if self._pending is not None:
            self._pending.status = LogStatus.ACCEPTED if accepted else LogStatus.REJECTED
            self._pending.ocpp_status = ocpp_status
            self._pending.reason = reason
            self._pending.id_tag = id_tag
            metrics.labelled(
                metrics.authorization_decisions, self._pending.action, ocpp_status, reason
            ).inc()

    async def send(self, text: str) -> None:
        entry = log_entry(
            text=text,
            direction=Direction.OUT,
            station_id=self._station_id,
            charge_point_id=self._charge_point_id,
            answering=self._pending,
        )
        if entry.message_type == MessageType.CALL:
            # Our own call, possibly while a station's call is being handled: that one stays
            # pending, to be logged with its own answer and decision.
            self._remember_call(entry.unique_id, entry.action)
            entries = [entry]
        elif self._pending is not None and self._pending.unique_id == entry.unique_id:
            metrics.labelled(
                metrics.handler_seconds, metrics.action_label(self._pending.action)
            ).observe(time.monotonic() - self._pending_since)
            entries = [*self._take_pending(), entry]
        else:
            entries = [entry]
        await self._log(entries)
        await self._send_text(text)

    def _remember_call(self, unique_id: str, action: str) -> None:
        self._calls[unique_id] = action
        while len(self._calls) > _CALLS_REMEMBERED:
            self._calls.popitem(last=False)

    async def flush(self) -> None:
        """Log the received frame if nothing answered it (a CALLRESULT, an unreadable frame)."""
        entries = self._take_pending()
        if entries:
            await self._log(entries)

    async def _log(self, entries: list[LogRow]) -> None:
        for entry in entries:
            metrics.labelled(
                metrics.frames, entry.direction, metrics.action_label(entry.action)
            ).inc()
        number = writer.put_nowait(entries)
        self._last_row = number if number is not None else await writer.put(entries)

    async def written(self) -> None:
        """Return once every frame of this connection so far is in the log."""
        await self.flush()
        await writer.written(self._last_row)

    def _take_pending(self) -> list[LogRow]:
        pending, self._pending = self._pending, None
        return [pending] if pending is not None else []
