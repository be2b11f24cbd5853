"""End to end: transactions as real stations deliver them, with their faults (replays after a
reconnect, stops sent twice, ids nobody gave out, hours-old data, reboots mid-session), as raw
OCPP-J frames over a real WebSocket to a real daphne process. Every answer is the normal
``.conf``, never a CALLERROR: a refused transaction message makes a station retry it forever.
"""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from django.conf import settings
from django.utils import timezone

from ocpp_gateway.models import OcppMessage
from stations.models import AnomalyKind, ChargingSession, MeterValue, TransactionAnomaly
from tests.e2e.stations import wait_for
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHARGE_POINT_ID = "E2E-ROBUST-1"
ID_TAG = "VID:A014310E004E"
ACCEPTED = {"idTagInfo": {"status": "Accepted"}}


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id=CHARGE_POINT_ID)


@pytest.fixture
def badge(station):
    return BadgeFactory(rfid=ID_TAG, company=station.company)


def ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def an_hour_ago() -> datetime:
    """A start in the past: the gateway flags station clocks ahead of its own."""
    return whole_seconds(timezone.now() - timedelta(hours=1))


def run(scenario):
    """Run one async scenario against the server (the tests stay sync: the ORM is sync)."""
    return asyncio.run(asyncio.wait_for(scenario, timeout=30))


async def connect(server_url: str):
    return await websockets.connect(
        f"{server_url}/ocpp/{CHARGE_POINT_ID}", subprotocols=["ocpp1.6"]
    )


async def send(ws, unique_id: str, action: str, payload: dict) -> None:
    await ws.send(json.dumps([2, unique_id, action, payload]))


async def answer(ws) -> list:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


async def call(ws, unique_id: str, action: str, payload: dict) -> list:
    await send(ws, unique_id, action, payload)
    return await answer(ws)


def start_payload(*, meter_start: int, timestamp: str, connector_id: int = 1) -> dict:
    return {
        "connectorId": connector_id,
        "idTag": ID_TAG,
        "meterStart": meter_start,
        "timestamp": timestamp,
    }


def energy_sample(value: int, timestamp: str) -> dict:
    return {
        "timestamp": timestamp,
        "sampledValue": [
            {"value": str(value), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        ],
    }


def anomalies(**filters) -> list[TransactionAnomaly]:
    return list(TransactionAnomaly.objects.filter(**filters).order_by("id"))


def test_start_transaction_replayed_after_a_reconnect_gets_the_same_transaction_id(
    server_url, badge
):
    start = start_payload(meter_start=1_000, timestamp=ocpp_time(an_hour_ago()))

    async def scenario():
        ws = await connect(server_url)
        first = await call(ws, "start-1", "StartTransaction", start)
        await ws.close()  # the station lost the answer, reconnects and sends the start again
        ws = await connect(server_url)
        again = await call(ws, "start-2", "StartTransaction", start)
        await ws.close()
        return first, again

    first, again = run(scenario())

    session = ChargingSession.objects.get()
    assert first == [3, "start-1", {"transactionId": session.transaction_id, **ACCEPTED}]
    assert again == [3, "start-2", {"transactionId": session.transaction_id, **ACCEPTED}]
    assert (session.meter_start, session.badge) == (1_000, badge)
    [replayed] = anomalies()
    assert (replayed.kind, replayed.session, replayed.occurrences) == (
        AnomalyKind.REPLAYED_START,
        session,
        1,
    )
    wait_for(
        lambda: OcppMessage.objects.filter(direction="in", action="StartTransaction").count() == 2
    )


def test_stop_transaction_sent_twice_is_answered_twice_and_the_first_stop_is_kept(
    server_url, badge
):
    started = an_hour_ago()

    async def scenario():
        ws = await connect(server_url)
        start = await call(
            ws,
            "start",
            "StartTransaction",
            start_payload(meter_start=1_000, timestamp=ocpp_time(started)),
        )
        transaction_id = start[2]["transactionId"]
        stops = [
            await call(
                ws,
                "stop-1",
                "StopTransaction",
                {
                    "transactionId": transaction_id,
                    "meterStop": 21_000,
                    "timestamp": ocpp_time(started + timedelta(minutes=40)),
                    "reason": "EVDisconnected",
                    "idTag": ID_TAG,
                },
            ),
            await call(
                ws,
                "stop-2",
                "StopTransaction",
                {
                    "transactionId": transaction_id,
                    "meterStop": 25_000,
                    "timestamp": ocpp_time(started + timedelta(minutes=45)),
                    "reason": "Local",
                    "idTag": ID_TAG,
                },
            ),
        ]
        await ws.close()
        return transaction_id, stops

    transaction_id, stops = run(scenario())

    assert stops == [[3, "stop-1", ACCEPTED], [3, "stop-2", ACCEPTED]]
    session = ChargingSession.objects.get()
    assert session.transaction_id == transaction_id
    assert (session.meter_stop, session.energy_wh, session.stop_reason) == (
        21_000,
        20_000,
        "EVDisconnected",
    )
    assert session.stopped_at == started + timedelta(minutes=40)
    [duplicate] = anomalies()
    assert (duplicate.kind, duplicate.session, duplicate.occurrences) == (
        AnomalyKind.DUPLICATE_STOP,
        session,
        1,
    )
    assert (duplicate.details["meter_stop"], duplicate.details["reason"]) == (25_000, "Local")


def test_stops_and_meter_values_of_unknown_transactions_are_answered_and_kept_unattached(
    server_url, station
):
    timestamp = ocpp_time(an_hour_ago())

    async def scenario():
        ws = await connect(server_url)
        answers = [
            await call(
                ws,
                "stop-minus-1",
                "StopTransaction",
                {
                    "transactionId": -1,
                    "meterStop": 5_000,
                    "timestamp": timestamp,
                    "transactionData": [energy_sample(5_000, timestamp)],
                },
            ),
            await call(
                ws,
                "stop-unknown",
                "StopTransaction",
                {
                    "transactionId": 987_654,
                    "meterStop": 6_000,
                    "timestamp": timestamp,
                    "transactionData": [energy_sample(6_000, timestamp)],
                },
            ),
            await call(
                ws,
                "meter-unknown",
                "MeterValues",
                {
                    "connectorId": 2,
                    "transactionId": 424_242,
                    "meterValue": [energy_sample(7_000, timestamp)],
                },
            ),
        ]
        await ws.close()
        return answers

    assert run(scenario()) == [
        [3, "stop-minus-1", {}],
        [3, "stop-unknown", {}],
        [3, "meter-unknown", {}],
    ]
    assert not ChargingSession.objects.exists()
    readings = MeterValue.objects.order_by("value")
    assert [(r.value, r.session_id, r.connector_id) for r in readings] == [
        ("5000", None, 0),
        ("6000", None, 0),
        ("7000", None, 2),
    ]
    flagged = anomalies()
    assert {(a.kind, a.transaction_id, a.session_id) for a in flagged} == {
        # -1 cannot be an id we gave out: flagged without one.
        (AnomalyKind.UNKNOWN_TRANSACTION, None, None),
        (AnomalyKind.UNKNOWN_TRANSACTION, 987_654, None),
        (AnomalyKind.UNKNOWN_TRANSACTION, 424_242, None),
    }
    assert len(flagged) == 3


def test_a_transaction_delivered_late_in_a_burst_keeps_the_station_timestamps(server_url, badge):
    received_from = timezone.now()
    started = whole_seconds(received_from - timedelta(hours=5))
    sampled = started + timedelta(minutes=30)
    stopped = started + timedelta(hours=1)

    async def scenario():
        ws = await connect(server_url)
        # Back online, the station empties its queue: the start first (it needs the id)…
        start = await call(
            ws,
            "late-start",
            "StartTransaction",
            start_payload(meter_start=40_000, timestamp=ocpp_time(started)),
        )
        transaction_id = start[2]["transactionId"]
        # …then the rest without waiting for each answer.
        await send(
            ws,
            "late-meter",
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": transaction_id,
                "meterValue": [energy_sample(52_500, ocpp_time(sampled))],
            },
        )
        await send(
            ws,
            "late-stop",
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": 64_250,
                "timestamp": ocpp_time(stopped),
                "reason": "EVDisconnected",
            },
        )
        rest = [await answer(ws), await answer(ws)]
        await ws.close()
        return start, rest

    start, rest = run(scenario())

    session = ChargingSession.objects.get()
    assert start == [3, "late-start", {"transactionId": session.transaction_id, **ACCEPTED}]
    assert rest == [[3, "late-meter", {}], [3, "late-stop", {}]]
    assert (session.started_at, session.stopped_at) == (started, stopped)
    now = timezone.now()
    assert received_from <= session.created_at <= now
    assert received_from <= session.stop_received_at <= now
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (
        40_000,
        64_250,
        24_250,
    )
    [reading] = MeterValue.objects.all()
    assert (reading.session, reading.value, reading.timestamp) == (session, "52500", sampled)
    assert received_from <= reading.received_at <= now
    assert anomalies() == []


