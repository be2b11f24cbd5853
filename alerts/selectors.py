"""The alerts' reads: who is told, and what the daily digest sums."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from alerts.models import KIND_FIELDS, AlertKind, AlertSubscription
from badges.authorization import AuthorizationStatus
from badges.models import VehicleSighting
from fleet.models import Company
from stations.models import ChargingSession, ConnectionState, Station, StationConnection
from stations.plausibility import MAX_SESSION_ENERGY_WH
from supervision import tenancy


def subscriptions_of(*, user) -> QuerySet[AlertSubscription]:
    """A user's own subscriptions, about companies they may still see."""
    return tenancy.scope(AlertSubscription.objects.filter(user=user), user).select_related(
        "company"
    )


def subscribers(*, kind: AlertKind, company_id: int | None = None) -> QuerySet[AlertSubscription]:
    """The active subscriptions to ``kind`` whose user may still receive it: an active staff
    user with an address, a superuser or still a member of the company (a user moved to
    another company stops getting the first one's alerts at once)."""
    subscriptions = AlertSubscription.objects.filter(
        active=True,
        user__is_active=True,
        user__is_staff=True,
        **{KIND_FIELDS[kind]: True},
    ).exclude(user__email="")
    if company_id is not None:
        subscriptions = subscriptions.filter(company_id=company_id)
    return subscriptions.filter(
        Q(user__is_superuser=True) | Q(user__staff_membership__company=F("company"))
    ).select_related("user", "company")


@dataclass(frozen=True)
class Digest:
    start: datetime
    end: datetime
    sessions: int
    energy_wh: int
    refusals: int
    unknown_vehicles: int
    disconnections: int
    offline_stations: list[Station]
    stations_total: int

    @property
    def energy_kwh(self) -> float:
        return self.energy_wh / 1000

    @property
    def offline_label(self) -> str:
        return f"{len(self.offline_stations)} / {self.stations_total}"


def digest(*, company: Company, start: datetime, end: datetime) -> Digest:
    """What the company's staff would see of ``[start, end)``: the sessions the company sees
    (tenancy's rule), refusals at its stations, and its stations offline now."""

    def of_company(queryset: QuerySet) -> QuerySet:
        return queryset.filter(tenancy.RULES[queryset.model._meta.label_lower](company))

    sessions = of_company(ChargingSession.objects.all()).filter(
        authorization_status=AuthorizationStatus.ACCEPTED, started_at__gte=start, started_at__lt=end
    )
    counted = Q(energy_wh__gte=0, energy_wh__lte=MAX_SESSION_ENERGY_WH)
    figures = sessions.aggregate(
        count=Count("pk"),
        energy=Coalesce(Sum("energy_wh", filter=counted), 0, output_field=IntegerField()),
    )
    refusals = of_company(VehicleSighting.objects.all()).filter(seen_at__gte=start, seen_at__lt=end)
    stations = of_company(Station.objects.filter(archived_at__isnull=True))
    return Digest(
        start=start,
        end=end,
        sessions=figures["count"],
        energy_wh=figures["energy"],
        refusals=refusals.count(),
        unknown_vehicles=refusals.filter(unknown_vehicle__isnull=False)
        .values("unknown_vehicle")
        .distinct()
        .count(),
        disconnections=StationConnection.objects.filter(
            station__in=stations, closed_at__gte=start, closed_at__lt=end
        ).count(),
        offline_stations=list(stations.exclude(connection_state=ConnectionState.CONNECTED)),
        stations_total=stations.count(),
    )
