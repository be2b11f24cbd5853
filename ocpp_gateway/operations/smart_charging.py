"""Load balancing per site, in OCPP terms: compute the shares (``stations.load_balancing``, a
pure function over the facts ``stations.sites`` loads), record the decision, and send each
charging connector whose limit changed a TxProfile (1.6 and 2.0.1 alike), through the command
machinery (``origin=load_balancing``). Every station of a limited site also holds a fallback
TxDefaultProfile, its share of the limit with every connector charging, which keeps the site
within its limit when the supervision is unreachable.

Synchronous, run after the change committed: by the handlers (``v16``/``v201``
``smart_charging``) in the database thread, and by the site services through
``stations.events.site_changed``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ocpp_gateway.models import Command, CommandAction, CommandOrigin, CommandState
from ocpp_gateway.operations.commands import StationNotConnected, command_send
from stations import sites
from stations.load_balancing import allocate
from stations.models import (
    ChargingProfilePurpose,
    ConnectionState,
    OcppVersion,
    Site,
    Station,
)

# Our profiles' ids and stack levels: one TxProfile per connector (replaced in place, as the
# same id replaces a profile in both versions), one fallback per station.
TX_PROFILE_ID_BASE = 1000
TX_DEFAULT_PROFILE_ID = 900
STACK_LEVEL = 1
# CALLERROR codes meaning the station has no smart charging at all.
_UNSUPPORTED = {"NotImplemented", "NotSupported"}
# The commands whose outcome changes the profiles a station holds.
PROFILE_ACTIONS = {CommandAction.SET_CHARGING_PROFILE, CommandAction.CLEAR_CHARGING_PROFILE}


def tx_profile_id(connector_id: int) -> int:
    return TX_PROFILE_ID_BASE + connector_id


def profile_command(
    *,
    version: str,
    connector_id: int,
    profile_id: int,
    purpose: str,
    limit_w: Decimal,
    transaction_id: int | str | None = None,
) -> dict[str, Any]:
    """The SetChargingProfile payload of a one-period profile in watts, in ``version``'s terms
    (a relative schedule: it starts with each transaction)."""
    period = {"startPeriod": 0, "limit": float(limit_w)}
    if version == OcppVersion.V201:
        profile = {
            "id": profile_id,
            "stackLevel": STACK_LEVEL,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {"id": profile_id, "chargingRateUnit": "W", "chargingSchedulePeriod": [period]}
            ],
        }
        if transaction_id is not None:
            profile["transactionId"] = str(transaction_id)
        return {"evseId": connector_id, "chargingProfile": profile}
    profile = {
        "chargingProfileId": profile_id,
        "stackLevel": STACK_LEVEL,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [period]},
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"connectorId": connector_id, "csChargingProfiles": profile}


def _send(station_id: int, payload: dict[str, Any], reason: str) -> None:
    station = Station.objects.get(pk=station_id)
    try:
        command_send(
            station=station,
            action=CommandAction.SET_CHARGING_PROFILE,
            payload=payload,
            origin=CommandOrigin.LOAD_BALANCING,
            reason=reason[:200],
        )
    except StationNotConnected:
        pass  # recorded failed; the station gets its profiles when it returns


def site_rebalance(*, site_id: int, trigger: str, force: bool = False):
    """Share the site's limit among its charging connectors now; send the TxProfiles that
    changed (``force``: all of them). The recorded decision, or None (no limit, or the same as
    the last one)."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None or site.grid_limit_kw is None:
        return None
    limit_w = site.grid_limit_kw * 1000
    connectors = sites.site_charging_connectors(site=site)
    allocations = allocate(
        limit_w=limit_w, connectors=[c.demand for c in connectors], now=timezone.now()
    )
    with transaction.atomic():
        decision = sites.load_balancing_record(
            site=site,
            trigger=trigger,
            limit_w=limit_w,
            connectors=connectors,
            allocations=allocations,
        )
        sites.held_tx_profiles_forget(site=site, keep={c.demand.key for c in connectors})
    held = sites.held_limits(site=site, purpose=ChargingProfilePurpose.TX)
    by_key = {c.demand.key: c for c in connectors}
    for allocation in allocations:
        connector = by_key[allocation.key]
        if not connector.demand.obeys_profiles:
            continue
        if not force and held.get(allocation.key) == allocation.limit_w:
            continue
        _send(
            connector.station_id,
            profile_command(
                version=connector.ocpp_version,
                connector_id=connector.connector_id,
                profile_id=tx_profile_id(connector.connector_id),
                purpose=ChargingProfilePurpose.TX,
                limit_w=allocation.limit_w,
                transaction_id=(
                    connector.station_transaction_id
                    if connector.ocpp_version == OcppVersion.V201
                    else connector.transaction_id
                ),
            ),
            f"Site {site.name}: {trigger}",
        )
    return decision


