"""Stations' authorization caches and local lists kept fresh when badges are revoked or
expire: which stations may hold a tag, ClearCache to them, local lists refreshed.

Synchronous services, like ``commands``: they record the commands, and the station's
connection runs them after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from badges.models import Badge, BadgeState
from ocpp_gateway.models import (
    Command,
    CommandAction,
    CommandOrigin,
    CommandState,
    Direction,
    LogStatus,
    OcppMessage,
)
from ocpp_gateway.operations.commands import (
    StationNotConnected,
    command_send,
    commands_fail_stale,
    notify_station,
)
from stations.models import ConnectionState, Station


def latest_clear_cache_state() -> Subquery:
    """The state of the station's (``OuterRef("pk")``) latest ClearCache that says whether its
    cache is clean: one that cleared it, or a revocation's that failed."""
    return Subquery(
        Command.objects.filter(station=OuterRef("pk"), action=CommandAction.CLEAR_CACHE)
        .filter(
            Q(state=CommandState.ACCEPTED)
            | Q(
                origin=CommandOrigin.CACHE_REVOCATION,
                state__in=[CommandState.FAILED, CommandState.TIMEOUT],
            )
        )
        .order_by("-created_at")
        .values("state")[:1]
    )


def clear_cache_owed(latest_state: str | None) -> bool:
    """A revocation's ClearCache could not be delivered since the cache was last cleared, as the
    station's ``latest_clear_cache_state`` says."""
    return latest_state is not None and latest_state != CommandState.ACCEPTED


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
