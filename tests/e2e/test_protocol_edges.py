"""End to end, against a real server process, what independent clients found at the edges of
the protocol: WebSocket paths that lead nowhere (404, not a 500 with a traceback), invalid
frames (one server-log line each, never a traceback), and a station id the API refuses."""

import asyncio
import base64
import json
import time

import pytest
import websockets
from django.conf import global_settings

from stations.services import station_set_password
from tests.e2e.conftest import ROOT
from tests.e2e.stations import Api, staff_token
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"
SERVER_LOG = ROOT / ".pytest-server.log"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class ServerLog:
    """What the server process writes to its log from now on."""

    def __init__(self) -> None:
        self.start = SERVER_LOG.stat().st_size

    def new_lines(self, settle: float = 0.5) -> list[str]:
        time.sleep(settle)  # the server writes after it answered
        with SERVER_LOG.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", "replace").splitlines()


@pytest.fixture
def station(transactional_db, settings):
    # The server process checks with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    station = StationFactory(charge_point_id="E2E-EDGE-1")
    station_set_password(station=station, password=PASSWORD)
    return station


def handshake_status(url: str, headers: dict[str, str] | None = None) -> int:
    async def attempt() -> int:
        try:
            websocket = await websockets.connect(
                url, subprotocols=["ocpp1.6"], additional_headers=headers or {}
            )
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        await websocket.close()
        return 101

    return asyncio.run(attempt())


@pytest.mark.parametrize(
    "path",
    [
        "/nothing/here",
        "/ocpp/",  # no id
        "/ocpp",
        "/ocpp/E2E-EDGE%2F1",  # an encoded "/": the path arrives decoded, one segment more
        "/ocpp/E2E-EDGE-1/extra",
        "/ws/portal/elsewhere",
    ],
)
def test_a_websocket_path_that_is_no_route_gets_404_and_no_traceback(server_url, station, path):
    log = ServerLog()

    status = handshake_status(server_url + path, headers=basic(station.charge_point_id))

    assert status == 404
    lines = log.new_lines()
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line]


def test_the_station_s_own_path_still_opens(server_url, station):
    url = f"{server_url}/ocpp/{station.charge_point_id}"
    assert handshake_status(url, headers=basic(station.charge_point_id)) == 101


INVALID_16 = [
    "not json",
    '{"an": "object"}',
    '[2, "i1"]',
    '[7, "i2", "Heartbeat", {}]',
    '[2, "i3", "Authorize", {}]',
    '[2, "i4", "Authorize", {"idTag": 42}]',
    '[2, "i5", "MakeCoffee", {}]',
    '[2, "i6", "GetConfiguration", {}]',
    '[2, "i7", 12, {}]',
    '[2, "i8", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
    '"status": "Available", "timestamp": "not a date"}]',
    '[3, "nobody-asked", {"x": 1, ]',
]


def test_invalid_frames_write_one_line_each_and_never_a_traceback(server_url, station):
    log = ServerLog()

    async def send_all() -> list[list]:
        websocket = await websockets.connect(
            f"{server_url}/ocpp/{station.charge_point_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(station.charge_point_id),
        )
        answers = []
        for frame in INVALID_16:
            await websocket.send(frame)
            try:
                answers.append(json.loads(await asyncio.wait_for(websocket.recv(), 1)))
            except TimeoutError:
                answers.append(None)  # OCPP-J 1.6 cannot answer a frame without a message id
        # Still usable after all that.
        await websocket.send(json.dumps([2, "ok", "Heartbeat", {}]))
        answers.append(json.loads(await asyncio.wait_for(websocket.recv(), 5)))
        await websocket.close()
        return answers

    answers = asyncio.run(send_all())

    assert [answer[2] if answer else None for answer in answers[:-1]] == [
        None,
        None,
        "ProtocolError",
        "FormationViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "NotImplemented",
        "NotSupported",
        "FormationViolation",
        "TypeConstraintViolation",
        None,
    ]
    assert answers[-1][:2] == [3, "ok"]
    lines = log.new_lines()
    assert not [line for line in lines if "Traceback" in line or "Exception in" in line]
    station_lines = [line for line in lines if ": E2E-EDGE-1: " in line]
    assert len(station_lines) == len(INVALID_16), "\n".join(lines)
    assert "E2E-EDGE-1: Authorize i4 answered with TypeConstraintViolation: " in "\n".join(lines)


