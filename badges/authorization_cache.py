"""Accepted authorizations from memory: a station's Authorize for a tag it was accepted with a
moment ago is answered without the database.

Each server process keeps the facts (``AuthorizationFacts``) that led to an acceptance, by tag
and station, and decides again from them (``decide``, with the current time: an expiry date
still applies). Only acceptances are kept: every refusal goes to the database, which records it
(the unknown-vehicle inbox, pairing, security events).

Invalidation, in every process. A change that may alter a decision writes an
``AuthorizationChange`` row in its own transaction (``badges.access.authorization_changed``,
called by the services that write badges, vehicles, groups, companies, stations, sessions);
every process reads the recent rows every
``AUTHORIZATION_CACHE_POLL_SECONDS`` (0.2 s) and forgets what they name. The process that made
the change forgets at once, on commit. If the reading stops (database away, slow), the cache
stops answering ``_STALE_AFTER`` (0.8 s) after the last good read: a revoked badge is refused
within a second everywhere, whatever happens. Rows are read over a window of
``_WINDOW_SECONDS`` (transactions commit out of order) and entries live no longer than that.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from badges.authorization import AuthorizationFacts, Decision, decide
from badges.models import AuthorizationChange

logger = logging.getLogger(__name__)

_STALE_AFTER = 0.8  # seconds after the start of the last good read of the changes
_WINDOW_SECONDS = 10.0
_KEEP_CHANGES = timedelta(hours=1)
_MAX_ENTRIES = 200_000


class AuthorizationCache:
    def __init__(self, *, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], tuple[AuthorizationFacts, float]] = (
            OrderedDict()
        )
        self._by_badge: dict[int, set[tuple[str, int]]] = {}
        self._generation = 0  # bumped by every forgetting: facts loaded before are suspect
        self._fresh_until = 0.0  # monotonic time until which the cache may answer
        self._seen: set[int] = set()  # changes of the window already applied
        self._thread: threading.Thread | None = None
        self._stopping = False

    # --- The gateway's side --------------------------------------------------------------

    def decision(self, *, id_tag: str, station_id: int) -> Decision | None:
        """The decision for ``id_tag`` at the station, if memory says Accepted; None when the
        database must decide."""
        # Started by the gateway's ASGI lifespan; here too for what runs without one (the
        # test client, a process served with ``--lifespan off``).
        if self._thread is None and self.poll_seconds > 0:
            self._start()
        now = time.monotonic()
        if now > self._fresh_until:
            return None
        entry = self._entries.get((id_tag, station_id))
        if entry is None or now > entry[1]:
            return None
        # Remembered from a StartTransaction maybe: an Authorize names no connector.
        facts = dataclasses.replace(entry[0], now=timezone.now(), connector_id=None)
        decision = decide(facts)
        return decision if decision.accepted else None

    def generation(self) -> int:
        return self._generation

    def remember(self, *, id_tag: str, facts: AuthorizationFacts, generation: int) -> None:
        """Keep the facts of an acceptance, unless something changed since they were loaded
        (``generation`` taken before loading them)."""
        if facts.badge is None or self._thread is None:  # not a gateway process
            return
        with self._lock:
            if generation != self._generation:
                return
            key = (id_tag, facts.station.pk)
            self._entries[key] = (facts, time.monotonic() + _WINDOW_SECONDS)
            self._by_badge.setdefault(facts.badge.pk, set()).add(key)
            while len(self._entries) > _MAX_ENTRIES:
                old_key, (old_facts, _expiry) = self._entries.popitem(last=False)
                self._by_badge.get(old_facts.badge.pk, set()).discard(old_key)

    # --- Forgetting ------------------------------------------------------------------------

    def forget(self, badge_ids: set[int | None]) -> None:
        """Forget the entries of these badges; None in the set: forget everything."""
        with self._lock:
            self._generation += 1
            if None in badge_ids:
                self._entries.clear()
                self._by_badge.clear()
                return
            for badge_id in badge_ids:
                for key in self._by_badge.pop(badge_id, ()):
                    self._entries.pop(key, None)

    def clear(self) -> None:
        self.forget({None})

    def start(self) -> None:
        """Start reading the changes (a gateway process, at its startup), so the cache can
        answer from the first Authorize."""
        if self.poll_seconds > 0:
            self._start()

    def stop(self) -> None:
        """Stop reading the changes (the thread closes its database connection)."""
        self._stopping = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread, self._fresh_until = None, 0.0

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="authorization-cache", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        failing = False
        while not self._stopping:
            started = time.monotonic()
            try:
                close_old_connections()
                self._read_changes()
                self._fresh_until = started + _STALE_AFTER
                failing = False
            except Exception:
                if not failing:  # once per outage; the cache is off until it ends
                    logger.exception("authorization cache: reading the changes failed")
                failing = True
                connection.close()
            time.sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))
        connection.close()

    def _read_changes(self) -> None:
        since = timezone.now() - timedelta(seconds=_WINDOW_SECONDS)
        changes = dict(
            AuthorizationChange.objects.filter(created_at__gte=since).values_list("id", "badge_id")
        )
        new = {badge_id for change, badge_id in changes.items() if change not in self._seen}
        first_read = self._fresh_until == 0.0  # nothing remembered yet: nothing to forget
        if new and not first_read:
            self.forget(new)
        self._seen = set(changes)


cache = AuthorizationCache(poll_seconds=settings.AUTHORIZATION_CACHE_POLL_SECONDS)


def authorization_changes_prune() -> int:
    """The job ``prune_authorization_changes``: the changes no cache reads any more (every cache
    reads the last few seconds'); how many went."""
    deleted, _ = AuthorizationChange.objects.filter(
        created_at__lt=timezone.now() - _KEEP_CHANGES
    ).delete()
    return deleted
