"""Failed station logins: limited, and reported as one security event per station and hour.

Three counters, each of ``OCPP_AUTH_FAILURES_ALLOWED`` failures before refusals for
``OCPP_AUTH_LOCKOUT_SECONDS``, doubled at each new lockout up to ``OCPP_AUTH_LOCKOUT_MAX_SECONDS``:

- per station id and address: a station with a wrong password, or a guesser behind its NAT;
- per station id, from any address but the one the station last connected from with its
  credentials accepted: guessers spread over many addresses, who can then not lock the real
  station out;
- per address, over every id, except pairs known good: one source trying many ids (and,
  with passwords required, unknown ids count as wrong passwords).

Counted in each server process's memory: nothing to read on the way of a handshake, nothing
that stops with Redis. With N processes behind a load balancer an address gets up to N times the
attempts; station passwords are long random secrets, so the limit is there to keep the CPU and
the security events quiet, not to make guessing feasible.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

# Entries kept at most: a spray of random ids must not grow the process without bound. The
# oldest go first.
_MAX_ENTRIES = 100_000
# A counter forgets its failures, and its lockout history, after this long without one.
_QUIET_SECONDS = 3600.0
# Addresses and reasons listed in a report, at most.
_MAX_LISTED = 20


@dataclass
class _Counter:
    failures: int = 0
    locked_until: float = 0.0
    lockouts: int = 0
    last_failure: float = 0.0


@dataclass
class Report:
    """What happened to one station's logins (or to unknown ids from one address) since the
    last report was written."""

    station_id: int | None
    address: str  # for unknown ids: the source; for a station: empty
    attempts: int = 0
    refused_while_locked: int = 0
    addresses: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    charge_point_ids: Counter = field(default_factory=Counter)
    locked_until: float = 0.0


class HandshakeGuard:
    def __init__(
        self,
        *,
        failures_allowed: int,
        lockout_seconds: float,
        max_lockout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_allowed = failures_allowed
        self.lockout_seconds = lockout_seconds
        self.max_lockout_seconds = max_lockout_seconds
        self.clock = clock
        self._counters: OrderedDict[tuple, _Counter] = OrderedDict()
        self.reports: dict[tuple, Report] = {}

    @staticmethod
    def _keys(charge_point_id: str, address: str, known_good: bool) -> list[tuple]:
        keys = [("pair", charge_point_id, address)]
        if not known_good:
            keys += [("id", charge_point_id), ("address", address)]
        return keys

    def retry_after(self, *, charge_point_id: str, address: str, known_good: bool) -> float:
        """Seconds until this id may try again from this address (0: it may now)."""
        now = self.clock()
        waits = [
            counter.locked_until - now
            for key in self._keys(charge_point_id, address, known_good)
            if (counter := self._counters.get(key)) is not None
        ]
        return max([0.0, *waits])

    def failed(self, *, charge_point_id: str, address: str, known_good: bool) -> None:
        now = self.clock()
        for key in self._keys(charge_point_id, address, known_good):
            counter = self._counters.pop(key, None) or _Counter()
            if now - counter.last_failure > _QUIET_SECONDS:
                counter = _Counter()
            counter.failures += 1
            counter.last_failure = now
            if counter.failures >= self.failures_allowed:
                lockout = min(self.lockout_seconds * 2**counter.lockouts, self.max_lockout_seconds)
                counter.locked_until = now + lockout
                counter.lockouts += 1
                counter.failures = 0
            self._counters[key] = counter  # the most recent last
        while len(self._counters) > _MAX_ENTRIES:
            self._counters.popitem(last=False)

    def succeeded(self, *, charge_point_id: str, address: str) -> None:
        """The station's own counters start again (not its address's: it may be shared)."""
        self._counters.pop(("pair", charge_point_id, address), None)
        self._counters.pop(("id", charge_point_id), None)

    # --- What the security events say -----------------------------------------------------

    def note(
        self,
        *,
        station_id: int | None,
        charge_point_id: str,
        address: str,
        reason: str,
        refused_while_locked: bool = False,
        locked_until: float = 0.0,
    ) -> None:
        """Count a refusal in the report of its station (or of unknown ids from ``address``)."""
        key = (station_id, "" if station_id is not None else address)
        report = self.reports.get(key)
        if report is None:
            report = self.reports[key] = Report(station_id=station_id, address=key[1])
        report.attempts += 1
        report.refused_while_locked += refused_while_locked
        for counter, value in (
            (report.addresses, address),
            (report.reasons, reason),
            (report.charge_point_ids, charge_point_id),
        ):
            if value in counter or len(counter) < _MAX_LISTED:
                counter[value] += 1
        report.locked_until = max(report.locked_until, locked_until)

    def take_reports(self) -> list[Report]:
        reports, self.reports = list(self.reports.values()), {}
        return reports
