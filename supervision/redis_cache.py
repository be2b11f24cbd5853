"""The Redis cache (API throttling counts, a pushed password until its command is claimed):
one connection pool per process, and the process's own memory while Redis cannot be reached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# What a Redis that is down, restarting or out of reach raises (a refused or timed out
# connection, a read that timed out, a server still loading its data). Anything else (a wrong
# command, a key that is not a number for incr) is a bug and goes through.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)

# A request waits at most this long on a Redis that does not answer (a host gone, a network
# partition: a stopped server refuses at once); on the loopback or a LAN it answers in well
# under a millisecond.
SOCKET_TIMEOUT_SECONDS = 0.5
# While Redis is down, one request tries it again this often; the others use memory meanwhile.
RETRY_SECONDS = 5.0
# The memory's keys: a throttling count per user and per address (Django's default, 300,
# would forget counts of a busy API).
FALLBACK_MAX_ENTRIES = 10_000
FALLBACK_PARAMS = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")


class ProcessConnectionPool(redis.ConnectionPool):
    """One pool per Redis URL for the process. Django makes a cache object per thread and
    context, and under ASGI each request gets a thread of its own: with Django's default every
    API request connected to Redis again (for its throttling count), a fifth of a request's
    CPU (py-spy)."""

    _pools: dict[str, ProcessConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> ProcessConnectionPool:
        with cls._lock:
            if url not in cls._pools:
                cls._pools[url] = super().from_url(url, **kwargs)
            return cls._pools[url]


class RedisHealth:
    """Whether the process should ask Redis at ``location`` or its own memory: one per
    location for the process (the cache objects, one per thread, share it). It logs one
    warning when Redis is lost and one when it is back."""

    _all: dict[str, RedisHealth] = {}
    _all_lock = threading.Lock()

    def __init__(self, location: str, retry_seconds: float) -> None:
        self.location, self.retry_seconds = location, retry_seconds
        self.down_since: float | None = None  # time.monotonic(); None: Redis is in use
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, location: str, retry_seconds: float) -> RedisHealth:
        with cls._all_lock:
            if location not in cls._all:
                cls._all[location] = cls(location, retry_seconds)
            return cls._all[location]

    def should_try(self) -> bool:
        """True while Redis is up; while it is down, True for one caller every
        ``retry_seconds`` (that one finds out whether it is back)."""
        if self.down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if self.down_since is None or now >= self._retry_at:
                self._retry_at = now + self.retry_seconds
                return True
        return False

    def failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self.retry_seconds
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        logger.warning(
            "Redis cache at %s unreachable (%s): this process uses its own memory meanwhile "
            "(API throttling counts per process), trying again every %g s",
            _without_password(self.location),
            error,
            self.retry_seconds,
        )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is None:
                return
            down_for, self.down_since = time.monotonic() - self.down_since, None
        logger.warning(
            "Redis cache at %s reachable again after %.0f s: back to the shared cache",
            _without_password(self.location),
            down_for,
        )


def _without_password(location: str) -> str:
    scheme, at, rest = location.rpartition("@")
    if not at:
        return location
    return f"{scheme.split('://')[0]}://…@{rest}"


class FallbackRedisCache(RedisCache):
    """Django's Redis cache, on the process's connection pool, that answers from a per-process
    in-memory cache while Redis cannot be reached (``UNREACHABLE``), so that a Redis outage
    costs the API its shared throttling counts, not its answers; Redis is tried again every
    ``RETRY_SECONDS`` (option), without a restart.

    What was written to memory meanwhile stays there: the counts start again in Redis, and a
    pushed password recorded during the outage reaches only a connection in the same process
    (elsewhere its command fails, asking for the password again)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        retry_seconds = float(options.pop("RETRY_SECONDS", RETRY_SECONDS))
        options.setdefault("pool_class", ProcessConnectionPool)
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        location = ",".join(self._servers)
        self.health = RedisHealth.of(location, retry_seconds)
        # Caches of one name share their storage: one memory per process and location.
        fallback = {key: params[key] for key in FALLBACK_PARAMS if key in params}
        fallback["OPTIONS"] = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}
        self.fallback = LocMemCache(f"redis-fallback:{location}", fallback)

    def _either(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        if self.health.should_try():
            method: Callable[..., Any] = getattr(super(), operation)
            try:
                result = method(*args, **kwargs)
            except UNREACHABLE as error:
                self.health.failed(error)
            else:
                self.health.succeeded()
                return result
        return getattr(self.fallback, operation)(*args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> None:
        return self._either("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> dict:
        return self._either("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> int:
        return self._either("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> list:
        return self._either("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        return self._either("delete_many", *args, **kwargs)

    def clear(self) -> bool:
        return self._either("clear")
