"""Helpers of the end-to-end tests: a simulated station online in a thread of its own (so the
test can use the ORM and HTTP synchronously meanwhile), the REST API over real HTTP, waiting."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import websockets
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from simulator import v16 as simulator
from simulator import v201 as simulator201
from stations.models import ConnectionState, Station
from stations.services import station_set_password
from tests.factories import StationFactory

# Stations in production settings: each with its password, presented with HTTP Basic.
PASSWORD = "Station-Password-2026"
PRODUCTION = {"OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD": "false", "DJANGO_DEBUG": "false"}


def basic(charge_point_id: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def make_station(charge_point_id: str) -> Station:
    station = StationFactory(charge_point_id=charge_point_id)
    station_set_password(station=station, password=PASSWORD)
    return station


async def connect(url: str, charge_point_id: str, password: str = PASSWORD, **options):
    """A raw OCPP 1.6 WebSocket of the station, its password presented."""
    return await websockets.connect(
        f"{url}/ocpp/{charge_point_id}",
        subprotocols=["ocpp1.6"],
        additional_headers=basic(charge_point_id, password),
        **options,
    )


async def call(ws, unique_id: str, action: str, payload: dict) -> list:
    """Send a call, return the next frame (its answer)."""
    await ws.send(json.dumps([2, unique_id, action, payload]))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


def staff_token() -> str:
    user = get_user_model().objects.create_superuser("operator", "operator@example.com", "x")
    return Token.objects.create(user=user).key


class Api:
    """The REST API of one server process, over HTTP, with a staff token."""

    def __init__(self, server_url: str, token: str) -> None:
        self.base = server_url.replace("ws://", "http://") + "/api/v1"
        self.token = token

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        return self.request("POST", path, body or {})

    def patch(self, path: str, body: dict) -> tuple[int, dict]:
        return self.request("PATCH", path, body)


def wait_for(condition: Callable[[], object], timeout: float = 10) -> object:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {condition}")
        time.sleep(0.05)


class StationThread:
    """An event loop in a thread, running one simulated station."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@contextmanager
def station_online(
    server_url: str, charge_point_id: str, **options
) -> Iterator[tuple[simulator.SimulatedStation, StationThread]]:
    """A simulated station connected and booted (``vendor``, ``configuration``,
    ``reject_changes``… as ``simulator.online`` takes them), answering until the block ends."""
    runner = StationThread()
    online = runner.run(
        simulator.online(url=f"{server_url}/ocpp", charge_point_id=charge_point_id, **options)
    )
    try:
        yield online.station, runner
    finally:
        runner.run(online.close())
        runner.stop()
        server_let_go(charge_point_id)


def server_let_go(charge_point_id: str | None = None, timeout: float = 5) -> None:
    """Wait (bounded) until the server has handled a closed station's disconnection (any
    station's, without ``charge_point_id``): it writes the connection's last log rows, then
    marks the station disconnected. Otherwise the test's database flush can race those writes
    (PostgreSQL then reports a deadlock). A station a newer connection took over stays
    connected: the wait then just ends."""
    connected = Station.objects.filter(connection_state=ConnectionState.CONNECTED)
    if charge_point_id is not None:
        connected = connected.filter(charge_point_id=charge_point_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and connected.exists():
        time.sleep(0.05)


def connected_count(server_url: str) -> float:
    """How many stations the server process counts as connected (its metrics gauge): it counts
    a connection until the last write for it is done."""
    metrics_url = server_url.replace("ws://", "http://", 1) + "/metrics"
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        exposition = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("ocpp_stations_connected{")
    )


def server_idle(server_url: str, timeout: float = 5) -> None:
    """Wait (bounded) until the server process has finished every connection it had, including
    one whose station left before the server recorded it as connected, which
    ``server_let_go`` cannot see in the database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and connected_count(server_url):
        time.sleep(0.05)


class Online201:
    """A booted 2.0.1 station in a thread of its own (the test uses the ORM meanwhile)."""

    def __init__(self, server_url: str, station, **options) -> None:
        self.thread = StationThread()
        self.online = self.thread.run(
            simulator201.online(
                url=f"{server_url}/ocpp", charge_point_id=station.charge_point_id, **options
            )
        )
        self.station = self.online.station
        self.charge_point_id = station.charge_point_id

    def send(self, coroutine):
        return self.thread.run(coroutine)

    def close(self) -> None:
        self.thread.run(self.online.close())
        self.thread.stop()
        server_let_go(self.charge_point_id)
