"""The Redis cache (API throttling counts, with REDIS_URL) keeps its connections for the
process: Django makes a cache object per request thread under ASGI."""

import threading

from django.core.cache.backends.redis import RedisCache

OPTIONS = {"OPTIONS": {"pool_class": "supervision.redis_cache.ProcessConnectionPool"}}


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
