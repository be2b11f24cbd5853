"""End to end: the server outlives outages of what it depends on. PostgreSQL restarting drops
every connection of every process (here: every server-side session of the test database is
terminated, as a restart or a failover does); the server goes on answering stations, staff and
the API, without a restart of its own."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from ocpp_gateway.models import OcppMessage
from tests.e2e.stations import Api, call, connect, make_station, staff_token, wait_for

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
