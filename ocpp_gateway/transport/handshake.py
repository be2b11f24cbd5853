"""Who may open an OCPP connection, and in which protocol: decided before the WebSocket upgrade
(security profile 1 of OCPP 1.6 and 2.0.1: HTTP Basic authentication, username = charge point
id).

The database thread only reads the station's row; the password is checked on the event loop
(a fast hash, ``stations.credentials``) or, for a hash of an earlier version, in a worker
thread, never on the thread every station's database work shares. A refusal for credentials
is answered ``OCPP_AUTH_FAILURE_SECONDS`` after the request arrived, whatever the path, so its
timing tells nothing; with passwords required an unknown id is refused exactly as a wrong
password is. Failures are limited (``handshake_guard``) and reported as one security event per
station and hour.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings

from ocpp_gateway.transport.handshake_guard import HandshakeGuard
from ocpp_gateway.transport.services import station_for_connection, station_login_failures_record
from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.versions.v16.charge_point import CentralSystemChargePoint
from ocpp_gateway.versions.v201.charge_point import CsmsChargePoint
from stations import credentials
from stations.models import Station
from stations.services import station_password_used
from supervision.security import client_address

logger = logging.getLogger(__name__)

# The versions we speak, preferred first: a station offering both gets OCPP 2.0.1.
CHARGE_POINTS = {
    CsmsChargePoint.SUBPROTOCOL: CsmsChargePoint,
    CentralSystemChargePoint.SUBPROTOCOL: CentralSystemChargePoint,
}
# How long a report of failed logins waits for more before it is written: a flood becomes a
# few updates of one event, not a write per attempt.
REPORT_DELAY_SECONDS = 2.0


def choose_subprotocol(offered: list[str]) -> str | None:
    """The subprotocol to accept among those the station offered, or None."""
    return next((protocol for protocol in CHARGE_POINTS if protocol in offered), None)


@dataclass(frozen=True)
class Refusal:
    """The HTTP answer that refuses the upgrade, and why (for the server log)."""

    status: int
    reason: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    answer_at: float = 0.0
    """When to answer it (``time.monotonic``): a refusal for credentials is answered
    ``OCPP_AUTH_FAILURE_SECONDS`` after the request arrived, whatever failed."""

    async def wait(self) -> None:
        """Until its answer is due."""
        delay = self.answer_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True)
class Admission:
    station: Station
    subprotocol: str
    address: str | None


def _basic_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        scheme, _, encoded = value.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            username, separator, password = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (username, password) if separator else None
    return None


def _client_address(scope: dict) -> str | None:
    forwarded_for = next(
        (value for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"),
        b"",
    )
    client = scope.get("client")
    return client_address(
        forwarded_for=forwarded_for.decode("latin-1"), peer=client[0] if client else None
    )


guard = HandshakeGuard(
    failures_allowed=settings.OCPP_AUTH_FAILURES_ALLOWED,
    lockout_seconds=settings.OCPP_AUTH_LOCKOUT_SECONDS,
    max_lockout_seconds=settings.OCPP_AUTH_LOCKOUT_MAX_SECONDS,
)


async def admit(scope: dict) -> Admission | Refusal:
    """The station and protocol, if it may connect; otherwise the refusal: 404 for an unknown
    station where passwords are optional, 401 for missing or wrong credentials (and unknown
    ids where they are required), 429 while too many failures are being refused, 400 when it
    offers no protocol we speak."""
    started = time.monotonic()
    charge_point_id = scope["url_route"]["kwargs"]["charge_point_id"]
    address = _client_address(scope)
    station = await shared_transactions.run(station_for_connection, charge_point_id=charge_point_id)
    known_good = station is not None and address is not None and station.last_address == address
    locked_for = guard.retry_after(
        charge_point_id=charge_point_id, address=address or "", known_good=known_good
    )
    answer_at = started + settings.OCPP_AUTH_FAILURE_SECONDS
    if locked_for:
        _refused(station, charge_point_id, address, "locked out", locked=True)
        return Refusal(
            429,
            "too many failed logins",
            [(b"retry-after", str(int(locked_for) + 1).encode())],
            answer_at=answer_at,
        )
    if station is None and settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD:
        return Refusal(404, "unknown station")
    if station is None or not station.may_connect_without_password():
        failure = await _check_credentials(station, charge_point_id, scope)
        if failure:
            guard.failed(
                charge_point_id=charge_point_id, address=address or "", known_good=known_good
            )
            _refused(station, charge_point_id, address, failure)
            # One answer for every failure: the reason is for the log, not for enumeration.
            return _unauthorized(answer_at)
        guard.succeeded(charge_point_id=charge_point_id, address=address or "")
    subprotocol = choose_subprotocol(scope.get("subprotocols", []))
    if subprotocol is None:
        return Refusal(400, f"none of the subprotocols {', '.join(CHARGE_POINTS)} offered")
    return Admission(station=station, subprotocol=subprotocol, address=address)


async def _check_credentials(station: Station | None, charge_point_id: str, scope: dict) -> str:
    """Why the credentials fail, or "" when they open the connection (the station's password,
    or the previous one while the station has not taken a new one)."""
    presented = _basic_credentials(scope.get("headers", []))
    if presented is None or presented[0] != charge_point_id:
        credentials.verify("", "")  # the cost of a check, whatever failed
        return "missing credentials or wrong username"
    password = presented[1]
    current = station.basic_auth_password_hash if station is not None else ""
    previous = station.previous_password_hash if station is not None else ""
    for encoded, is_previous in ((current, False), (previous, True)):
        if credentials.needs_thread(encoded):
            verdict = await asyncio.to_thread(credentials.verify, password, encoded)
        else:
            verdict = credentials.verify(password, encoded)
        if verdict.matches:
            if verdict.upgrade or (previous and not is_previous):
                await database_sync_to_async(station_password_used)(
                    station_id=station.pk,
                    matched_hash=encoded,
                    previous=is_previous,
                    upgraded_hash=credentials.make(password) if verdict.upgrade else "",
                )
            return ""
        if not previous:
            break
    return "unknown station" if station is None else "wrong password"


def _refused(
    station: Station | None,
    charge_point_id: str,
    address: str | None,
    reason: str,
    *,
    locked: bool = False,
) -> None:
    """Count the refusal for its security event (its answer waits until ``Refusal.answer_at``,
    the same moment whatever failed)."""
    guard.note(
        station_id=station.pk if station is not None else None,
        charge_point_id=charge_point_id,
        address=address or "",
        reason=reason,
        refused_while_locked=locked,
        locked_until=guard.retry_after(
            charge_point_id=charge_point_id, address=address or "", known_good=False
        )
        + time.monotonic(),
    )
    _schedule_report()
    logger.warning("%s from %s refused: %s", charge_point_id, address, reason)


def _unauthorized(answer_at: float) -> Refusal:
    return Refusal(
        401,
        "invalid credentials",
        [(b"www-authenticate", b'Basic realm="OCPP", charset="UTF-8"')],
        answer_at=answer_at,
    )


# --- Security events of failed logins ---------------------------------------------------------

_reporting: set[asyncio.Task] = set()


def _schedule_report() -> None:
    if _reporting:  # one is on its way: it takes this refusal too
        return
    task = asyncio.get_running_loop().create_task(_report_later())
    _reporting.add(task)
    task.add_done_callback(_reporting.discard)


async def _report_later() -> None:
    await asyncio.sleep(REPORT_DELAY_SECONDS)
    reports = guard.take_reports()
    now = time.monotonic()
    try:
        await database_sync_to_async(station_login_failures_record)(
            reports=reports, monotonic_now=now
        )
    except Exception:
        logger.exception("Failed station logins not recorded")