def test_a_session_open_at_reboot_is_resolved_by_its_power_loss_stop(server_url, badge):
    started = an_hour_ago()

    async def start_then_reboot():
        ws = await connect(server_url)
        start = await call(
            ws,
            "start",
            "StartTransaction",
            start_payload(meter_start=1_000, timestamp=ocpp_time(started)),
        )
        await ws.close()  # power cut
        ws = await connect(server_url)
        boot = await call(
            ws,
            "boot",
            "BootNotification",
            {"chargePointVendor": "E2E Vendor", "chargePointModel": "Robust"},
        )
        await ws.close()
        return start, boot

    async def stop_with_power_loss(transaction_id: int):
        ws = await connect(server_url)
        stop = await call(
            ws,
            "stop",
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": 9_000,
                "timestamp": ocpp_time(started + timedelta(minutes=20)),
                "reason": "PowerLoss",
            },
        )
        await ws.close()
        return stop

    start, boot = run(start_then_reboot())

    session = ChargingSession.objects.get()
    assert start == [3, "start", {"transactionId": session.transaction_id, **ACCEPTED}]
    assert boot[:2] == [3, "boot"]
    assert set(boot[2]) == {"currentTime", "interval", "status"}
    assert (boot[2]["status"], boot[2]["interval"]) == (
        "Accepted",
        settings.OCPP_HEARTBEAT_INTERVAL,
    )
    [open_at_reboot] = anomalies()
    assert (open_at_reboot.kind, open_at_reboot.session, open_at_reboot.resolved_at) == (
        AnomalyKind.OPEN_AT_REBOOT,
        session,
        None,
    )

    assert run(stop_with_power_loss(session.transaction_id)) == [3, "stop", {}]

    session.refresh_from_db()
    assert (session.stop_reason, session.meter_stop, session.energy_wh) == (
        "PowerLoss",
        9_000,
        8_000,
    )
    assert session.stopped_at == started + timedelta(minutes=20)
    [open_at_reboot] = anomalies()
    assert open_at_reboot.kind == AnomalyKind.OPEN_AT_REBOOT
    assert open_at_reboot.resolved_at == session.stop_received_at
