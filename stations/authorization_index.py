"""What an authorization needs, for every badge and station, in each server process's memory.

A station's Authorize is answered from here, refusals included, with the same ``decide`` the
database path uses: the reference server keeps every tag in memory, and real stations send a
vehicle's tag once per plug-in, so remembering only the tags just seen (the previous cache)
sent nearly every Authorize to the database. The index holds, read once at startup: each
badge (state, expiry, company and whether it is archived, vehicle and whether it is active,
groups), each station (mode, company, groups), the badges charging now and where, the stations
where a reservation holds or a pairing window is open (their Authorize goes to the database,
which knows the connectors and pairs).

Invalidation, in every process, within a second. A change that may alter a decision writes an
``AuthorizationChange`` row in its own transaction (``badges.access.authorization_changed``,
called by the services that write badges, vehicles, groups, companies, stations, sessions,
reservations and pairing windows). The index's thread reads the recent rows every
``AUTHORIZATION_CACHE_POLL_SECONDS`` (0.2 s) and reads again what they name: one badge's rows,
or everything (a change without a badge). The process that made the change marks it at once,
on commit (``badges.events.authorization_changed``). Until a badge is read again it is "dirty":
its Authorize goes to the database, and so does any tag the index does not know while a change
that may give a badge a new tag is unread (it may be the badge just created or renamed); a
session starting or stopping cannot (``tags_unchanged``), so the unknown vehicles of a busy
fleet are still refused from memory while sessions come and go. If the reading stops
(database away, slow), the index stops answering ``stale_after`` (0.8 s) after the last good
read: a revoked badge is refused within a second everywhere, whatever happens. Rows are read
over a window of ``_WINDOW_SECONDS`` (transactions commit out of order).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from badges.authorization import AuthorizationFacts, Decision, decide
from badges.identifiers import IdTagError, normalize_id_tag
from badges.models import AuthorizationChange, Badge, PairingWindow, Reservation
from fleet.models import AuthorizationGroup
from stations.models import ChargingSession, Station

logger = logging.getLogger(__name__)

_WINDOW_SECONDS = 10.0
_KEEP_CHANGES = timedelta(hours=1)
_EVERYTHING = None  # a change naming no badge


@dataclass(frozen=True)
class _Station:
    """What a decision reads of a station (``decide`` reads ``auth_mode`` and ``company_id``),
    and whether it belongs to a site (whose shares its sessions and statuses change)."""

    pk: int
    charge_point_id: str
    auth_mode: str
    company_id: int | None
    group_ids: frozenset[int]
    busy_until: datetime | None
    """Until when a reservation holds or a pairing window is open there: the database decides."""
    site_id: int | None = None


@dataclass
class _Contents:
    badges: dict[str, Badge]  # by canonical tag
    tags: dict[int, str]  # badge id → its tag
    badge_groups: dict[int, frozenset[int]]
    charging_at: dict[int, frozenset[int]]  # badge id → stations where it charges (accepted)
    stations: dict[int, _Station]


class AuthorizationIndex:
    def __init__(self, *, poll_seconds: float, stale_after: float = 0.8) -> None:
        self.poll_seconds = poll_seconds
        self.stale_after = stale_after  # seconds after the start of the last good read
        self._lock = threading.Lock()
        self._contents: _Contents | None = None
        # Badge ids (None: everything) changed and not read again yet, with the mark's number:
        # a reading clears a mark only if no newer one came meanwhile.
        self._dirty: dict[int | None, int] = {}
        # Those of them whose change may have given a badge a new tag, with the same marks.
        self._retagged: dict[int | None, int] = {}
        self._marks = 0
        self._fresh_until = 0.0  # monotonic time until which the index may answer
        self._seen: set[int] = set()  # changes of the window already applied
        self._thread: threading.Thread | None = None
        self._stopping = False

    # --- The gateway's side --------------------------------------------------------------

    def decision(self, *, id_tag: str, station_id: int) -> Decision | None:
        """The decision for ``id_tag`` presented at the station now (an Authorize: no
        connector), or None when the database must decide."""
        contents = self._answering()
        station = contents.stations.get(station_id) if contents is not None else None
        now = timezone.now()
        if station is None or (station.busy_until is not None and station.busy_until > now):
            return None
        try:
            canonical, malformed = normalize_id_tag(id_tag), False
        except IdTagError:
            canonical, malformed = id_tag.strip().upper(), True
        badge = None if malformed else contents.badges.get(canonical)
        if badge is None and not malformed and self._retagged:
            return None  # perhaps the badge just created or renamed
        if badge is not None and badge.pk in self._dirty:
            return None
        groups = contents.badge_groups.get(badge.pk, frozenset()) if badge else frozenset()
        charging_at = contents.charging_at.get(badge.pk, frozenset()) if badge else frozenset()
        return decide(
            AuthorizationFacts(
                station=station,
                id_tag=canonical,
                id_tag_malformed=malformed,
                badge=badge,
                station_in_badge_groups=bool(groups & station.group_ids),
                active_session_elsewhere=bool(charging_at - {station_id}),
                now=now,
            )
        )

    def station(self, station_id: int) -> _Station | None:
        """What staff configured for the station (identity, mode, company, site) as the index
        knows it now, or None when the database must say."""
        contents = self._answering()
        return contents.stations.get(station_id) if contents is not None else None

    def _answering(self) -> _Contents | None:
        """What the index holds, if it may answer from it now."""
        contents = self._contents
        if contents is None or time.monotonic() > self._fresh_until or None in self._dirty:
            return None
        return contents

    # --- Invalidation ----------------------------------------------------------------------

    def forget(self, badge_ids: set[int | None], *, tags_unchanged: bool = False) -> None:
        """These badges (None: any) changed: the database decides for them until they are
        read again, and for tags the index does not know unless ``tags_unchanged``."""
        with self._lock:
            for badge_id in badge_ids:
                self._marks += 1
                self._dirty[badge_id] = self._marks
                if not tags_unchanged:
                    self._retagged[badge_id] = self._marks

    def clear(self) -> None:
        self.forget({_EVERYTHING})

    def start(self) -> None:
        """Read everything and keep reading the changes (a gateway process, at its startup)."""
        if self.poll_seconds > 0:
            with self._lock:
                if self._thread is not None:
                    return
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="authorization-index", daemon=True
                )
            self._thread.start()

    def stop(self) -> None:
        """Stop reading (the thread closes its database connection) and answering."""
        self._stopping = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread, self._fresh_until, self._contents = None, 0.0, None

    def _run(self) -> None:
        failing = False
        self.forget({_EVERYTHING})
        while not self._stopping:
            started = time.monotonic()
            try:
                close_old_connections()
                self.read()
                failing = False
            except Exception:
                if not failing:  # once per outage; the index is off until it ends
                    logger.exception("authorization index: reading the changes failed")
                failing = True
                connection.close()
            time.sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))
        connection.close()

    def read(self) -> None:
        """Read the new changes, then what they name (the thread, at every poll)."""
        started = time.monotonic()
        self._read_changes()
        self._read_again()
        self._fresh_until = started + self.stale_after

    def _read_changes(self) -> None:
        since = timezone.now() - timedelta(seconds=_WINDOW_SECONDS)
        changes = AuthorizationChange.objects.filter(created_at__gte=since).values_list(
            "id", "badge_id", "tags_unchanged"
        )
        new = {True: set(), False: set()}
        for change, badge_id, tags_unchanged in changes:
            if change not in self._seen:
                new[tags_unchanged].add(badge_id)
        for tags_unchanged, badge_ids in new.items():
            if badge_ids:
                self.forget(badge_ids, tags_unchanged=tags_unchanged)
        self._seen = {change for change, _, _ in changes}

    def _read_again(self) -> None:
        with self._lock:
            marked = dict(self._dirty)
        if not marked:
            return
        if _EVERYTHING in marked:
            self._contents = _read_everything()
        else:
            _read_badges(self._contents, set(marked))
        with self._lock:
            for badge_id, mark in marked.items():
                if self._dirty.get(badge_id) == mark:
                    del self._dirty[badge_id]
                # Read after every mark up to this one, the retagging ones included.
                if badge_id in self._retagged and self._retagged[badge_id] <= mark:
                    del self._retagged[badge_id]


def _badges(queryset) -> list[Badge]:
    """Badges with what ``decide`` reads of their company and vehicle, and nothing else."""
    return list(
        queryset.select_related("company", "vehicle").only(
            "rfid",
            "state",
            "expires_at",
            "company_id",
            "vehicle_id",
            "company__archived_at",
            "vehicle__active",
        )
    )


def _grouped(pairs) -> dict[int, frozenset[int]]:
    """``(key, value)`` pairs as each key's set of values."""
    grouped = defaultdict(set)
    for key, value in pairs:
        grouped[key].add(value)
    return {key: frozenset(values) for key, values in grouped.items()}


