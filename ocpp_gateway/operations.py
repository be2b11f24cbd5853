"""Station operations staff and the supervision start: enable Autocharge, sync the local list,
and keep stations' authorization caches fresh when badges are revoked.

Synchronous services, like ``commands``: they check what can be checked here, record it, and
have the station's connection run the rest (``procedures``) after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from badges.models import Badge, BadgeState
from ocpp_gateway.commands import (
    StationNotConnected,
    command_send,
    commands_fail_stale,
    notify_station,
)
from ocpp_gateway.models import (
    Command,
    CommandAction,
    CommandOrigin,
    Direction,
    LogStatus,
    OcppMessage,
)
from stations import selectors
from stations import services as station_services
from stations.models import AutochargeReadiness, ConnectionState, Station
from supervision import stored_text


def _connected(station: Station) -> bool:
    station.refresh_from_db(
        fields=["connection_state", "vendor", "model", "firmware_version", "ocpp_version"]
    )
    return station.connection_state == ConnectionState.CONNECTED


def autocharge_enable(*, station: Station, requested_by=None) -> AutochargeReadiness:
    """Start "Enable Autocharge" on the station; the readiness it records right away:
    ``no_profile``, ``checking`` (the station's connection goes on), or ``offline`` (raises
    StationNotConnected after recording it)."""
    connected = _connected(station)
    profile = selectors.autocharge_profile_for(station=station)
    if profile is None:
        detail = (
            f"No profile for vendor {station.vendor!r}, model {station.model!r}, "
            f"firmware {station.firmware_version!r}."
            if station.vendor
            else "The station has not sent a BootNotification yet: its vendor is unknown."
        )
        station_services.station_set_autocharge_readiness(
            station=station, readiness=AutochargeReadiness.NO_PROFILE, detail=detail
        )
        return AutochargeReadiness.NO_PROFILE
    if not connected:
        station_services.station_set_autocharge_readiness(
            station=station,
            readiness=AutochargeReadiness.OFFLINE,
            detail=stored_text.NOT_CONNECTED % {"station": station.charge_point_id},
        )
        raise StationNotConnected(station)
    station_services.station_set_autocharge_readiness(
        station=station,
        readiness=AutochargeReadiness.CHECKING,
        detail=stored_text.WAITING_FOR_CONNECTION % {"profile": profile},
    )
    notify_station(
        station.pk,
        {"type": "station.autocharge", "requested_by": getattr(requested_by, "pk", None)},
    )
    return AutochargeReadiness.CHECKING


def local_list_sync(*, station: Station, requested_by=None, full: bool = True) -> None:
    """Have the station's connection send its local list (whole, or the changes)."""
    if not _connected(station):
        station_services.station_note_local_list(
            station=station,
            detail=stored_text.NOT_CONNECTED % {"station": station.charge_point_id},
        )
        raise StationNotConnected(station)
    notify_station(
        station.pk,
        {
            "type": "station.local_list",
            "full": full,
            "requested_by": getattr(requested_by, "pk", None),
        },
    )


def stations_that_accepted(
    *, id_tag: str, since: datetime, among: Iterable[int] | None = None
) -> list[Station]:
    """Stations that were told ``id_tag`` is Accepted since then, so may hold it in their
    authorization cache.

    From the message log rather than the sessions: a station caches a tag from an Authorize
    answer even when no transaction follows (OCPP 1.6 §3.5.2), and only the log has those.
    OCPP 2.0.1 stations cache what Authorize and TransactionEvent answers accept (C10).
    """
    station_ids = (
        OcppMessage.objects.filter(
            direction=Direction.IN,
            action__in=["Authorize", "StartTransaction", "TransactionEvent"],
            status=LogStatus.ACCEPTED,
            id_tag=id_tag,
            created_at__gte=since,
            station__isnull=False,
            **({} if among is None else {"station__in": list(among)}),
        )
        .values("station_id")
        .distinct()
    )
    return list(Station.objects.filter(pk__in=station_ids))


