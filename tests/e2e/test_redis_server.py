"""The tests' private redis-server: skipped without one, a failure with REQUIRE_SERVICES=1 (CI),
and a real server on its own port that stops and comes back on the same URL."""

import pytest
import redis

from tests.e2e import redis_server


def test_without_redis_server_the_tests_needing_it_are_skipped(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)

    with pytest.raises(pytest.skip.Exception, match="no redis-server"):
        redis_server.redis_server_executable()


def test_without_redis_server_they_fail_when_services_are_required(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setenv("REQUIRE_SERVICES", "1")

    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SERVICES=1"):
        redis_server.redis_server_executable()


def test_the_private_redis_stops_and_restarts_on_the_same_url(private_redis):
    assert private_redis.port != 6379
    with private_redis.client() as client:
        client.set("kept", 1)

    private_redis.stop()
    with private_redis.client() as client, pytest.raises(redis.ConnectionError):
        client.ping()
    private_redis.restart()

    with private_redis.client() as client:
        assert client.ping()
        assert client.get("kept") is None  # nothing saved to disk