def _groups_of(badge_ids=None) -> dict[int, frozenset[int]]:
    through = Badge.groups.through.objects.all()
    if badge_ids is not None:
        through = through.filter(badge_id__in=badge_ids)
    return _grouped(through.values_list("badge_id", "authorizationgroup_id"))


def _charging(badge_ids=None) -> dict[int, frozenset[int]]:
    # Only accepted sessions count (as in ``load_facts``).
    sessions = ChargingSession.objects.active().filter(
        authorization_status="Accepted", badge__isnull=False
    )
    if badge_ids is not None:
        sessions = sessions.filter(badge_id__in=badge_ids)
    return _grouped(sessions.values_list("badge_id", "station_id"))


def _read_everything() -> _Contents:
    now = timezone.now()
    busy: dict[int, datetime] = {}
    for station_id, until in [
        *Reservation.objects.holding(now).values_list("station_id", "expires_at"),
        *PairingWindow.objects.open(now).values_list("station_id", "expires_at"),
    ]:
        busy[station_id] = max(until, busy.get(station_id, until))
    station_groups = _grouped(
        AuthorizationGroup.stations.through.objects.values_list(
            "station_id", "authorizationgroup_id"
        )
    )
    badges = _badges(Badge.objects.all())
    return _Contents(
        badges={badge.rfid: badge for badge in badges},
        tags={badge.pk: badge.rfid for badge in badges},
        badge_groups=_groups_of(),
        charging_at=_charging(),
        stations={
            pk: _Station(
                pk=pk,
                charge_point_id=charge_point_id,
                auth_mode=auth_mode,
                company_id=company_id,
                group_ids=station_groups.get(pk, frozenset()),
                busy_until=busy.get(pk),
                site_id=site_id,
            )
            for pk, charge_point_id, auth_mode, company_id, site_id in Station.objects.filter(
                archived_at__isnull=True
            ).values_list("pk", "charge_point_id", "auth_mode", "company_id", "site_id")
        },
    )