def _cache_window() -> timedelta:
    return timedelta(hours=settings.OCPP_CACHE_WINDOW_HOURS)


def caches_clear(
    *,
    id_tag: str,
    reason: str,
    revoked_at: datetime,
    since: datetime | None = None,
    among: Iterable[int] | None = None,
) -> list[Command]:
    """Send ClearCache to the stations (``among`` these ids, when given) that accepted
    ``id_tag`` recently, unless one was already
    sent (or owed) since the revocation: a bulk change, or the periodic expiry check run again,
    sends one per station, not one per badge and run. A station that is not connected gets a
    ``failed`` command, which it is owed when it reconnects."""
    sent = []
    since = since or timezone.now() - _cache_window()
    for station in stations_that_accepted(id_tag=id_tag, since=since, among=among):
        already = Command.objects.filter(
            station=station, action=CommandAction.CLEAR_CACHE, created_at__gte=revoked_at
        ).exists()
        if already:
            continue
        try:
            sent.append(
                command_send(
                    station=station,
                    action=CommandAction.CLEAR_CACHE,
                    payload={},
                    origin=CommandOrigin.CACHE_REVOCATION,
                    reason=reason[:200],
                )
            )
        except StationNotConnected as offline:
            sent.append(offline.command)
    return sent


def local_lists_refresh() -> None:
    """Have every connected station holding a local list send the changes it needs (the
    connection computes the difference; nothing is sent when there is none)."""
    stations = Station.objects.filter(
        local_list_version__gt=0, connection_state=ConnectionState.CONNECTED
    ).values_list("pk", flat=True)
    for station_id in stations:
        notify_station(
            station_id, {"type": "station.local_list", "full": False, "requested_by": None}
        )


def on_station_access_revoked(
    sender, *, revoked: Iterable[tuple[str, str]], station_ids, revoked_at: datetime, **kwargs
) -> None:
    """Tags stopped being usable (``(id_tag, reason)``; ``badges.events``): clear the caches of
    the stations (``station_ids``, or any) that may hold them, then bring local lists up to
    date. Runs after the change committed. A badge still allowed at a station another way (its
    own company's station, another group) is cleared too: the station then merely asks again."""
    for id_tag, reason in revoked:
        caches_clear(id_tag=id_tag, reason=reason, revoked_at=revoked_at, among=station_ids)
    local_lists_refresh()


def expired_badges_revoke(*, now: datetime | None = None) -> list[Command]:
    """Expiry has no save to react to: clear the caches of stations that accepted a badge which
    has expired within the cache window, unless their cache was cleared since it expired.
    Run periodically (``manage.py refresh_station_authorizations``)."""
    now = now or timezone.now()
    window = _cache_window()
    sent = []
    expired = Badge.objects.filter(expires_at__lte=now, expires_at__gt=now - window).filter(
        state=BadgeState.ENABLED
    )
    for badge in expired:
        sent += caches_clear(
            id_tag=badge.rfid,
            reason=f"Badge {badge.rfid} expired.",
            revoked_at=badge.expires_at,
            since=badge.expires_at - window,
        )
    return sent


def station_authorizations_refresh() -> dict[str, int]:
    """The periodic check (job ``refresh_station_authorizations``, or the command of that name):
    ClearCache to the stations that accepted a badge which has expired since, local lists
    brought up to date, and commands no server process took failed. How many of each."""
    cleared = expired_badges_revoke()
    local_lists_refresh()
    # A connection runs its commands one by one, each waiting at most the response timeout;
    # a command pending far longer than that was delivered to a process that is gone.
    stale = commands_fail_stale(
        older_than=max(
            timedelta(minutes=10), 20 * timedelta(seconds=settings.OCPP_RESPONSE_TIMEOUT)
        )
    )
    return {"clear_cache_commands": len(cleared), "stale_commands_failed": stale}
