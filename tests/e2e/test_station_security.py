"""End to end, against a real server process: who may open a station's connection (HTTP status
codes at the handshake), one live connection per station, and the frame-size limit."""

import asyncio
import base64
import json

import pytest
import websockets
from django.conf import global_settings, settings

from ocpp_gateway.models import Command
from stations.models import ConnectionState, SecurityEvent, Station
from stations.services import station_set_password
from tests.e2e.stations import Api, staff_token, wait_for
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def open_socket(server_url, charge_point_id, headers=None, subprotocols=("ocpp1.6",)):
    return await websockets.connect(
        f"{server_url}/ocpp/{charge_point_id}",
        subprotocols=list(subprotocols),
        additional_headers=headers or {},
    )


def handshake_status(server_url, charge_point_id, **options) -> int:
    async def attempt():
        try:
            websocket = await open_socket(server_url, charge_point_id, **options)
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        await websocket.close()
        return 101

    return asyncio.run(attempt())


@pytest.fixture
def station(transactional_db, settings):
    # The server process checks with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    station = StationFactory(charge_point_id="E2E-SECURE-1")
    station_set_password(station=station, password=PASSWORD)
    return station


def test_an_unknown_station_gets_404(server_url, station):
    assert handshake_status(server_url, "NOBODY") == 404


def test_missing_credentials_get_401(server_url, station):
    assert handshake_status(server_url, station.charge_point_id) == 401


def test_a_wrong_password_gets_401(server_url, station):
    headers = basic(station.charge_point_id, "not-the-right-password")
    assert handshake_status(server_url, station.charge_point_id, headers=headers) == 401


def test_the_right_password_under_another_station_s_name_gets_401(server_url, station):
    headers = basic("E2E-SECURE-2", PASSWORD)
    assert handshake_status(server_url, station.charge_point_id, headers=headers) == 401


def test_the_right_credentials_open_the_connection(server_url, station):
    headers = basic(station.charge_point_id, PASSWORD)
    assert handshake_status(server_url, station.charge_point_id, headers=headers) == 101


def test_no_common_subprotocol_is_refused_before_the_upgrade(server_url, station):
    headers = basic(station.charge_point_id, PASSWORD)
    status = handshake_status(
        server_url, station.charge_point_id, headers=headers, subprotocols=("ocpp2.1",)
    )
    assert status == 400


def test_a_new_connection_replaces_the_old_one_and_is_recorded(server_url, station):
    headers = basic(station.charge_point_id, PASSWORD)

    async def takeover():
        old = await open_socket(server_url, station.charge_point_id, headers=headers)
        await asyncio.sleep(0.3)  # the first connection is registered as live
        new = await open_socket(server_url, station.charge_point_id, headers=headers)
        try:
            await asyncio.wait_for(old.recv(), timeout=5)
        except websockets.ConnectionClosed as closed:
            old_close = closed.rcvd.code
        await new.send(json.dumps([2, "hb", "Heartbeat", {}]))
        answer = json.loads(await asyncio.wait_for(new.recv(), timeout=5))
        await asyncio.sleep(0.3)  # the old connection's goodbye has been processed
        state = await asyncio.to_thread(lambda: Station.objects.get(pk=station.pk).connection_state)
        await new.close()
        return old_close, answer, state

    old_close, answer, state = asyncio.run(takeover())

    assert old_close == 4000
    assert answer[:2] == [3, "hb"]
    assert state == ConnectionState.CONNECTED  # the newer connection keeps the station online
    event = SecurityEvent.objects.get(station=station)
    assert (event.kind, event.severity) == ("station_takeover", "info")


@pytest.fixture(params=["same process", "other process"])
def newer_connection_url(request, server_url) -> str:
    """Where the newer connection of a station opens: the older one's process, or another one
    (Redis only: the in-memory channel layer does not cross processes; CI's second run sets
    REDIS_URL)."""
    if request.param == "same process":
        return server_url
    if not settings.REDIS_URL:
        pytest.skip("Needs REDIS_URL: the in-memory channel layer does not cross processes.")
    return request.getfixturevalue("second_server_url")


def test_after_a_takeover_commands_reach_the_newer_connection(
    server_url, newer_connection_url, station
):
    headers = basic(station.charge_point_id, PASSWORD)
    api = Api(server_url, staff_token())  # the older connection's process records it

    def connected():
        return Station.objects.get(pk=station.pk).connection_state == ConnectionState.CONNECTED

    async def takeover_then_command():
        old = await open_socket(server_url, station.charge_point_id, headers=headers)
        await asyncio.to_thread(wait_for, connected)
        new = await open_socket(newer_connection_url, station.charge_point_id, headers=headers)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(old.recv(), timeout=5)
        await asyncio.sleep(0.3)  # the old connection's goodbye has been processed
        status, body = await asyncio.to_thread(
            api.post, f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, body
        call = json.loads(await asyncio.wait_for(new.recv(), timeout=5))
        await new.send(json.dumps([3, call[1], {"listVersion": 7}]))
        finished = await asyncio.to_thread(
            wait_for, lambda: Command.objects.filter(pk=body["id"], state="accepted").first()
        )
        await new.close()
        return closed.value.rcvd.code, call[2], finished

    old_close, action, command = asyncio.run(takeover_then_command())

    assert old_close == 4000
    assert (action, command.response) == ("GetLocalListVersion", {"listVersion": 7})


def test_a_frame_over_64_kib_closes_the_connection_with_1009(server_url, station):
    headers = basic(station.charge_point_id, PASSWORD)

    async def oversized():
        websocket = await open_socket(server_url, station.charge_point_id, headers=headers)
        frame = [2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 70_000}]
        await websocket.send(json.dumps(frame))
        try:
            await asyncio.wait_for(websocket.recv(), timeout=5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code

    assert asyncio.run(oversized()) == 1009
