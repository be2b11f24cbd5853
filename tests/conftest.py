import pytest
from django.db import connection
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
    """The message-log writer's thread keeps a database connection open: closed before the
    test database is dropped (the database fixture, requested first, is torn down after this
    one). Other threads' connections (Channels' database thread) cannot be closed from here: in
    tests they close after each use, as every thread's connection shares these settings."""
    request.getfixturevalue("django_db_setup")
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    writer.stop()
    if connection.vendor == "postgresql":  # its pool's idle connections would block the drop
        connection.close_pool()


@pytest.fixture
def private_redis():
    """A redis-server of the test's own on a free port, that it may stop and restart (skipped
    without redis-server, failed with REQUIRE_SERVICES=1)."""
    with RedisServer(redis_server_executable()) as server:
        yield server
