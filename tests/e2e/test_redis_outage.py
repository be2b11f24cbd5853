"""End to end, against a real server process on a Redis of the tests' own: with Redis down the
token endpoint, the API, the admin and the portal answer (API throttling counts per process,
logged once), a command is accepted and stays pending; once Redis is back the server uses it
again, without a restart."""

import json
import urllib.error
import urllib.request

import pytest
from django.conf import global_settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from ocpp_gateway.models import Command, CommandState
from stations.models import ConnectionState
from tests.e2e.conftest import ROOT, serve
from tests.e2e.redis_server import RedisServer, redis_server_executable
from tests.e2e.stations import Api, wait_for
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

LOG = ".pytest-server-redis-outage.log"
PASSWORD = "outage-demo-password"
# The cache's fallback line (the lifespan's Redis watch says "unreachable" too, on its own clock).
LOST = "this process uses its own memory meanwhile"
BACK = "reachable again"
TOKEN_RATE = 5


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer(redis_server_executable()) as server:
        yield server


@pytest.fixture(scope="module")
def server_on_redis(django_db_setup, django_db_blocker, redis_server) -> str:
    """The server with REDIS_URL on the private Redis (channel layer and cache), production
    settings, trying Redis again every second, 5 token requests a minute per address."""
    yield from serve(
        django_db_blocker,
        LOG,
        REDIS_URL=redis_server.url,
        REDIS_RETRY_SECONDS="1",
        API_THROTTLE_TOKEN=f"{TOKEN_RATE}/min",
        DJANGO_DEBUG="false",
        OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD="false",
    )


@pytest.fixture(autouse=True)
def redis_up_again_after_the_test(redis_server):
    redis_server.start()
    yield
    redis_server.start()


@pytest.fixture
def operator(transactional_db, settings):
    # The server process checks with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    return get_user_model().objects.create_superuser("outage", "outage@example.com", PASSWORD)


def http(base: str, path: str, *, method="GET", body=None, headers=None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def server_log_lines(text: str) -> int:
    return sum(text in line for line in (ROOT / LOG).read_text().splitlines())


def session_cookie(user) -> dict[str, str]:
    """A logged-in session in the database, as the admin's login would leave it."""
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_with_redis_down_the_token_the_api_the_admin_and_the_portal_answer(
    server_on_redis, redis_server, operator
):
    base = server_on_redis.replace("ws://", "http://")
    station = StationFactory(connection_state=ConnectionState.CONNECTED)
    cookie = session_cookie(operator)
    lost_before = server_log_lines(LOST)
    redis_server.stop()

    status, body = http(
        base,
        "/api/v1/auth/token/",
        method="POST",
        body={"username": "outage", "password": PASSWORD},
    )
    assert status == 200, body
    api = Api(server_on_redis, json.loads(body)["token"])
    listed, stations = api.request("GET", "/stations/")
    admin_status, _ = http(base, "/admin/", headers=cookie)
    portal_status, _ = http(base, "/", headers=cookie)
    posted, command = api.post(f"/stations/{station.pk}/commands/", {"action": "ClearCache"})

    assert (listed, stations["count"]) == (200, 1)
    assert admin_status == 200
    assert portal_status == 200
    assert posted == 202, command
    assert Command.objects.get(pk=command["id"]).state == CommandState.PENDING
    assert server_log_lines(LOST) == lost_before + 1  # the fallback, logged once


def test_once_redis_is_back_the_api_counts_in_redis_again_without_a_restart(
    server_on_redis, redis_server, operator
):
    api = Api(server_on_redis, Token.objects.create(user=operator).key)
    counts = f"*throttle_user_{operator.pk}"

    def counted_in_redis() -> bool:
        assert api.request("GET", "/stations/")[0] == 200
        with redis_server.client() as client:
            return bool(client.keys(counts))

    wait_for(counted_in_redis, timeout=10)  # Redis in use to begin with
    back_before = server_log_lines(BACK)

    redis_server.stop()
    assert api.request("GET", "/stations/")[0] == 200  # counted in the process's memory
    redis_server.start()  # empty

    wait_for(counted_in_redis, timeout=10)
    assert server_log_lines(BACK) == back_before + 1


def test_with_redis_down_the_api_is_still_throttled_per_process(server_on_redis, redis_server):
    base = server_on_redis.replace("ws://", "http://")
    redis_server.stop()

    statuses = [
        http(
            base,
            "/api/v1/auth/token/",
            method="POST",
            # Another username each time: the login lockout (per username) stays out of it.
            body={"username": f"guess-{number}", "password": "wrong"},
        )[0]
        for number in range(TOKEN_RATE + 1)
    ]

    # Refused as wrong at first, then throttled: the process counts in its own memory (which
    # may hold an earlier test's request of the last minute, hence one 429 more).
    assert statuses[: TOKEN_RATE - 1] == [400] * (TOKEN_RATE - 1)
    assert statuses[-1] == 429
