"""Reservations: a connector kept for a badge until a time (OCPP 1.6 Reservation profile, 2.0.1
block H). The writes, with their rules; the gateway (``ocpp_gateway.operations.reservations``) sends
ReserveNow and CancelReservation and reports the stations' answers here.

A reservation holds (other badges are refused there, ``badges.authorization``) while it is
requested or accepted and before its expiry. Every change of what holds makes the
authorization caches forget everything: a reservation changes the answer of every other badge
at the station, and reservations are rare.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from badges import access
from badges.models import Badge, BadgeState, Reservation, ReservationStatus
from badges.services import MAX_CONNECTOR_ID
from stations.models import OcppVersion, Station

# ReserveNow's answer (both protocols) → what became of the reservation.
_ANSWERED = {
    "Accepted": ReservationStatus.ACCEPTED,
    "Faulted": ReservationStatus.FAULTED,
    "Occupied": ReservationStatus.OCCUPIED,
    "Rejected": ReservationStatus.REJECTED,
    "Unavailable": ReservationStatus.UNAVAILABLE,
}
_HOLDING = (ReservationStatus.REQUESTED, ReservationStatus.ACCEPTED)


def stations_chargeable_by(company) -> QuerySet[Station]:
    """The stations where ``company``'s badges may charge: its own, and its groups'."""
    chargeable = Q(company=company) | Q(authorization_groups__company=company)
    return Station.objects.filter(pk__in=Station.objects.filter(chargeable).values("pk"))


def _check(
    *, station: Station, badge: Badge, connector_id: int, expires_at: datetime, connector_type: str
) -> None:
    errors = {}
    if expires_at <= timezone.now():
        errors["expires_at"] = _("The reservation must end in the future.")
    if not 0 <= connector_id <= MAX_CONNECTOR_ID:
        errors["connector_id"] = _("A connector id is 0 (any connector) or more.")
    if badge.state != BadgeState.ENABLED or badge.is_expired(timezone.now()):
        errors["badge"] = _("Only an enabled badge that has not expired can reserve.")
    elif not stations_chargeable_by(badge.company).filter(pk=station.pk).exists():
        errors["badge"] = _("This badge may not charge at this station.")
    if connector_type and station.ocpp_version != OcppVersion.V201:
        errors["connector_type"] = _("Only OCPP 2.0.1 stations reserve by connector type.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def reservation_create(
    *,
    station: Station,
    badge: Badge,
    connector_id: int,
    expires_at: datetime,
    connector_type: str = "",
    created_by=None,
) -> Reservation:
    """A reservation, ``requested``: it holds from now (the station may take it before its
    answer comes). Raises ValidationError for a past expiry, a badge that cannot charge there,
    or a connector type to a 1.6 station. Its ``reservation_id`` is the station's next."""
    _check(
        station=station,
        badge=badge,
        connector_id=connector_id,
        expires_at=expires_at,
        connector_type=connector_type,
    )
    Station.objects.select_for_update().filter(pk=station.pk).first()  # numbers one at a time
    last = Reservation.objects.filter(station=station).aggregate(last=Max("reservation_id"))
    reservation = Reservation.objects.create(
        station=station,
        badge=badge,
        connector_id=connector_id,
        connector_type=connector_type,
        expires_at=expires_at,
        reservation_id=(last["last"] or 0) + 1,
        created_by=created_by,
    )
    access.authorization_changed()
    return reservation


def _move(
    reservation_ids: Q, *, to: ReservationStatus, among=_HOLDING, detail: str | None = None
) -> int:
    """Reservations from one of ``among`` to ``to``; the caches forget if any moved."""
    changes = {"status": to, "updated_at": timezone.now()}
    if detail is not None:
        changes["detail"] = detail[:255]
    moved = Reservation.objects.filter(reservation_ids, status__in=among).update(**changes)
    if moved:
        access.authorization_changed()
    return moved


@transaction.atomic
def reservation_answered(
    *, station: Station, reservation_id: int, answer: str | None, detail: str = ""
) -> None:
    """The station's answer to ReserveNow (``answer`` None: it never came, or the station was
    not reached). Only a reservation still ``requested`` takes it: one cancelled meanwhile
    stays cancelled."""
    where = Q(station=station, reservation_id=reservation_id)
    status = _ANSWERED.get(answer or "", ReservationStatus.FAILED)
    _move(where, to=status, among=[ReservationStatus.REQUESTED], detail=detail)


@transaction.atomic
def reservation_cancel(*, reservation: Reservation, detail: str = "") -> bool:
    """Stop holding the connector, on our side at once (the gateway tells the station). False
    when the reservation no longer held (used, expired, refused)."""
    where = Q(pk=reservation.pk)
    cancelled = _move(where, to=ReservationStatus.CANCELLED, detail=detail)
    reservation.refresh_from_db()
    return bool(cancelled)


@transaction.atomic
def reservation_ended_by_station(*, station: Station, reservation_id: int, update: str) -> bool:
    """OCPP 2.0.1 ReservationStatusUpdate: ``Expired`` (unused until its end) or ``Removed``
    (the station dropped it, e.g. its EVSE became faulted: TC_H_20)."""
    where = Q(station=station, reservation_id=reservation_id)
    if update == "Expired":
        return bool(_move(where, to=ReservationStatus.EXPIRED))
    return bool(_move(where, to=ReservationStatus.CANCELLED, detail="Removed by the station."))


@transaction.atomic
def reservation_use(
    *,
    station: Station,
    badge: Badge | None,
    connector_id: int | None,
    reservation_id: int | None = None,
) -> Reservation | None:
    """An accepted start of ``badge`` at the station: the reservation it names (OCPP 1.6
    StartTransaction, 2.0.1 TransactionEvent ``reservationId``), else the badge's own holding
    one on that connector or on any, becomes ``used``. None if there is none."""
    if badge is None:
        return None
    holding = Reservation.objects.holding().filter(station=station, badge=badge)
    if reservation_id is not None:
        reservation = holding.filter(reservation_id=reservation_id).first()
    else:
        on_connector = Q(connector_id=0) | Q(connector_id=connector_id or 0)
        reservation = holding.filter(on_connector).order_by("-connector_id").first()
    if reservation is None:
        return None
    _move(Q(pk=reservation.pk), to=ReservationStatus.USED)
    reservation.refresh_from_db()
    return reservation


def reservations_expire(*, now: datetime | None = None) -> int:
    """Mark ``expired`` the reservations past their end (they stopped holding then already:
    the decision looks at the time). Reads first: the sweep runs every few seconds."""
    now = now or timezone.now()
    past = list(
        Reservation.objects.filter(status__in=_HOLDING, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:1000]
    )
    if not past:
        return 0
    with transaction.atomic():
        return _move(Q(pk__in=past, expires_at__lte=now), to=ReservationStatus.EXPIRED)
