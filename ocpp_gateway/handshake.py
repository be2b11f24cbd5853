"""Who may open an OCPP connection, and in which protocol: decided before the WebSocket upgrade
(security profile 1 of OCPP 1.6 and 2.0.1: HTTP Basic authentication, username = charge point
id)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from ocpp_gateway.services import station_for_connection
from ocpp_gateway.v16.charge_point import CentralSystemChargePoint
from ocpp_gateway.v201.charge_point import CsmsChargePoint
from stations.models import Station

# The versions we speak, preferred first: a station offering both gets OCPP 2.0.1.
CHARGE_POINTS = {
    CsmsChargePoint.SUBPROTOCOL: CsmsChargePoint,
    CentralSystemChargePoint.SUBPROTOCOL: CentralSystemChargePoint,
}


def choose_subprotocol(offered: list[str]) -> str | None:
    """The subprotocol to accept among those the station offered, or None."""
    return next((protocol for protocol in CHARGE_POINTS if protocol in offered), None)


@dataclass(frozen=True)
class Refusal:
    """The HTTP answer that refuses the upgrade, and why (for the server log)."""

    status: int
    reason: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


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


def admit(
    *, charge_point_id: str, subprotocols: list[str], headers: list[tuple[bytes, bytes]]
) -> Station | Refusal:
    """The station, if it may connect; otherwise the refusal: 404 for an unknown station, 401
    for missing or wrong credentials, 400 when it offers no protocol we speak."""
    station = station_for_connection(charge_point_id=charge_point_id)
    if station is None:
        return Refusal(404, "unknown station")
    if not station.may_connect_without_password():
        credentials = _basic_credentials(headers)
        if credentials is None or credentials[0] != charge_point_id:
            return _unauthorized("missing credentials or wrong username")
        if not station.check_password(credentials[1]):
            return _unauthorized("wrong password")
    if choose_subprotocol(subprotocols) is None:
        return Refusal(400, f"none of the subprotocols {', '.join(CHARGE_POINTS)} offered")
    return station


def _unauthorized(reason: str) -> Refusal:
    return Refusal(401, reason, [(b"www-authenticate", b'Basic realm="OCPP", charset="UTF-8"')])
