"""The reference: what Python's bare OCPP stack does on this machine. The ``ocpp`` library's
ChargePoint on a bare ``websockets`` server, badges in an in-memory set, no database, no logging;
every station's password checked in the handshake as the portal checks it (HTTP Basic, a salted
HMAC-SHA256 per station, compared in constant time), so that the boot storm is the same work.

    .venv/bin/python -m bench.reference --port 9000 --stations 5000 --badges 5000

The portal is measured against it in the same run (``make bench``): same frames, same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import hmac
import itertools
import logging
import secrets
from datetime import UTC, datetime

import ocpp.messages
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bench.fleet import id_tag
from bench.load import station_id, station_password

_transactions = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ReferenceChargePoint(ChargePoint):
    badges: set[str] = set()

    def _status(self, tag: str) -> dict:
        accepted = tag.upper() in self.badges
        status = AuthorizationStatus.accepted if accepted else AuthorizationStatus.invalid
        return {"status": status}

    @on(Action.boot_notification)
    async def on_boot(self, **_):
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.status_notification)
    async def on_status(self, **_):
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **_):
        return call_result.Authorize(id_tag_info=self._status(id_tag))

    @on(Action.start_transaction)
    async def on_start(self, id_tag: str, **_):
        return call_result.StartTransaction(
            transaction_id=next(_transactions), id_tag_info=self._status(id_tag)
        )

    @on(Action.meter_values)
    async def on_meter_values(self, **_):
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop(self, **_):
        return call_result.StopTransaction()


# charge point id → (salt, digest of its password)
_passwords: dict[str, tuple[bytes, bytes]] = {}


def _digest(password: str, salt: bytes) -> bytes:
    return hmac.new(salt, password.encode(), hashlib.sha256).digest()


def _check_password(connection: ServerConnection, request: Request) -> Response | None:
    """HTTP Basic: the station's own id and password, or 401 before the upgrade."""
    charge_point_id = request.path.rstrip("/").rsplit("/", 1)[-1]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        username, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        username = password = ""
    salt, digest = _passwords.get(charge_point_id, (b"", b""))
    if (
        scheme.lower() == "basic"
        and username == charge_point_id
        and salt
        and hmac.compare_digest(_digest(password, salt), digest)
    ):
        return None
    return connection.respond(401, "Unauthorized\n")


async def _handler(websocket: ServerConnection) -> None:
    charge_point_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        await ReferenceChargePoint(charge_point_id, websocket).start()
    except ConnectionClosed:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stations", type=int, default=5000, help="their passwords")
    parser.add_argument("--badges", type=int, default=5000, help="enrolled vehicles")
    options = parser.parse_args()
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # no logging of frames
    ocpp.messages.ASYNC_VALIDATION = False  # tuned as the portal is: validation in the loop
    ReferenceChargePoint.badges = {id_tag(number) for number in range(options.badges)}
    for number in range(options.stations):
        salt = secrets.token_bytes(16)
        _passwords[station_id(number)] = (salt, _digest(station_password(number), salt))
    async with serve(
        _handler,
        "127.0.0.1",
        options.port,
        subprotocols=["ocpp1.6"],
        ping_interval=None,
        compression=None,
        backlog=4096,
        process_request=_check_password,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
