"""Reservations as OCPP: ReserveNow and CancelReservation in each protocol's words, sent through
the command machinery, and the stations' answers reported to ``stations.reservations``.

Synchronous services, like ``staff_requests``: the admin and the REST API call them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from badges.identifiers import mac_of
from badges.models import Badge, Reservation, ReservationStatus
from ocpp_gateway.models import Command, CommandAction, CommandState
from ocpp_gateway.operations.commands import StationNotConnected, command_send, protocol_of
from ocpp_gateway.versions.v16.conversions import format_timestamp
from stations import reservations
from stations.models import OcppVersion, Station

RESERVATION_ACTIONS = {CommandAction.RESERVE_NOW, CommandAction.CANCEL_RESERVATION}
# The ReserveNow of a reservation is among the station's first few after the reservation.
RESERVE_NOW_SEARCHED = 20


def _id_token(badge: Badge) -> dict[str, str]:
    """The badge as a 2.0.1 IdToken: a vehicle's MAC, or the RFID card."""
    mac = mac_of(badge.rfid)
    if mac is not None:
        return {"idToken": mac, "type": "MacAddress"}
    return {"idToken": badge.rfid, "type": "ISO14443"}


def reserve_now_payload(reservation: Reservation) -> dict[str, Any]:
    """ReserveNow for the reservation, in its station's protocol. 2.0.1 leaves ``evseId`` out
    for "any connector" (H01.FR.xx: the station picks one)."""
    expiry = format_timestamp(reservation.expires_at)
    if protocol_of(reservation.station) == OcppVersion.V201:
        payload: dict[str, Any] = {
            "id": reservation.reservation_id,
            "expiryDateTime": expiry,
            "idToken": _id_token(reservation.badge),
        }
        if reservation.connector_id:
            payload["evseId"] = reservation.connector_id
        if reservation.connector_type:
            payload["connectorType"] = reservation.connector_type
        return payload
    return {
        "connectorId": reservation.connector_id,
        "expiryDate": expiry,
        "idTag": reservation.badge.rfid,
        "reservationId": reservation.reservation_id,
    }


@transaction.atomic
def reserve(
    *,
    station: Station,
    badge: Badge,
    connector_id: int,
    expires_at: datetime,
    connector_type: str = "",
    requested_by=None,
) -> Reservation:
    """Record a reservation and send it to the station, in one transaction: ValidationError
    (the rules), CommandInvalid (the payload fails the protocol's schema, e.g. a tag too long
    for 1.6) or StationNotConnected, and nothing is recorded."""
    reservation = reservations.reservation_create(
        station=station,
        badge=badge,
        connector_id=connector_id,
        expires_at=expires_at,
        connector_type=connector_type,
        created_by=requested_by,
    )
    command_send(
        station=station,
        action=CommandAction.RESERVE_NOW,
        payload=reserve_now_payload(reservation),
        requested_by=requested_by,
    )
    return reservation


def cancel(*, reservation: Reservation, requested_by=None) -> Command | None:
    """Cancel the reservation here at once, and at the station if it is connected (one that is
    not lets it expire by itself). The CancelReservation command; None when nothing was sent
    (the station is away, or the reservation no longer held: nothing changed then)."""
    if not reservations.reservation_cancel(reservation=reservation):
        return None
    try:
        return command_send(
            station=reservation.station,
            action=CommandAction.CANCEL_RESERVATION,
            payload={"reservationId": reservation.reservation_id},
            requested_by=requested_by,
        )
    except StationNotConnected:
        return None


def reservations_settle_lost(*, older_than: timedelta) -> int:
    """Fail the reservations still ``requested`` after ``older_than`` whose ReserveNow ended
    without going through ``record_answer``: failed because the station left, or never
    delivered. Their reservation would otherwise hold until its end. Reads first: the sweep
    runs every few seconds."""
    waiting = list(
        Reservation.objects.filter(
            status=ReservationStatus.REQUESTED, created_at__lt=timezone.now() - older_than
        ).values_list("station_id", "reservation_id", "created_at")
    )
    settled = 0
    for station_id, reservation_id, created_at in waiting:
        sent = Command.objects.filter(
            station_id=station_id,
            action=CommandAction.RESERVE_NOW,
            created_at__gte=created_at,
        ).order_by("created_at", "pk")[:RESERVE_NOW_SEARCHED]
        for command in sent.select_related("station"):
            if reservation_id in (command.payload.get("reservationId"), command.payload.get("id")):
                if command.state in (CommandState.FAILED, CommandState.TIMEOUT):
                    record_answer(command)
                    settled += 1
                break
    return settled


def record_answer(command: Command) -> None:
    """A ReserveNow's outcome, for its reservation (``finish_and_record`` calls it, in the
    outcome's transaction). CancelReservation's answer changes nothing: ours is cancelled."""
    if command.action != CommandAction.RESERVE_NOW:
        return
    reservation_id = command.payload.get("reservationId", command.payload.get("id"))
    answered = command.state in (CommandState.ACCEPTED, CommandState.REJECTED)
    answer = command.ocpp_status if answered else None
    reservations.reservation_answered(
        station=command.station,
        reservation_id=reservation_id,
        answer=answer,
        detail=command.detail,
    )
