"""End to end: the server outlives outages of what it depends on, without a restart of its own.
PostgreSQL restarting drops every connection of every process (here: every server-side session
of the test database is terminated, as a restart or a failover does). Redis restarting (a
private redis-server, stopped and started again) forgets every channel-layer group membership:
commands and revocations must reach the stations all the same."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.conf import global_settings
from django.db import connection

from ocpp_gateway.models import Command, OcppMessage
from tests.e2e.conftest import Server
from tests.e2e.stations import PRODUCTION, Api, call, connect, make_station, staff_token, wait_for
from tests.factories import BadgeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def drop_every_database_connection() -> int:
    """What a PostgreSQL restart does to the server's connections: all of them are gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (CI's second run)")
def test_after_postgresql_drops_every_connection_stations_and_the_api_are_served(own_server):
    station = make_station("E2E-PG-RESTART")
    api = Api(own_server.url, staff_token())

    async def scenario():
        ws = await connect(own_server.url, station.charge_point_id)
        before = await call(ws, "hb1", "Heartbeat", {})
        assert (await asyncio.to_thread(api.request, "GET", "/stations/"))[0] == 200
        dropped = await asyncio.to_thread(drop_every_database_connection)
        after = [await call(ws, f"hb{n}", "Heartbeat", {}) for n in range(2, 5)]
        listed = await asyncio.to_thread(api.request, "GET", "/stations/")
        await ws.close()
        return before, dropped, after, listed

    before, dropped, after, (status, body) = asyncio.run(scenario())
    connection.close()  # the test process's own pooled connections were dropped too
    connection.close_pool()

    assert dropped >= 1  # the server's pooled connections were among them
    assert before[0] == 3
    assert [answer[0] for answer in after] == [3, 3, 3]
    assert status == 200 and body["count"] == 1
    # The log writer reconnected too: every frame is there.
    wait_for(lambda: OcppMessage.objects.filter(station=station).count() == 8)


@pytest.fixture
def on_private_redis(private_redis, transactional_db, django_db_blocker, settings):
    """A server process in production settings on a Redis of the test's own, which the test
    may stop and start again."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    server = Server(
        django_db_blocker, ".pytest-server-redis.log", REDIS_URL=private_redis.url, **PRODUCTION
    )
    yield server, private_redis
    if server.process.poll() is None:
        server.stop()


async def answer_calls(ws, received: list[str], until: set[str]) -> None:
    """Answer the server's calls as a station does, noting their actions, until each of
    ``until`` came."""
    answers = {"GetLocalListVersion": {"listVersion": 0}, "ClearCache": {"status": "Accepted"}}
    while not until <= set(received):
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
        if frame[0] == 2:
            received.append(frame[2])
            await ws.send(json.dumps([3, frame[1], answers.get(frame[2], {})]))


def test_after_a_redis_restart_a_command_and_a_revocation_reach_the_station(on_private_redis):
    server, redis_server = on_private_redis
    station = make_station("E2E-REDIS-RESTART")
    badge = BadgeFactory(company=station.company)
    api = Api(server.url, staff_token())
    received: list[str] = []

    async def scenario():
        ws = await connect(server.url, station.charge_point_id)
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        assert (await call(ws, "b", "BootNotification", boot))[2]["status"] == "Accepted"
        accepted = await call(ws, "a", "Authorize", {"idTag": badge.rfid})
        assert accepted[2]["idTagInfo"]["status"] == "Accepted"
        group = f"asgi:group:station.{station.pk}"  # channels-redis's key of the group
        assert await asyncio.to_thread(redis_server.client().exists, group)
        await asyncio.to_thread(redis_server.restart)  # every group membership is gone
        assert not await asyncio.to_thread(redis_server.client().exists, group)
        # The server joins it again within seconds, by itself.
        await asyncio.to_thread(wait_for, lambda: redis_server.client().exists(group))
        status, command = await asyncio.to_thread(
            api.post, f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, command
        status, body = await asyncio.to_thread(
            api.patch, f"/badges/{badge.pk}/", {"state": "disabled"}
        )
        assert status == 200, body
        await answer_calls(ws, received, {"GetLocalListVersion", "ClearCache"})
        await ws.close()
        return command["id"]

    command_id = asyncio.run(asyncio.wait_for(scenario(), timeout=60))

    assert wait_for(lambda: Command.objects.get(pk=command_id).state == "accepted")
    revocation = wait_for(
        lambda: Command.objects.filter(
            station=station, action="ClearCache", origin="cache_revocation", state="accepted"
        ).first()
    )
    assert badge.rfid in revocation.reason
    assert not Command.objects.filter(state__in=["pending", "sent"]).exists()


def test_with_redis_down_a_station_connects_and_its_commands_reach_it(on_private_redis):
    server, redis_server = on_private_redis
    station = make_station("E2E-REDIS-DOWN")
    api = Api(server.url, staff_token())
    received: list[str] = []

    async def scenario():
        await asyncio.to_thread(redis_server.stop)
        ws = await connect(server.url, station.charge_point_id)
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        assert (await call(ws, "b", "BootNotification", boot))[2]["status"] == "Accepted"
        status, command = await asyncio.to_thread(
            api.post, f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, command
        await answer_calls(ws, received, {"GetLocalListVersion"})
        await asyncio.to_thread(redis_server.start)
        status, again = await asyncio.to_thread(
            api.post, f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, again
        received.clear()
        await answer_calls(ws, received, {"GetLocalListVersion"})
        await ws.close()
        return command["id"], again["id"]

    first, second = asyncio.run(asyncio.wait_for(scenario(), timeout=60))

    for command_id in (first, second):
        assert wait_for(lambda c=command_id: Command.objects.get(pk=c).state == "accepted")
    assert wait_for(lambda: "Redis answers again" in server.log())
