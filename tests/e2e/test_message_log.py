"""The message log is written in batches off the connections' path: a clean stop of the server
(SIGTERM) loses none of the rows it still held."""

import asyncio
import json

import websockets

from ocpp_gateway.models import OcppMessage
from tests.e2e.conftest import serve
from tests.factories import StationFactory


def test_a_clean_stop_writes_every_row_the_server_still_held(django_db_blocker, transactional_db):
    StationFactory(charge_point_id="E2E-STOP")
    # Batches written once an hour: only the stop can write these rows.
    server = serve(django_db_blocker, ".pytest-server-stop.log", OCPP_LOG_FLUSH_SECONDS="3600")
    url = next(server)

    async def talk_then_stop() -> int:
        async with websockets.connect(f"{url}/ocpp/E2E-STOP", subprotocols=["ocpp1.6"]) as ws:
            for number in range(20):
                await ws.send(json.dumps([2, f"hb-{number}", "Heartbeat", {}]))
                assert json.loads(await ws.recv())[0] == 3
            held = await asyncio.to_thread(OcppMessage.objects.count)
            await asyncio.to_thread(next, server, None)  # SIGTERM, wait for the exit
            return held

    held = asyncio.run(talk_then_stop())

    assert held == 0
    assert OcppMessage.objects.filter(charge_point_id="E2E-STOP").count() == 40
