"""Reads of the portal's pages. Every query starts from ``supervision.tenancy.scope``: a staff
user sees their company's rows, a superuser every company's. Figures are aggregated by the
database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, TruncDate, TruncMonth
from django.utils import timezone

from badges.authorization import AuthorizationStatus
from badges.models import Badge, InboxStatus, UnknownVehicle, VehicleSighting
from fleet.models import Vehicle
from ocpp_gateway.models import OcppMessage
from stations.models import (
    AuthMethod,
    ChargingSession,
    ConnectionState,
    MeterValue,
    SecurityEvent,
    Station,
)
from stations.plausibility import MAX_SESSION_ENERGY_WH, register_wh
from stations.services import ENERGY_REGISTER
from supervision.tenancy import scope

RECENT_SECURITY_DAYS = 7


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _energy() -> Coalesce:
    # A session still charging has no energy yet: it counts as 0, not as a hole in the sum.
    # An energy beyond what any session delivers (stored before the plausibility checks, or
    # by hand in the database) is left out: SQLite raises on a SUM that overflows an int64.
    counted = Q(energy_wh__gte=0, energy_wh__lte=MAX_SESSION_ENERGY_WH)
    return Coalesce(Sum("energy_wh", filter=counted), 0, output_field=IntegerField())


def accepted_sessions(*, user) -> QuerySet[ChargingSession]:
    """The sessions the viewer sees that charged: refused starts are attempts, not charging."""
    return scope(ChargingSession.objects.all(), user).filter(
        authorization_status=AuthorizationStatus.ACCEPTED
    )


def refusals(*, user) -> QuerySet[VehicleSighting]:
    """Refused vehicles (``VID:`` tags), newest first, each with the vehicle its badge names
    when the viewer may see that badge (a station owner does not learn another company's)."""
    visible_badge = scope(Badge.objects.filter(rfid=Concat(Value("VID:"), OuterRef("mac"))), user)
    return (
        scope(VehicleSighting.objects.all(), user)
        .select_related("station")
        .annotate(
            badge_id=Subquery(visible_badge.values("pk")[:1]),
            license_plate=Subquery(
                visible_badge.values("vehicle__license_plate")[:1], output_field=CharField()
            ),
        )
    )


def with_meter_registers(sessions: QuerySet[ChargingSession]) -> QuerySet[ChargingSession]:
    """The sessions with their earliest and latest whole-meter energy register readings (by
    the station's clock), for ``energy_so_far``: subqueries, whatever the number of rows."""
    readings = MeterValue.objects.filter(
        session=OuterRef("pk"), measurand=ENERGY_REGISTER, phase=""
    )
    latest = readings.order_by("-timestamp", "-id")
    earliest = readings.order_by("timestamp", "id")
    return sessions.annotate(
        latest_register=Subquery(latest.values("value")[:1]),
        latest_register_unit=Subquery(latest.values("unit")[:1]),
        earliest_register=Subquery(earliest.values("value")[:1]),
        earliest_register_unit=Subquery(earliest.values("unit")[:1]),
    )


def with_energy_so_far(sessions: QuerySet[ChargingSession]) -> list[ChargingSession]:
    """Sessions in progress, each with ``energy_so_far_wh`` (see ``energy_so_far``)."""
    result = list(with_meter_registers(sessions))
    for session in result:
        session.energy_so_far_wh = energy_so_far(session)
    return result


def energy_so_far(session: ChargingSession) -> int | None:
    """A session's energy so far: its latest energy register reading less the start's (an
    OCPP 2.0.1 session's first reading); None before any reading, when the figure cannot be
    believed, or without ``with_meter_registers``."""
    if getattr(session, "latest_register", None) is None:
        return None
    latest = register_wh(session.latest_register, session.latest_register_unit or "")
    start = session.meter_start
    if start is None and session.earliest_register is not None:  # OCPP 2.0.1
        start = register_wh(session.earliest_register, session.earliest_register_unit or "")
    if latest is None or start is None:
        return None
    energy = latest - start
    return energy if 0 <= energy <= MAX_SESSION_ENERGY_WH else None


@dataclass(frozen=True)
class Dashboard:
    stations_online: int
    stations_total: int
    charging: list[ChargingSession]
    autocharge_sessions_today: int
    autocharge_energy_today_wh: int
    vehicles_refused_today: int
    refusals_today: list[VehicleSighting]
    unknown_vehicles_open: int
    unknown_vehicles: list[UnknownVehicle]
    security_events_recent: int
    security_events: list[SecurityEvent]

    @property
    def stations_offline(self) -> int:
        return self.stations_total - self.stations_online


def dashboard(*, user, limit: int = 8) -> Dashboard:
    now = timezone.now()
    midnight = local_midnight(timezone.localdate(now))
    stations = scope(Station.objects.all(), user).aggregate(
        total=Count("pk"),
        online=Count("pk", filter=Q(connection_state=ConnectionState.CONNECTED)),
    )
    charging = (
        accepted_sessions(user=user).active().select_related("station").order_by("-started_at")
    )
    today = (
        accepted_sessions(user=user)
        .filter(auth_method=AuthMethod.AUTOCHARGE, started_at__gte=midnight)
        .aggregate(count=Count("pk"), energy=_energy())
    )
    unknown = scope(UnknownVehicle.objects.filter(status=InboxStatus.OPEN), user)
    refused_today = refusals(user=user).filter(seen_at__gte=midnight)
    security = scope(
        SecurityEvent.objects.filter(created_at__gte=now - timedelta(days=RECENT_SECURITY_DAYS)),
        user,
    ).select_related("station")
    return Dashboard(
        stations_online=stations["online"],
        stations_total=stations["total"],
        charging=with_energy_so_far(charging),
        autocharge_sessions_today=today["count"],
        autocharge_energy_today_wh=today["energy"],
        # Vehicles, not attempts: one vehicle refused three times is one vehicle refused.
        vehicles_refused_today=refused_today.order_by().values("mac").distinct().count(),
        refusals_today=list(refused_today[:limit]),
        unknown_vehicles_open=unknown.count(),
        unknown_vehicles=list(unknown[:limit]),
        security_events_recent=security.count(),
        security_events=list(security[:limit]),
    )


def stations(*, user) -> QuerySet[Station]:
    return (
        scope(Station.objects.all(), user)
        .select_related("company")
        .annotate(
            charging_now=Count(
                "sessions",
                filter=Q(
                    sessions__stopped_at__isnull=True,
                    sessions__authorization_status=AuthorizationStatus.ACCEPTED,
                ),
            )
        )
        .order_by("charge_point_id")
    )


def station_log(*, user, station: Station) -> QuerySet[OcppMessage]:
    """The station's messages, newest first, each with the badge its tag belongs to now (one
    the viewer sees): an entry logged before its badge existed links to it, as in the admin."""
    badge = scope(Badge.objects.filter(rfid=OuterRef("id_tag")), user).values("pk")[:1]
    return scope(OcppMessage.objects.filter(station=station), user).annotate(
        current_badge_id=Subquery(badge)
    )


def vehicles(*, user) -> QuerySet[Vehicle]:
    last = accepted_sessions(user=user).filter(vehicle=OuterRef("pk")).order_by("-started_at")
    return (
        scope(Vehicle.objects.all(), user)
        .select_related("company")
        .annotate(
            last_session_at=Subquery(last.values("started_at")[:1]),
            last_session_station=Subquery(last.values("station__charge_point_id")[:1]),
            last_session_energy_wh=Subquery(last.values("energy_wh")[:1]),
        )
    )


@dataclass(frozen=True)
class EnergyPoint:
    """Energy and sessions of one day or month; ``period`` is its first day."""

    period: date
    energy_wh: int
    sessions: int


def _per_period(sessions: QuerySet, trunc, periods: list[date]) -> list[EnergyPoint]:
    rows = (
        sessions.annotate(period=trunc("started_at", tzinfo=timezone.get_current_timezone()))
        .values("period")
        .annotate(energy_wh=_energy(), sessions=Count("pk"))
    )
    found = {_as_date(row["period"]): row for row in rows}
    # Days or months without a session are bars of zero height, not missing bars.
    return [
        EnergyPoint(
            period=period,
            energy_wh=found.get(period, {}).get("energy_wh", 0),
            sessions=found.get(period, {}).get("sessions", 0),
        )
        for period in periods
    ]


def _as_date(value: date | datetime) -> date:
    # TruncMonth gives an aware datetime, TruncDate a date.
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


def _months_back(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def vehicle_energy(
    *, user, vehicle: Vehicle, days: int = 30, months: int = 12
) -> tuple[list[EnergyPoint], list[EnergyPoint]]:
    """The vehicle's energy per day over the last ``days`` days and per month over the last
    ``months`` months, today's included, oldest first."""
    today = timezone.localdate()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    month_list = _months_back(today, months)
    sessions = accepted_sessions(user=user).filter(vehicle=vehicle)
    per_day = _per_period(
        sessions.filter(started_at__gte=local_midnight(day_list[0])), TruncDate, day_list
    )
    per_month = _per_period(
        sessions.filter(started_at__gte=local_midnight(month_list[0])), TruncMonth, month_list
    )
    return per_day, per_month


@dataclass(frozen=True)
class Report:
    """Energy and sessions over ``start``..``end`` (whole days, both included)."""

    start: date
    end: date
    rows: list[dict]
    per_usage: list[dict]
    total: dict


def energy_report(*, user, start: date, end: date) -> Report:
    """Per company, vehicle and badge usage (professional / personal), as each session recorded
    them at its start: later changes to badges, vehicles or companies, or their deletion, never
    move a figure. Sessions without a badge (open-charge) have no usage. Totals are the
    database's sums, not sums of rounded rows."""
    sessions = accepted_sessions(user=user).filter(
        started_at__gte=local_midnight(start),
        started_at__lt=local_midnight(end + timedelta(days=1)),
    )
    figures = {"sessions": Count("pk"), "energy_wh": _energy()}
    keys = ("company_name", "vehicle_plate", "usage")
    rows = list(sessions.values(*keys).annotate(**figures).order_by(*keys))
    per_usage = list(sessions.values("usage").annotate(**figures).order_by("usage"))
    total = sessions.aggregate(**figures)
    _add_costs(sessions, keys, rows)
    _add_costs(sessions, ("usage",), per_usage)
    _add_costs(sessions, (), [total])
    return Report(start=start, end=end, rows=rows, per_usage=per_usage, total=total)


def _add_costs(sessions: QuerySet, keys: tuple[str, ...], rows: list[dict]) -> None:
    """Each row's ``costs``: the sum of its sessions' costs per currency, as ``[(currency,
    amount)]`` (empty when none has a cost). Each session's cost was kept at its stop
    (``stations.tariffs``); sessions without one count for nothing here."""
    sums: dict[tuple, list] = {}
    priced = (
        sessions.filter(cost__isnull=False)
        .values(*keys, "cost_currency")
        .annotate(amount=Sum("cost"))
        .order_by(*keys, "cost_currency")
    )
    for found in priced:
        key = tuple(found[name] for name in keys)
        amount = found["amount"].quantize(Decimal("0.01"))  # SQLite sums lose the scale
        sums.setdefault(key, []).append((found["cost_currency"], amount))
    for row in rows:
        row["costs"] = sums.get(tuple(row[name] for name in keys), [])
