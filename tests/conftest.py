import time
import warnings

import psycopg
import pytest
from django.db import connection, connections
from rest_framework.throttling import SimpleRateThrottle

from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.transport.rate_limit import station_rate_limits
from ocpp_gateway.upstream import database_thread
from stations.authorization_index import index
from tests.e2e.redis_server import RedisServer, redis_server_executable


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Messages asserted in English unless a test asks for French."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.3 s per user; the tests check permissions, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_lockout_nor_throttling(settings, monkeypatch):
    """Hundreds of logins from 127.0.0.1 in a minute: the tests of the login lockout and of API
    throttling turn them back on, on their own terms."""
    settings.AXES_ENABLED = False
    rates = {scope: None for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}
    # DRF reads the rates once, at import: they are patched where it keeps them.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture(autouse=True)
def rate_limits_forgotten():
    """Each test's stations start with full buckets: the test process keeps them per station
    id, and tests reuse ids."""
    station_rate_limits.clear()
    yield
    station_rate_limits.clear()


@pytest.fixture(autouse=True)
def message_log_written(request):
    """The rows a test's connections queued are written, and the database thread's work is
    done, before its database is emptied (the database fixture, requested first, is torn down
    after this one): a connection the test client gave up waiting for (its disconnect times out
    after a second) may still be recording its close there, and on PostgreSQL that transaction
    deadlocked with the emptying's TRUNCATE. Tests without the database stay without it."""
    uses_database = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
    } & set(request.fixturenames)
    if not uses_database:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    try:
        database_thread().submit(int).result(timeout=30)
    except TimeoutError:
        pass  # a test that leaves the thread blocked: its own failure says why
    writer.flush()


@pytest.fixture(scope="session", autouse=True)
def authorization_cache_off_in_process():
    """The test process decides every authorization through the database: its tests flush and
    refill the database under a cache's feet, and its polling thread would read the database
    between tests. The cache itself is tested where it runs, in the e2e server processes."""
    index.poll_seconds = 0


@pytest.fixture(scope="session", autouse=True)
def background_threads_stopped(request):
    """The threads that keep a database connection (the message-log writer's, Channels'
    database thread) give it back before the test database is dropped (the database fixture,
    requested first, is torn down after this one). Other threads' connections close after each
    use in tests, as every thread's connection shares these settings."""
    request.getfixturevalue("django_db_setup")
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    writer.stop()
    database_thread().submit(connections.close_all).result(timeout=30)
    if connection.vendor == "postgresql":
        connection.close_pool()  # its idle connections would block the drop
        _other_sessions_ended()


def _other_sessions_ended(timeout: float = 10) -> None:
    """Wait for the test database's other sessions to end before it is dropped (the backend of
    an e2e server stopped a moment ago may outlive its process briefly); name those that do
    not, since the drop then fails with no more than a count. Asked on a connection of its
    own, out of the pool just closed."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as own:
        deadline = time.monotonic() + timeout
        while (sessions := own.execute(_OTHER_SESSIONS).fetchall()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
    if sessions:
        warnings.warn(f"sessions still open on the test database: {sessions}", stacklevel=1)


_OTHER_SESSIONS = """
    SELECT pid, client_port, backend_start, state, left(query, 200) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


@pytest.fixture
def private_redis():
    """A redis-server of the test's own on a free port, that it may stop and restart (skipped
    without redis-server, failed with REQUIRE_SERVICES=1)."""
    with RedisServer(redis_server_executable()) as server:
        yield server
