"""Tariffs and the cost of sessions.

A session is priced once, when it stops, by the tariff of the company it is attributed to (or,
for an anonymous session, of the station's company) that was valid when it started: the most
specific one, station before group before company. Its price per kWh and fee are copied onto
the session with the cost, so a tariff changed or deleted later never moves a past cost. A staff
correction of the energy computes the cost again from those copies, not from today's tariff.
Refused starts are not charging: they get no cost, nor does a session whose energy is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from badges.authorization import AuthorizationStatus
from badges.models import BadgeUsage
from fleet.models import Company, Vehicle
from stations.models import ChargingSession, Station, Tariff
from stations.plausibility import MAX_SESSION_ENERGY_WH
from supervision.tenancy import scope

CENT = Decimal("0.01")
PRICED_FIELDS = ["tariff", "tariff_price_per_kwh", "tariff_session_fee", "cost", "cost_currency"]


def cost_of(
    *, energy_wh: int | None, price_per_kwh: Decimal, session_fee: Decimal
) -> Decimal | None:
    """kWh x price + fee, rounded half up to the cent; None when the energy is unknown."""
    if energy_wh is None:
        return None
    energy_kwh = Decimal(energy_wh) / 1000
    return (energy_kwh * price_per_kwh + session_fee).quantize(CENT, rounding=ROUND_HALF_UP)


def tariffs_valid(*, company_id: int, station: Station, at: datetime) -> QuerySet[Tariff]:
    """The company's tariffs valid at ``at`` that reach ``station``, most specific first
    (station, then group, then company; among equals the latest started)."""
    return (
        Tariff.objects.filter(company_id=company_id, valid_from__lte=at)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .filter(
            Q(station=station)
            | Q(group__stations=station)
            | Q(station__isnull=True, group__isnull=True)
        )
        .annotate(
            specificity=Case(
                When(station__isnull=False, then=Value(0)),
                When(group__isnull=False, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("specificity", "-valid_from", "id")
    )


def tariff_for(session: ChargingSession) -> Tariff | None:
    company_id = session.company_id or session.station_company_id
    if company_id is None:
        return None
    return tariffs_valid(
        company_id=company_id, station=session.station, at=session.started_at
    ).first()


def session_price(session: ChargingSession) -> None:
    """Set the session's tariff copies and cost (not saved: the caller saves ``PRICED_FIELDS``
    with the stop it records)."""
    tariff = (
        tariff_for(session)
        if session.authorization_status == AuthorizationStatus.ACCEPTED
        else None
    )
    if tariff is None:
        session.tariff = None
        session.tariff_price_per_kwh = session.tariff_session_fee = session.cost = None
        session.cost_currency = ""
        return
    session.tariff = tariff
    session.tariff_price_per_kwh = tariff.price_per_kwh
    session.tariff_session_fee = tariff.session_fee
    session.cost_currency = tariff.currency
    session_reprice(session)


def session_reprice(session: ChargingSession) -> None:
    """The cost again from the prices copied at the stop (after a correction of the energy);
    a session priced by no tariff stays without cost. Not saved."""
    if session.tariff_price_per_kwh is None:
        session.cost = None
        return
    session.cost = cost_of(
        energy_wh=session.energy_wh,
        price_per_kwh=session.tariff_price_per_kwh,
        session_fee=session.tariff_session_fee or Decimal(0),
    )


@transaction.atomic
def tariff_save(*, tariff: Tariff) -> Tariff:
    """Create or change a tariff (validated: scope, prices, no overlap). Sessions already
    priced keep their cost."""
    # Two overlapping tariffs saved at once would each pass the check: one at a time per company.
    Company.objects.select_for_update().filter(pk=tariff.company_id).first()
    tariff.full_clean()
    tariff.save()
    return tariff


def tariff_delete(*, tariff: Tariff) -> None:
    tariff.delete()


# --- Reads: the personal-use statement ---------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """A vehicle's personal charging over ``start``..``end`` (whole days, both included): what
    the company charges back or reimburses. Totals are the database's sums; costs are summed
    per currency (a vehicle priced in two currencies gets two totals)."""

    vehicle: Vehicle
    start: date
    end: date
    sessions: list[ChargingSession]
    energy_wh: int
    costs: dict[str, Decimal]
    unpriced: int
    """Sessions without a cost (no tariff, energy unknown, still charging)."""

    @property
    def cost_list(self) -> list[tuple[str, Decimal]]:
        return sorted(self.costs.items())


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def personal_use_statement(*, user, vehicle: Vehicle, start: date, end: date) -> Statement:
    """The vehicle's accepted sessions with personal usage (as recorded at their start) that
    started in the period, as ``user`` sees them (``supervision.tenancy``)."""
    sessions = (
        scope(ChargingSession.objects.all(), user)
        .filter(
            vehicle=vehicle,
            usage=BadgeUsage.PERSONAL,
            authorization_status=AuthorizationStatus.ACCEPTED,
            started_at__gte=_local_midnight(start),
            started_at__lt=_local_midnight(end + timedelta(days=1)),
        )
        .select_related("station")
        .order_by("started_at", "transaction_id")
    )
    counted = Q(energy_wh__gte=0, energy_wh__lte=MAX_SESSION_ENERGY_WH)
    energy = sessions.aggregate(energy=Coalesce(Sum("energy_wh", filter=counted), 0))["energy"]
    costs = {
        row["cost_currency"]: row["total"].quantize(CENT)  # SQLite sums lose the scale
        for row in sessions.filter(cost__isnull=False)
        .values("cost_currency")
        .annotate(total=Sum("cost"))
        .order_by("cost_currency")
    }
    return Statement(
        vehicle=vehicle,
        start=start,
        end=end,
        sessions=list(sessions),
        energy_wh=energy,
        costs=costs,
        unpriced=sessions.filter(cost__isnull=True).count(),
    )
