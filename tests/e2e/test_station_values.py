"""End to end: absurd values from stations (timestamps in year 9999 or 1970, a meterStop of
2^63 - 1, negative readings, OCPP 2.0.1 energies of 1e30 or beyond a float), as raw frames to
a real server process. The station gets its normal answer, the session closes, the anomaly is
recorded, the message log keeps what was sent, and every page, download and API call about it
still answers, in English and in French."""

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ocpp_gateway.models import OcppMessage
from stations.models import AnomalyKind, ChargingSession, TransactionAnomaly
from tests.e2e.stations import server_let_go, wait_for
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHARGE_POINT_ID = "E2E-VALUES-1"
MAC = "A014310E0F01"
ID_TAG = f"VID:{MAC}"


def ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def an_hour_ago() -> str:
    return ocpp_time(timezone.now() - timedelta(hours=1))


def now() -> str:
    return ocpp_time(timezone.now())


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id=CHARGE_POINT_ID)


@pytest.fixture
def badge(station):
    return BadgeFactory(rfid=ID_TAG, company=station.company)


async def call(ws, unique_id: str, action: str, payload: dict | str) -> list:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    await ws.send(f'[2, "{unique_id}", "{action}", {body}]')
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


def run(server_url: str, protocol: str, frames) -> list:
    """Send ``frames`` ((id, action, payload-or-function of the previous answers)) in order;
    every answer."""

    async def scenario():
        ws = await websockets.connect(
            f"{server_url}/ocpp/{CHARGE_POINT_ID}", subprotocols=[protocol]
        )
        answers = []
        try:
            for unique_id, action, payload in frames:
                body = payload(answers) if callable(payload) else payload
                answers.append(await call(ws, unique_id, action, body))
        finally:
            await ws.close()
        return answers

    answers = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    server_let_go(CHARGE_POINT_ID)
    return answers


def stop_16(meter_stop, timestamp=None):
    def payload(answers):
        return json.dumps(
            {
                "transactionId": answers[0][2]["transactionId"],
                "meterStop": meter_stop,
                "timestamp": timestamp or now(),
                "reason": "Local",
            }
        )

    return payload


def start_16(meter_start=1_000, timestamp=None) -> dict:
    return {
        "connectorId": 1,
        "idTag": ID_TAG,
        "meterStart": meter_start,
        "timestamp": timestamp or an_hour_ago(),
    }


def event_201(event: str, seq_no: int, timestamp: str, reading: str) -> str:
    """A TransactionEvent whose energy register reading is ``reading``, a JSON literal."""
    trigger = {"Started": "Authorized", "Ended": "StopAuthorized"}[event]
    info = '{"transactionId": "tx-values"%s}' % (
        ', "stoppedReason": "Local"' if event == "Ended" else ""
    )
    token = (
        f', "idToken": {{"idToken": "{MAC}", "type": "MacAddress"}}' if event == "Started" else ""
    )
    return (
        f'{{"eventType": "{event}", "timestamp": "{timestamp}", "triggerReason": "{trigger}", '
        f'"seqNo": {seq_no}, "transactionInfo": {info}, "evse": {{"id": 1, "connectorId": 1}}'
        f'{token}, "meterValue": [{{"timestamp": "{timestamp}", "sampledValue": [{{"value": '
        f'{reading}, "measurand": "Energy.Active.Import.Register"}}]}}]}}'
    )


BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


@dataclass
class Case:
    protocol: str
    frames: list
    anomaly: str
    sent: str
    """How the absurd value reads in the logged request."""
    extra: dict = field(default_factory=dict)


CASES = {
    "start in year 9999": Case(
        "ocpp1.6",
        [
            ("start", "StartTransaction", start_16(timestamp="9999-12-31T23:59:59Z")),
            ("stop", "StopTransaction", stop_16(5_000)),
        ],
        AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
        '"9999-12-31T23:59:59Z"',
    ),
    "start in 1970": Case(
        "ocpp1.6",
        [
            ("start", "StartTransaction", start_16(timestamp="1970-01-01T00:00:00Z")),
            ("stop", "StopTransaction", stop_16(5_000)),
        ],
        AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
        '"1970-01-01T00:00:00Z"',
    ),
    "meterStop 2^63-1": Case(
        "ocpp1.6",
        [
            ("start", "StartTransaction", start_16()),
            ("stop", "StopTransaction", stop_16(2**63 - 1)),
        ],
        AnomalyKind.IMPLAUSIBLE_METER,
        str(2**63 - 1),
    ),
    "negative meterStart": Case(
        "ocpp1.6",
        [
            ("start", "StartTransaction", start_16(meter_start=-40_000)),
            ("stop", "StopTransaction", stop_16(5_000)),
        ],
        AnomalyKind.IMPLAUSIBLE_METER,
        "-40000",
    ),
    "2.0.1 energy 1e30": Case(
        "ocpp2.0.1",
        [
            ("boot", "BootNotification", BOOT_201),
            ("started", "TransactionEvent", event_201("Started", 0, an_hour_ago(), "1000")),
            ("ended", "TransactionEvent", lambda _: event_201("Ended", 1, now(), "1e30")),
        ],
        AnomalyKind.IMPLAUSIBLE_METER,
        "1e+30",
    ),
    "2.0.1 energy beyond a float": Case(
        "ocpp2.0.1",
        [
            ("boot", "BootNotification", BOOT_201),
            ("started", "TransactionEvent", event_201("Started", 0, an_hour_ago(), "1000")),
            ("ended", "TransactionEvent", lambda _: event_201("Ended", 1, now(), "-1e400")),
        ],
        AnomalyKind.IMPLAUSIBLE_METER,
        '"-1e400"',
    ),
}


def pages(session: ChargingSession) -> list[str]:
    today = timezone.localdate()
    period = f"?start={(today - timedelta(days=40)).isoformat()}&end={today.isoformat()}"
    return [
        reverse("portal:dashboard"),
        reverse("portal:report") + period,
        reverse("portal:report-download", args=["csv"]) + period,
        reverse("portal:report-download", args=["xlsx"]) + period,
        reverse("portal:vehicle-list"),
        reverse("portal:vehicle-detail", args=[session.vehicle_id]),
        reverse("portal:station-detail", args=[session.station_id]),
        reverse("admin:stations_chargingsession_changelist"),
        reverse("admin:stations_chargingsession_change", args=[session.pk]),
        "/api/v1/sessions/",
        f"/api/v1/sessions/{session.pk}/",
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_an_absurd_value_is_answered_stored_flagged_and_harms_no_page(server_url, badge, name):
    case = CASES[name]

    answers = run(server_url, case.protocol, case.frames)

    assert [answer[0] for answer in answers] == [3] * len(answers), answers
    session = ChargingSession.objects.get()
    assert not session.is_active
    assert session.badge == badge
    assert session.energy_wh is None or 0 <= session.energy_wh < 10**7
    assert TransactionAnomaly.objects.filter(session=session, kind=case.anomaly).exists()
    assert session.started_at.year == timezone.now().year
    logged = wait_for(
        lambda: (
            OcppMessage.objects.filter(direction="in", message_type=2)
            .exclude(action="BootNotification")
            .order_by("created_at")
            .count()
            == len([frame for frame in case.frames if frame[1] != "BootNotification"])
        )
    )
    assert logged
    requests = OcppMessage.objects.filter(direction="in", message_type=2)
    assert any(case.sent in json.dumps(row.payload) for row in requests)

    superuser = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    browser = Client()
    browser.force_login(superuser)
    for language in ["en", "fr"]:
        for url in pages(session):
            response = browser.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, (language, url)
