"""The Redis cache (API throttling counts, with REDIS_URL): one connection pool per process
(Django makes a cache object per request thread under ASGI), and the process's own memory while
Redis cannot be reached, Redis again once it is back, without a restart."""

import logging
import os
import signal
import threading
import time

import pytest
from django.core.cache.backends.redis import RedisCache

from supervision.redis_cache import FallbackRedisCache, ProcessConnectionPool

OPTIONS = {"OPTIONS": {"pool_class": "supervision.redis_cache.ProcessConnectionPool"}}
RETRY_SECONDS = 0.3


def _pool_of_a_new_cache_object(url: str):
    return RedisCache(url, OPTIONS)._cache.get_client(write=True).connection_pool


def test_cache_objects_of_every_thread_share_one_pool_per_server():
    url = "redis://127.0.0.1:6379/9"  # a pool connects lazily: no server needed here
    pools = [_pool_of_a_new_cache_object(url)]
    thread = threading.Thread(target=lambda: pools.append(_pool_of_a_new_cache_object(url)))
    thread.start()
    thread.join()

    assert pools[0] is pools[1]
    assert _pool_of_a_new_cache_object("redis://127.0.0.1:6379/8") is not pools[0]


def new_cache(url: str) -> FallbackRedisCache:
    """A cache object as Django makes one for each thread."""
    return FallbackRedisCache(url, {"OPTIONS": {"RETRY_SECONDS": RETRY_SECONDS}})


def warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "supervision.redis_cache" and record.levelno == logging.WARNING
    ]


def test_the_fallback_cache_objects_share_the_process_pool_and_its_short_timeouts():
    url = "redis://127.0.0.1:6379/7"
    pools = [new_cache(url)._cache.get_client(write=True).connection_pool for _ in range(2)]

    assert pools[0] is pools[1]
    assert isinstance(pools[0], ProcessConnectionPool)
    assert pools[0].connection_kwargs["socket_connect_timeout"] == 0.5
    assert pools[0].connection_kwargs["socket_timeout"] == 0.5


def test_with_redis_up_the_values_are_in_redis(private_redis, caplog):
    cache = new_cache(private_redis.url)

    cache.set("counted", [1, 2], timeout=60)

    assert cache.get("counted") == [1, 2]
    with private_redis.client() as client:
        assert client.exists(cache.make_key("counted"))
    assert warnings(caplog) == []


def test_with_redis_down_the_cache_answers_from_memory_and_warns_once(private_redis, caplog):
    cache = new_cache(private_redis.url)
    private_redis.stop()

    cache.set("counted", [1], timeout=60)
    cache.set("counted", [1, 2], timeout=60)
    another_thread_s = new_cache(private_redis.url)

    assert cache.get("counted") == [1, 2]
    assert another_thread_s.get("counted") == [1, 2]  # the process's memory, not the thread's
    assert cache.add("once", 1) is True and cache.add("once", 2) is False
    assert cache.incr("once") == 2
    assert cache.get_many(["counted", "once", "missing"]) == {"counted": [1, 2], "once": 2}
    assert len(warnings(caplog)) == 1
    assert "unreachable" in warnings(caplog)[0] and private_redis.url in warnings(caplog)[0]


def test_redis_is_used_again_once_back_without_a_new_cache_object(private_redis, caplog):
    cache = new_cache(private_redis.url)
    private_redis.stop()
    cache.set("before", 1)
    private_redis.start()  # empty: nothing was saved

    cache.set("right-after", 1)  # within the retry interval: still memory
    time.sleep(RETRY_SECONDS + 0.1)
    cache.set("later", 1)

    with private_redis.client() as client:
        assert not client.exists(cache.make_key("right-after"))
        assert client.exists(cache.make_key("later"))
    assert cache.get("before") is None  # Redis answers again: the outage's memory is not read
    assert len(warnings(caplog)) == 2
    assert "reachable again" in warnings(caplog)[1]


def test_a_redis_that_stops_answering_costs_a_request_half_a_second_then_none(private_redis):
    cache = new_cache(private_redis.url)
    cache.set("counted", 1)  # a connection is open in the pool
    os.kill(private_redis.process.pid, signal.SIGSTOP)  # a hung server: connects, never answers
    try:
        started = time.monotonic()
        cache.set("counted", 2)
        first = time.monotonic() - started
        started = time.monotonic()
        value = cache.get("counted")
        second = time.monotonic() - started
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)

    assert 0.4 < first < 1.5
    assert second < 0.1  # from memory until the retry
    assert value == 2


def test_an_error_that_is_not_an_outage_is_not_hidden(private_redis):
    cache = new_cache(private_redis.url)
    cache.set("text", "not a number")

    with pytest.raises(Exception, match="not an integer"):
        cache.incr("text")
