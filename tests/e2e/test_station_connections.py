"""End to end, against real server processes with station passwords required (production
settings): the connection state is always true, however a connection ends (the station
closing at each point of the frame cycle, a graceful stop, a crash), and handshakes a station
gave up on leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
import websockets

from ocpp_gateway.models import Command, OcppMessage
from stations.models import (
    CloseReason,
    ConnectionState,
    SecurityEvent,
    Station,
    StationConnection,
)
from tests.e2e.stations import Api, basic, call, connect, make_station, staff_token, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def state_of(station: Station) -> str:
    return Station.objects.get(pk=station.pk).connection_state


def connections_of(station: Station) -> list[StationConnection]:
    return list(StationConnection.objects.filter(station=station).order_by("opened_at"))


def takeovers() -> int:
    return SecurityEvent.objects.filter(kind="station_takeover").count()


def upgrade_request(port: int, charge_point_id: str) -> bytes:
    authorization = basic(charge_point_id)["Authorization"]
    return (
        f"GET /ocpp/{charge_point_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: {authorization}\r\n\r\n"
    ).encode()


def test_a_handshake_the_station_gave_up_on_records_nothing_and_leaves_the_live_one(
    own_server,
):
    station = make_station("E2E-GAVE-UP")

    async def scenario():
        live = await connect(own_server.url, station.charge_point_id)
        await asyncio.to_thread(wait_for, lambda: state_of(station) == "connected")
        for _ in range(5):  # retries the station abandoned: request sent, socket gone at once
            with socket.create_connection(("127.0.0.1", own_server.port)) as abandoned:
                abandoned.sendall(upgrade_request(own_server.port, station.charge_point_id))
        await asyncio.sleep(1)
        answer = await call(live, "hb", "Heartbeat", {})
        await live.close()
        return answer

    answer = asyncio.run(scenario())

    assert answer[:2] == [3, "hb"]  # the live connection was not taken over
    assert takeovers() == 0
    assert len(connections_of(station)) == 1
    wait_for(lambda: state_of(station) == ConnectionState.DISCONNECTED)


async def _close_after_handshake(ws, url):
    pass  # the close that follows is the station's


async def _close_after_a_call(ws, url):
    await ws.send(json.dumps([2, "st", "StatusNotification", _STATUS]))


async def _reset_after_a_call(ws, url):
    await ws.send(json.dumps([2, "st", "StatusNotification", _STATUS]))
    ws.transport.abort()  # no close frame: a TCP reset, as a modem losing power


async def _reset_mid_frame(ws, url):
    # The header of a 200-byte masked text frame and a few bytes of it, then the TCP reset.
    ws.transport.write(b"\x81\xfe\x00\xc8" + b"\x00\x00\x00\x00" + b'[2,"x","Heartb')
    ws.transport.abort()


async def _close_while_answering(ws, url):
    # A burst the server is still answering frame by frame when the socket goes.
    for number in range(20):
        await ws.send(json.dumps([2, f"s{number}", "StatusNotification", _STATUS]))


_STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@pytest.mark.parametrize(
    "how",
    [
        _close_after_handshake,
        _close_after_a_call,
        _reset_after_a_call,
        _reset_mid_frame,
        _close_while_answering,
    ],
    ids=lambda how: how.__name__.strip("_"),
)
def test_a_station_gone_at_any_point_of_the_frame_cycle_is_disconnected_once(own_server, how):
    station = make_station("E2E-GONE")

    async def scenario():
        ws = await connect(own_server.url, station.charge_point_id)
        await call(
            ws, "boot", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
        )
        await how(ws, own_server.url)
        await ws.close()

    asyncio.run(scenario())

    wait_for(lambda: state_of(station) == ConnectionState.DISCONNECTED, timeout=3)
    (connection,) = connections_of(station)
    assert connection.closed_at is not None
    assert connection.close_reason in (CloseReason.STATION, CloseReason.NETWORK)


def test_the_end_of_a_command_in_flight_fails_it_and_disconnects_the_station(
    own_server, django_db_blocker
):
    station = make_station("E2E-GONE-CMD")
    api = Api(own_server.url, staff_token())

    async def scenario():
        ws = await connect(own_server.url, station.charge_point_id)
        await call(
            ws, "boot", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
        )
        status, body = await asyncio.to_thread(
            api.post, f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, body
        request = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        assert request[2] == "GetLocalListVersion"
        ws.transport.abort()  # gone without answering
        return body["id"]

    command_id = asyncio.run(scenario())

    wait_for(lambda: state_of(station) == ConnectionState.DISCONNECTED, timeout=3)
    command = wait_for(lambda: Command.objects.filter(pk=command_id, state="failed").first())
    assert "disconnected" in command.detail


def test_a_graceful_stop_marks_every_station_disconnected_and_writes_the_whole_log(own_server):
    stations = [make_station(f"E2E-STOP-{number:02d}") for number in range(20)]

    async def scenario():
        sockets = [await connect(own_server.url, s.charge_point_id) for s in stations]
        for number, ws in enumerate(sockets):
            await call(
                ws,
                f"b{number}",
                "BootNotification",
                {"chargePointVendor": "V", "chargePointModel": "M"},
            )
            await call(ws, f"h{number}", "Heartbeat", {})
        exit_code = await asyncio.to_thread(own_server.stop)
        closes = []
        for ws in sockets:
            try:
                await asyncio.wait_for(ws.recv(), timeout=5)
            except websockets.ConnectionClosed as closed:
                closes.append(closed.rcvd.code if closed.rcvd else None)
        return exit_code, closes

    exit_code, closes = asyncio.run(scenario())

    # uvicorn stops cleanly, then exits by the signal it caught, as the service manager expects
    assert exit_code == -15
    assert "Application shutdown complete" in own_server.log()
    assert closes == [1012] * 20  # "service restart": come back, to this or another process
    assert not Station.objects.filter(connection_state=ConnectionState.CONNECTED).exists()
    assert {c.close_reason for c in StationConnection.objects.all()} == {CloseReason.SERVER_STOPPED}
    assert OcppMessage.objects.count() == 20 * 4  # each call and its answer


def test_after_a_crash_every_station_reconnects_at_once_and_none_is_a_takeover(
    own_server, server_url
):
    stations = [make_station(f"E2E-CRASH-{number:02d}") for number in range(20)]
    api = Api(server_url, staff_token())  # another process, alive

    async def keep_connecting(station: Station) -> float:
        """As a station does: retry with a 5 s handshake timeout until accepted; the time it
        took."""
        started = time.monotonic()
        while True:
            try:
                ws = await connect(own_server.url, station.charge_point_id, open_timeout=5)
            except (OSError, TimeoutError, websockets.InvalidStatus):
                await asyncio.sleep(0.5)
                continue
            await call(ws, "hb", "Heartbeat", {})
            await ws.close()
            return time.monotonic() - started

    async def scenario():
        sockets = [await connect(own_server.url, s.charge_point_id) for s in stations]
        await asyncio.to_thread(
            wait_for,
            lambda: Station.objects.filter(connection_state="connected").count() == 20,
        )
        own_server.kill()  # kill -9: no goodbye
        status, _ = await asyncio.to_thread(
            api.post, f"/stations/{stations[0].pk}/commands/", {"action": "ClearCache"}
        )
        for ws in sockets:
            ws.transport.abort()
        own_server.start()
        reconnected = await asyncio.wait_for(
            asyncio.gather(*(keep_connecting(s) for s in stations)), timeout=60
        )
        return status, reconnected

    status, reconnected = asyncio.run(scenario())

    assert status == 409  # its process is dead: nothing would ever carry the command
    assert len(reconnected) == 20
    assert takeovers() == 0
    killed = StationConnection.objects.filter(close_reason=CloseReason.SERVER_DIED).count()
    assert killed == 20  # the crashed process's connections were closed by the new one
