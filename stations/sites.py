"""Sites (depots) and their load balancing: the writes (services) and the facts the allocation
is computed over (selectors). OCPP stays in the gateway
(``ocpp_gateway.operations.smart_charging``), which sends the profiles; this module speaks of
limits in watts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from stations import events
from stations.load_balancing import Allocation, ConnectorDemand
from stations.models import (
    ChargingProfilePurpose,
    ChargingSession,
    ConnectionState,
    LoadBalancingDecision,
    MeterValue,
    Site,
    Station,
    StationChargingProfile,
)
from supervision import live

# --- Services ----------------------------------------------------------------------------------


def site_save(*, site: Site, changed_limit: bool | None = None) -> Site:
    """Create or update a site; when its grid limit changed, its stations' shares are computed
    again once the change committed."""
    if changed_limit is None:
        before = Site.objects.filter(pk=site.pk).values_list("grid_limit_kw", flat=True).first()
        changed_limit = site.pk is None or before != site.grid_limit_kw
    site.full_clean()
    site.save()
    if changed_limit:
        site_id = site.pk
        transaction.on_commit(lambda: events.site_changed.send(Site, site_id=site_id))
    return site


def site_delete(*, site: Site) -> None:
    site.delete()


def station_record_charging_profile(
    *, station: Station, connector_id: int, profile: dict[str, Any], source: str = "accepted"
) -> StationChargingProfile:
    """The station holds this profile (camelCase, as OCPP carries it; 1.6 or 2.0.1), replacing
    the one of the same id."""
    schedules = profile.get("chargingSchedule")
    schedule = schedules[0] if isinstance(schedules, list) else schedules or {}
    periods = schedule.get("chargingSchedulePeriod") or [{}]
    limit = periods[0].get("limit")
    held, _ = StationChargingProfile.objects.update_or_create(
        station=station,
        profile_id=profile.get("chargingProfileId", profile.get("id")),
        defaults={
            "connector_id": connector_id,
            "stack_level": profile.get("stackLevel", 0),
            "purpose": profile.get("chargingProfilePurpose", ""),
            "limit": None if limit is None else Decimal(str(limit)),
            "unit": (schedule.get("chargingRateUnit") or "")[:1],
            "profile": profile,
            "source": source,
        },
    )
    return held


def station_forget_charging_profiles(
    *,
    station: Station,
    profile_id: int | None = None,
    connector_id: int | None = None,
    purpose: str | None = None,
    stack_level: int | None = None,
) -> int:
    """The station cleared profiles (ClearChargingProfile's criteria; none: all of them)."""
    held = StationChargingProfile.objects.filter(station=station)
    if profile_id is not None:
        held = held.filter(profile_id=profile_id)
    if connector_id is not None:
        held = held.filter(connector_id=connector_id)
    if purpose is not None:
        held = held.filter(purpose=purpose)
    if stack_level is not None:
        held = held.filter(stack_level=stack_level)
    return held.delete()[0]


def station_flag_profiles(*, station: Station, rejects: bool) -> bool:
    """Note whether the station takes charging profiles; True if that changed."""
    return bool(
        Station.objects.filter(pk=station.pk)
        .exclude(rejects_profiles=rejects)
        .update(rejects_profiles=rejects)
    )


def session_record_departure(*, station: Station, connector_id: int, departure_at) -> bool:
    """The vehicle charging at the connector leaves then (NotifyEVChargingNeeds)."""
    return bool(
        ChargingSession.objects.active()
        .filter(station=station, connector_id=connector_id)
        .update(departure_at=departure_at)
    )


def load_balancing_record(
    *,
    site: Site,
    trigger: str,
    limit_w: Decimal,
    connectors: list[ChargingConnector],
    allocations: list[Allocation],
) -> LoadBalancingDecision | None:
    """Record a decision, unless it is the same as the site's last one (a status notification
    that changes nothing is not a decision)."""
    by_key = {connector.demand.key: connector for connector in connectors}
    rows = [
        {
            "station": by_key[allocation.key].station_label,
            "station_id": by_key[allocation.key].station_id,
            "connector": by_key[allocation.key].connector_id,
            "limit_w": str(allocation.limit_w),
            "max_w": str(by_key[allocation.key].demand.max_w),
            "weight": str(allocation.weight.quantize(Decimal("0.01"))),
            "reason": allocation.reason,
        }
        for allocation in allocations
    ]
    last = site.decisions.order_by("-created_at", "-id").first()
    if last is not None and last.allocations == rows and last.limit_w == limit_w:
        return None
    decision = LoadBalancingDecision.objects.create(
        site=site,
        trigger=trigger[:200],
        limit_w=limit_w,
        allocated_w=sum((Decimal(row["limit_w"]) for row in rows), Decimal(0)),
        allocations=rows,
    )
    live.publish("site_balanced", company_id=site.company_id, site=site.name)
    return decision


def held_tx_profiles_forget(*, site: Site, keep: set[tuple[int, int]]) -> None:
    """Transaction profiles end with their transaction: forget those of connectors that no
    longer charge (``keep``: ``(station, connector)`` still charging)."""
    held = StationChargingProfile.objects.filter(
        station__site=site, purpose=ChargingProfilePurpose.TX
    )
    for row in held:
        if (row.station_id, row.connector_id) not in keep:
            row.delete()


# --- Selectors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargingConnector:
    """A connector charging at the site: the allocation's demand and what sending needs."""

    demand: ConnectorDemand
    station_id: int
    station_label: str
    connector_id: int
    transaction_id: int
    station_transaction_id: str
    ocpp_version: str
    connected: bool


def site_charging_connectors(*, site: Site) -> list[ChargingConnector]:
    """The site's charging connectors (one open session each), in a stable order. A station
    that is not connected cannot be told anything: counted at its maximum."""
    sessions = (
        ChargingSession.objects.active()
        .filter(station__site=site)
        .select_related("station", "vehicle")
        .order_by("station__charge_point_id", "connector_id", "transaction_id")
    )
    connectors, seen = [], set()
    for session in sessions:
        station, key = session.station, (session.station_id, session.connector_id)
        if key in seen:  # a stale open session behind a newer one: count the connector once
            continue
        seen.add(key)
        connected = station.connection_state == ConnectionState.CONNECTED
        connectors.append(
            ChargingConnector(
                demand=ConnectorDemand(
                    key=key,
                    max_w=station.connector_max_power_kw * 1000,
                    priority=session.vehicle.charging_priority if session.vehicle else 1,
                    departure=session.departure_at,
                    obeys_profiles=connected and not station.rejects_profiles,
                ),
                station_id=station.pk,
                station_label=str(station),
                connector_id=session.connector_id,
                transaction_id=session.transaction_id,
                station_transaction_id=session.station_transaction_id or "",
                ocpp_version=station.ocpp_version,
                connected=connected,
            )
        )
    return connectors


def site_connector_count(*, site: Site) -> int:
    """How many connectors the site's stations have (at least one a station): the fallback
    divides the limit by it."""
    total = 0
    for station in site.stations.prefetch_related("connectors"):
        total += max(sum(1 for c in station.connectors.all() if c.connector_id > 0), 1)
    return total


def held_limits(*, site: Site, purpose: str) -> dict[tuple[int, int], Decimal | None]:
    """``(station, connector)`` → the limit of the profile of ``purpose`` the station holds."""
    return {
        (station_id, connector_id): limit
        for station_id, connector_id, limit in StationChargingProfile.objects.filter(
            station__site=site, purpose=purpose
        ).values_list("station_id", "connector_id", "limit")
    }


def site_power_now(*, site: Site) -> dict[str, Any]:
    """The site's power now against its limit, per charging connector: the last power reading
    of each open session (W), and the limit it holds."""
    rows = []
    limits = held_limits(site=site, purpose=ChargingProfilePurpose.TX)
    for connector in site_charging_connectors(site=site):
        reading = (
            MeterValue.objects.filter(
                session_id=connector.transaction_id, measurand="Power.Active.Import"
            )
            .order_by("-timestamp")
            .values_list("value", "unit")
            .first()
        )
        power_w = None
        if reading is not None:
            try:
                power_w = Decimal(reading[0]) * (1000 if reading[1] == "kW" else 1)
            except ArithmeticError:
                power_w = None
        rows.append(
            {
                "station": connector.station_label,
                "connector": connector.connector_id,
                "power_w": power_w,
                "limit_w": limits.get(connector.demand.key),
                "connected": connector.connected,
            }
        )
    total = sum((row["power_w"] or Decimal(0) for row in rows), Decimal(0))
    limit_w = None if site.grid_limit_kw is None else site.grid_limit_kw * 1000
    return {"connectors": rows, "power_w": total, "limit_w": limit_w, "at": timezone.now()}
