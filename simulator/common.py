"""What the simulated stations of both versions answer alike: the calls whose answers OCPP 1.6
and 2.0.1 spell the same (ClearCache, Reset, TriggerMessage, UnlockConnector,
ChangeAvailability), reservations, and firmware updates with the progress they report; and the
log upload both versions make by HTTP.

A station, not part of the supervision: it imports only the ``ocpp`` library and the standard
library (an import-linter contract, ``pyproject.toml``).
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
import uuid
from types import ModuleType
from typing import Any

from ocpp.routing import after, on

# What a simulated station reports of a firmware update, in order, and of one whose download
# fails (``firmware_download_fails``): the statuses 1.6 and 2.0.1 share.
FIRMWARE_STEPS = ["Downloading", "Downloaded", "Installing", "Installed"]
FIRMWARE_FAILED_STEPS = ["Downloading", "DownloadFailed"]


def upload_log(url: str, *, content: bytes, file_name: str, multipart: bool) -> int:
    """Upload a log the way stations do: a multipart POST of the file, or a PUT of it; the
    HTTP status. Blocking: run it in a thread."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"The simulator uploads by HTTP only, not to {url!r}.")
    if multipart:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(  # noqa: S310 (HTTP checked above)
            url,
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    else:
        request = urllib.request.Request(  # noqa: S310 (HTTP checked above)
            f"{url}{file_name}", data=content, method="PUT"
        )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class SharedAnswers:
    """Mixed into each version's simulated station, before the library's ChargePoint.

    ``received`` holds every call the station got, ``(action, payload)`` with the payload in
    snake_case as the library hands it over. Test stations override a handler by defining a
    method of the same name (the library routes by attribute name)."""

    CALLS: ModuleType
    """The library's ``call`` module of the station's version."""
    CALL_RESULTS: ModuleType
    """The library's ``call_result`` module of the station's version."""
    RESERVATION_ID: str
    """The ReserveNow field naming the reservation: ``reservation_id`` (1.6), ``id`` (2.0.1)."""
    UPDATE_FIRMWARE_ANSWER: dict[str, str]
    """The UpdateFirmware answer's fields: none in 1.6, a status in 2.0.1."""

    def shared_answers_init(self, *, reservation_answer: str, firmware_download_fails: bool):
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.reservation_answer = reservation_answer  # to ReserveNow: Accepted, Occupied…
        self.reservations: set[int] = set()
        self.firmware_download_fails = firmware_download_fails
        self._tasks: set[asyncio.Task] = set()

    def calls(self, action: str) -> list[dict[str, Any]]:
        """The payloads of the calls of ``action`` received so far."""
        return [payload for name, payload in self.received if name == action]

    def _spawn(self, coroutine) -> None:
        # A task: the library awaits an @after handler before it reads the next frame.
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accepting(self, action: str, payload: dict[str, Any], **answer: str):
        self.received.append((action, payload))
        return getattr(self.CALL_RESULTS, action)(**answer)

    @on("ClearCache")
    def on_clear_cache(self, **payload):
        return self._accepting("ClearCache", payload, status="Accepted")

    @on("Reset")
    def on_reset(self, **payload):
        return self._accepting("Reset", payload, status="Accepted")

    @on("TriggerMessage")
    def on_trigger_message(self, **payload):
        return self._accepting("TriggerMessage", payload, status="Accepted")

    @on("UnlockConnector")
    def on_unlock_connector(self, **payload):
        return self._accepting("UnlockConnector", payload, status="Unlocked")

    @on("ChangeAvailability")
    def on_change_availability(self, **payload):
        return self._accepting("ChangeAvailability", payload, status="Accepted")

    @on("ReserveNow")
    def on_reserve_now(self, **payload):
        self.received.append(("ReserveNow", payload))
        if self.reservation_answer == "Accepted":
            self.reservations.add(payload[self.RESERVATION_ID])
        return self.CALL_RESULTS.ReserveNow(status=self.reservation_answer)

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int):
        self.received.append(("CancelReservation", {"reservation_id": reservation_id}))
        known = reservation_id in self.reservations
        self.reservations.discard(reservation_id)
        return self.CALL_RESULTS.CancelReservation(status="Accepted" if known else "Rejected")

    @on("UpdateFirmware")
    def on_update_firmware(self, **payload):
        self.received.append(("UpdateFirmware", payload))
        return self.CALL_RESULTS.UpdateFirmware(**self.UPDATE_FIRMWARE_ANSWER)

    @after("UpdateFirmware")
    def after_update_firmware(self, request_id: int | None = None, **_):
        # 2.0.1 names the update in each notification (block L); 1.6 has no request id.
        self._spawn(self._report_firmware(request_id))

    async def _report_firmware(self, request_id: int | None) -> None:
        steps = FIRMWARE_FAILED_STEPS if self.firmware_download_fails else FIRMWARE_STEPS
        named = {} if request_id is None else {"request_id": request_id}
        for status in steps:
            await self.call(self.CALLS.FirmwareStatusNotification(status=status, **named))
