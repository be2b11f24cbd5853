"""The one choke point every frame crosses, in and out: it records the frame in the message log.

The ``ocpp`` library only needs an object with ``send()``; this is it. The consumer owns the
socket and gives us its send function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from ocpp_gateway.message_log import log_entry
from ocpp_gateway.models import Direction, LogStatus, OcppMessage
from ocpp_gateway.services import message_log_write


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
        # The frame being handled, logged together with its answer (one INSERT) just before
        # the answer leaves, so the log is committed before the station hears back.
        self._pending: OcppMessage | None = None

    def received(self, text: str) -> OcppMessage:
        entry = log_entry(
            text=text,
            direction=Direction.IN,
            station_id=self._station_id,
            charge_point_id=self._charge_point_id,
        )
        self._pending = entry
        return entry

    @property
    def request_id(self):
        """The log id of the frame being handled, known before the row is written."""
        return self._pending.id if self._pending is not None else None

    def record_decision(
        self, *, accepted: bool, ocpp_status: str, reason: str, id_tag: str
    ) -> None:
        """Note an authorization outcome on the request being handled."""
        if self._pending is not None:
            self._pending.status = LogStatus.ACCEPTED if accepted else LogStatus.REJECTED
            self._pending.ocpp_status = ocpp_status
            self._pending.reason = reason
            self._pending.id_tag = id_tag

    async def send(self, text: str) -> None:
        entries = self._take_pending()
        answering = entries[0] if entries else None
        entries.append(
            log_entry(
                text=text,
                direction=Direction.OUT,
                station_id=self._station_id,
                charge_point_id=self._charge_point_id,
                answering=answering,
            )
        )
        await database_sync_to_async(message_log_write)(entries=entries)
        await self._send_text(text)

    async def flush(self) -> None:
        """Log the received frame if nothing answered it (a CALLRESULT, an unreadable frame)."""
        entries = self._take_pending()
        if entries:
            await database_sync_to_async(message_log_write)(entries=entries)

    def _take_pending(self) -> list[OcppMessage]:
        pending, self._pending = self._pending, None
        return [pending] if pending is not None else []