def fallback_limit_w(site: Site) -> Decimal:
    """Each connector's share of the limit with all of them charging, rounded down."""
    share = site.grid_limit_kw * 1000 / sites.site_connector_count(site=site)
    return share.quantize(Decimal("0.1"), rounding="ROUND_DOWN")


def station_fallback_push(*, station: Station, site: Site, force: bool = False) -> None:
    """Give the station the site's fallback TxDefaultProfile (connector 0 / EVSE 0: each
    connector), unless it holds that one already."""
    limit_w = fallback_limit_w(site)
    held = sites.held_limits(site=site, purpose=ChargingProfilePurpose.TX_DEFAULT)
    if not force and held.get((station.pk, 0)) == limit_w:
        return
    payload = profile_command(
        version=station.ocpp_version,
        connector_id=0,
        profile_id=TX_DEFAULT_PROFILE_ID,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        limit_w=limit_w,
    )
    _send(station.pk, payload, f"Site {site.name}: fallback if the supervision is unreachable")


def station_returned(*, station_id: int) -> None:
    """A station (re)connected or booted: its fallback profile, and its site's shares sent
    again to it (it may have lost them)."""
    station = Station.objects.select_related("site").get(pk=station_id)
    site = station.site
    if site is None or site.grid_limit_kw is None:
        return
    station_fallback_push(station=station, site=site, force=True)
    site_rebalance(site_id=site.pk, trigger=f"{station.charge_point_id} connected", force=True)


def station_changed(*, station_id: int, trigger: str) -> None:
    """A session started or stopped, or a connector's status changed, at the station."""
    site_id = Station.objects.filter(pk=station_id).values_list("site_id", flat=True).first()
    if site_id is not None:
        site_rebalance(site_id=site_id, trigger=trigger)


def on_site_changed(sender, *, site_id: int, **kwargs) -> None:
    """A site's limit or stations changed: new fallbacks for its connected stations (forced:
    the share of each changes with the number of connectors), new shares."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None or site.grid_limit_kw is None:
        return
    for station in site.stations.filter(connection_state=ConnectionState.CONNECTED):
        station_fallback_push(station=station, site=site)
    site_rebalance(site_id=site_id, trigger="The site changed", force=True)


def command_outcome_record(*, command: Command) -> None:
    """What a finished charging profile command tells (whoever sent it): the profiles the
    station holds, and whether it takes them at all. In the command's transaction."""
    station, payload = command.station, command.payload
    if command.action == CommandAction.SET_CHARGING_PROFILE:
        profile = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
        connector_id = payload.get("connectorId", payload.get("evseId", 0))
        if command.state == CommandState.ACCEPTED:
            sites.station_record_charging_profile(
                station=station, connector_id=connector_id, profile=profile
            )
            sites.station_flag_profiles(station=station, rejects=False)
        elif (
            # A staff profile may be refused for its content (a TxProfile without a
            # transaction, TC_K_02); one of ours, or a CALLERROR saying the feature is absent,
            # means the station will not be limited.
            command.state == CommandState.REJECTED
            and command.origin == CommandOrigin.LOAD_BALANCING
        ) or (command.state == CommandState.FAILED and command.ocpp_status in _UNSUPPORTED):
            if sites.station_flag_profiles(station=station, rejects=True):
                # Counted at its maximum from now on: the others' shares shrink.
                transaction.on_commit(
                    lambda: station_changed(
                        station_id=station.pk,
                        trigger=f"{station.charge_point_id} rejects charging profiles",
                    )
                )
    elif command.action == CommandAction.CLEAR_CHARGING_PROFILE:
        if command.state != CommandState.ACCEPTED:
            return
        criteria = payload.get("chargingProfileCriteria") or {}
        sites.station_forget_charging_profiles(
            station=station,
            profile_id=payload.get("id", payload.get("chargingProfileId")),
            connector_id=payload.get("connectorId", criteria.get("evseId")),
            purpose=payload.get("chargingProfilePurpose", criteria.get("chargingProfilePurpose")),
            stack_level=payload.get("stackLevel", criteria.get("stackLevel")),
        )
