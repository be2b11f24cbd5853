"""How fast each station may send: a token bucket per station id, kept by the server process.

Per station, not per socket: a flooding station that reconnects finds its bucket as it left it,
not a full one. ``OCPP_RATE_PER_SECOND`` frames a second on average, bursts of
``OCPP_RATE_BURST``. Beyond:

- a station a little over the rate is slowed: its frame waits for its token (OCPP stations send
  one call at a time, so the next call waits too);
- a call that would have to wait more than ``DROP_AFTER_SECONDS`` (the station is far over the
  rate, e.g. over several sockets at once) is dropped: answered with a CALLERROR
  ``GenericError`` "rate limit exceeded", kept out of the message log, and counted; the count
  is one WARNING line per station per ``REPORT_EVERY_SECONDS``;
- a station over the rate for ``OCPP_RATE_MAX_DELAY_SECONDS`` in a row is disconnected (1008).
  Until its bucket is full again, it stays over the rate: reconnecting at once, it is served
  the tokens it earned meanwhile, then cut off again at the first frame it would wait for
  (however long its handshake took, which refills a token every 1/rate seconds).

The station's answers to our own calls are never dropped nor slowed (a command waits for
them), but they take tokens: answers nobody asked for are flooding too.

A bucket that is full again is forgotten (a new one would be the same), so memory holds only
the stations that sent something lately.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DROP_AFTER_SECONDS = 1.0
REPORT_EVERY_SECONDS = 60.0
_SWEEP_EVERY_SECONDS = 60.0


class Verdict(enum.Enum):
    HANDLE = "handle"  # after ``delay`` seconds
    DROP = "drop"
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    delay: float = 0.0


HANDLE_NOW = Admission(Verdict.HANDLE)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    # When the station went over the rate, in a row; None while it is within it.
    over_since: float | None = None
    # Disconnected for flooding: tokens earned since do not make it within the rate again,
    # only a full bucket does.
    cut_off: bool = False


def _call_later(delay: float, callback: Callable[[], None]) -> None:
    asyncio.get_running_loop().call_later(delay, callback)


class StationRateLimits:
    """The token buckets of the stations this process serves. ``clock`` (seconds, monotonic)
    and ``schedule`` (run a callback after a delay) are injectable for tests."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], None] = _call_later,
    ) -> None:
        self._clock = clock
        self._schedule = schedule
        self._buckets: dict[str, _Bucket] = {}
        self._dropped: dict[str, int] = {}  # per station, since its last report
        self._swept_at = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(
        self, station: str, *, rate: float, burst: int, max_delay: float, answer: bool = False
    ) -> Admission:
        """What to do with the frame ``station`` just sent (``answer``: a CALLRESULT or
        CALLERROR, never dropped nor slowed)."""
        now = self._clock()
        if now - self._swept_at >= _SWEEP_EVERY_SECONDS:
            self._forget_full(now, rate=rate, burst=burst)
        bucket = self._buckets.get(station)
        if bucket is None:
            bucket = self._buckets[station] = _Bucket(tokens=float(burst), updated=now)
        else:
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= burst:
                bucket.cut_off = False
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if not bucket.cut_off:
                bucket.over_since = None
            return HANDLE_NOW
        if bucket.over_since is None:
            bucket.over_since = now
        wait = (1 - bucket.tokens) / rate
        if answer:
            bucket.tokens -= 1
            return HANDLE_NOW if now - bucket.over_since <= max_delay else _cut_off(bucket)
        if wait > DROP_AFTER_SECONDS:
            if now - bucket.over_since > max_delay:
                return _cut_off(bucket)
            self._count_drop(station)
            return _DROP
        # Handled once it has waited: over the rate for that long in a row by then.
        if now + wait - bucket.over_since > max_delay:
            return _cut_off(bucket)
        bucket.tokens -= 1
        return Admission(Verdict.HANDLE, wait)

    def dropped(self, station: str) -> int:
        """The calls of ``station`` dropped since its last report."""
        return self._dropped.get(station, 0)

    def clear(self) -> None:
        self._buckets.clear()
        self._dropped.clear()

    def _count_drop(self, station: str) -> None:
        if station not in self._dropped:
            self._dropped[station] = 0
            self._schedule(REPORT_EVERY_SECONDS, lambda: self._report(station))
        self._dropped[station] += 1

    def _report(self, station: str) -> None:
        count = self._dropped.pop(station, 0)
        if count:
            logger.warning(
                "%s: over the rate limit, %d call(s) dropped in the last %d s",
                station,
                count,
                REPORT_EVERY_SECONDS,
            )

    def _forget_full(self, now: float, *, rate: float, burst: int) -> None:
        self._swept_at = now
        full = [
            station
            for station, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * rate >= burst
        ]
        for station in full:
            del self._buckets[station]


_DROP = Admission(Verdict.DROP)
_DISCONNECT = Admission(Verdict.DISCONNECT)


def _cut_off(bucket: _Bucket) -> Admission:
    bucket.cut_off = True
    return _DISCONNECT


# The process's buckets: every connection of a station, old or new, draws from the same one.
station_rate_limits = StationRateLimits()


def is_an_answer(text: str) -> bool:
    """Whether the frame is a CALLRESULT or CALLERROR, read from its first characters only
    (the frame is parsed once, later, for the log and the library)."""
    head = text.lstrip()[:16]
    if not head.startswith("["):
        return False
    head = head[1:].lstrip()
    return len(head) > 1 and head[0] in "34" and not head[1].isdigit()