def _read_badges(contents: _Contents, badge_ids: set[int]) -> None:
    """Read these badges again, in place: each is dirty meanwhile, so no decision reads a
    badge half updated."""
    fresh = {badge.pk: badge for badge in _badges(Badge.objects.filter(pk__in=badge_ids))}
    groups, charging = _groups_of(badge_ids), _charging(badge_ids)
    for badge_id in badge_ids:
        old_tag = contents.tags.pop(badge_id, None)
        if old_tag is not None and contents.badges.get(old_tag) is not None:
            if contents.badges[old_tag].pk == badge_id:
                del contents.badges[old_tag]
        contents.badge_groups.pop(badge_id, None)
        contents.charging_at.pop(badge_id, None)
        badge = fresh.get(badge_id)
        if badge is None:  # deleted
            continue
        contents.badges[badge.rfid] = badge
        contents.tags[badge_id] = badge.rfid
        if badge_id in groups:
            contents.badge_groups[badge_id] = groups[badge_id]
        if badge_id in charging:
            contents.charging_at[badge_id] = charging[badge_id]


index = AuthorizationIndex(poll_seconds=settings.AUTHORIZATION_CACHE_POLL_SECONDS)


def on_authorization_changed(
    sender, *, badge_ids: set[int | None], tags_unchanged: bool = False, **kwargs
) -> None:
    index.forget(badge_ids, tags_unchanged=tags_unchanged)


def authorization_changes_prune() -> int:
    """The job ``prune_authorization_changes``: the changes no process reads any more (every
    index reads the last few seconds'); how many went."""
    deleted, _ = AuthorizationChange.objects.filter(
        created_at__lt=timezone.now() - _KEEP_CHANGES
    ).delete()
    return deleted
