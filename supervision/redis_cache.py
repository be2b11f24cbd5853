"""The Redis cache's connections, shared by the whole process."""

from __future__ import annotations

import threading

import redis


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