def test_invalid_ocpp_201_frames_write_one_line_each_and_never_a_traceback(server_url, station):
    log = ServerLog()
    frames = [
        "not json",
        '[2, "j1", "Authorize", {}]',
        '[2, "j2", "MakeCoffee", {}]',
        '[2, "j3", "GetVariables", {}]',
    ]

    async def send_all() -> list[str]:
        websocket = await websockets.connect(
            f"{server_url}/ocpp/{station.charge_point_id}",
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic(station.charge_point_id),
        )
        codes = []
        for frame in frames:
            await websocket.send(frame)
            codes.append(json.loads(await asyncio.wait_for(websocket.recv(), 5))[2])
        await websocket.close()
        return codes

    assert asyncio.run(send_all()) == [
        "RpcFrameworkError",
        "OccurrenceConstraintViolation",
        "NotImplemented",
        "NotSupported",
    ]
    lines = log.new_lines()
    assert not [line for line in lines if "Traceback" in line or "Exception in" in line]
    assert len([line for line in lines if ": E2E-EDGE-1: " in line]) == len(frames)


def test_the_api_of_the_real_server_refuses_a_station_id_with_a_slash_or_non_ascii(server_url):
    api = Api(server_url, staff_token())
    company = CompanyFactory()

    slash = api.post("/stations/", {"charge_point_id": "DEPOT/1", "company": company.pk})
    accent = api.post("/stations/", {"charge_point_id": "DÉPÔT-1", "company": company.pk})

    assert slash == (
        400,
        {
            "charge_point_id": [
                "A charge point id cannot contain “/”: it is the last part of the station's "
                "URL (/ocpp/<id>)."
            ]
        },
    )
    assert accent[0] == 400
    assert accent[1]["charge_point_id"][0].startswith(
        "A charge point id may only contain printable ASCII characters"
    )


def test_a_flooding_station_that_reconnects_is_still_limited(server_url, settings):
    # The server's own settings (the defaults): 20 frames a second, bursts of 100, cut off
    # after 5 s over the rate.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    station = StationFactory(charge_point_id="E2E-FLOOD-1")
    station_set_password(station=station, password=PASSWORD)
    url = f"{server_url}/ocpp/{station.charge_point_id}"
    headers = basic(station.charge_point_id)
    log = ServerLog()

    async def flood() -> tuple[int, int, int, int, float]:
        websocket = await websockets.connect(
            url, subprotocols=["ocpp1.6"], additional_headers=headers
        )
        for number in range(400):
            await websocket.send(json.dumps([2, f"f{number}", "Heartbeat", {}]))
        served = 0
        try:
            while True:
                await asyncio.wait_for(websocket.recv(), 10)
                served += 1
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code
        cut_off_at = time.monotonic()
        # At once, as a flooding station does, and flooding on: its bucket holds only the
        # tokens earned since (20 a second), and it is still over the rate.
        again = await websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=headers)
        for number in range(60):
            await again.send(json.dumps([2, f"a{number}", "Heartbeat", {}]))
        answered, away = 0, 0.0
        try:
            while True:
                await asyncio.wait_for(again.recv(), 10)
                answered += 1
                away = time.monotonic() - cut_off_at
        except websockets.ConnectionClosed as closed:
            code_again = closed.rcvd.code
        return code, served, code_again, answered, away

    code, served, code_again, answered, away = asyncio.run(flood())

    assert code == 1008
    assert 150 < served < 300  # the burst, then slowed for 5 s at 20 a second
    # A full bucket would have answered the 60 at once, and more than 5 s of them slowed
    # would have been needed to cut it off: cut off again at its first wait instead, served
    # only the tokens earned while it was away. Spared: the token left at the cut-off and the
    # quarter second the server may take to write its log and close, before the client sees it.
    assert code_again == 1008
    assert answered < 60
    assert answered <= 1 + 20 * (away + 0.25)
    # One line per connection cut off, not one per frame the station had sent meanwhile.
    lines = log.new_lines()
    assert len([line for line in lines if "(E2E-FLOOD-1) disconnected: sending too" in line]) == 2
