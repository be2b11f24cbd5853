"""Protocol: how the gateway reads what stations leave out or send late (StopTransaction
without a reason, a 2.0.1 remote start named only by its remoteStartId, a refused start the
station never stops, an Updated event after Ended)."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from ocpp_gateway.models import Command, CommandAction, CommandState
from stations.models import AnomalyKind, ChargingSession, MeterValue, TransactionAnomaly
from stations.services import REFUSED_STOP_REASON
from supervision.asgi import application
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHARGE_POINT_ID = "CP-VALUES-PROTO"
MAC = "A014310E0F42"


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id=CHARGE_POINT_ID, last_boot_at=timezone.now())


async def connected(protocol: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, f"/ocpp/{CHARGE_POINT_ID}", subprotocols=[protocol]
    )
    accepted, subprotocol = await communicator.connect()
    assert (accepted, subprotocol) == (True, protocol)
    return communicator


async def call(communicator, unique_id: str, action: str, payload: dict) -> list:
    await communicator.send_to(text_data=json.dumps([2, unique_id, action, payload]))
    return json.loads(await communicator.receive_from(timeout=5))


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def session() -> ChargingSession:
    return ChargingSession.objects.select_related("badge").get()


async def test_a_stop_transaction_without_reason_is_stopped_for_reason_local(station):
    await database_sync_to_async(BadgeFactory)(rfid=f"VID:{MAC}", company=station.company)
    communicator = await connected("ocpp1.6")
    start = await call(
        communicator,
        "s",
        "StartTransaction",
        {"connectorId": 1, "idTag": f"VID:{MAC}", "meterStart": 0, "timestamp": an_hour_ago()},
    )
    stop = await call(
        communicator,
        "t",
        "StopTransaction",
        {
            "transactionId": start[2]["transactionId"],
            "meterStop": 4_000,
            "timestamp": timezone.now().isoformat(),
        },
    )
    await communicator.disconnect()

    assert stop == [3, "t", {}]
    stopped = await database_sync_to_async(session)()
    assert (stopped.stop_reason, stopped.energy_wh) == ("Local", 4_000)


async def test_a_refused_start_is_closed_once_the_connector_is_available_again(station):
    communicator = await connected("ocpp1.6")
    start = await call(
        communicator,
        "s",
        "StartTransaction",
        {"connectorId": 1, "idTag": "NOBODY", "meterStart": 0, "timestamp": an_hour_ago()},
    )
    status = await call(
        communicator,
        "n",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    )
    await call(
        communicator, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
    )
    await communicator.disconnect()

    assert start[2]["idTagInfo"]["status"] == "Invalid"
    assert status == [3, "n", {}]
    closed = await database_sync_to_async(session)()
    assert (closed.is_active, closed.stop_reason, closed.energy_wh) == (
        False,
        REFUSED_STOP_REASON,
        None,
    )
    kinds = await database_sync_to_async(
        lambda: set(closed.anomalies.values_list("kind", flat=True))
    )()
    assert AnomalyKind.OPEN_AT_REBOOT not in kinds


@pytest.mark.parametrize(
    ("protocol", "start"),
    [
        (
            "ocpp1.6",
            [
                "StartTransaction",
                {"connectorId": 1, "idTag": "NOBODY", "meterStart": 0, "timestamp": an_hour_ago()},
            ],
        ),
        ("ocpp2.0.1", ["TransactionEvent", None]),
    ],
)
async def test_a_session_started_on_the_connection_is_flagged_open_at_its_reboot(
    station, protocol, start
):
    """The connection was recorded with no session open, which spares its boot the search; a
    session that starts on it afterwards is still found there."""
    action, payload = start
    communicator = await connected(protocol)
    await call(communicator, "s", action, payload or event("Started", 0))
    boot = (
        {"chargePointVendor": "V", "chargePointModel": "M"}
        if protocol == "ocpp1.6"
        else {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}
    )
    await call(communicator, "b", "BootNotification", boot)
    await communicator.disconnect()

    started = await database_sync_to_async(session)()
    kinds = await database_sync_to_async(
        lambda: set(started.anomalies.values_list("kind", flat=True))
    )()
    if protocol == "ocpp1.6":  # refused (an unknown tag): closed at the reboot, not flagged
        assert (started.is_active, started.stop_reason) == (False, REFUSED_STOP_REASON)
        assert AnomalyKind.OPEN_AT_REBOOT not in kinds
    else:
        assert started.is_active
        assert AnomalyKind.OPEN_AT_REBOOT in kinds


def event(kind: str, seq_no: int, **fields) -> dict:
    return {
        "eventType": kind,
        "timestamp": fields.pop("timestamp", timezone.now().isoformat()),
        "triggerReason": fields.pop("triggerReason", "MeterValuePeriodic"),
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": "tx-remote", **fields.pop("info", {})},
        "evse": {"id": 1, "connectorId": 1},
        **fields,
    }


async def test_a_remote_start_is_attributed_through_its_remote_start_id(station):
    badge = await database_sync_to_async(BadgeFactory)(rfid=f"VID:{MAC}", company=station.company)
    await database_sync_to_async(Command.objects.create)(
        station=station,
        action=CommandAction.REQUEST_START_TRANSACTION,
        payload={"idToken": {"idToken": MAC, "type": "MacAddress"}, "remoteStartId": 77},
        state=CommandState.ACCEPTED,
    )
    communicator = await connected("ocpp2.0.1")
    started = await call(
        communicator,
        "e0",
        "TransactionEvent",
        event("Started", 0, triggerReason="RemoteStart", info={"remoteStartId": 77}),
    )
    await communicator.disconnect()

    assert started == [3, "e0", {}]  # no idTokenInfo: the event carried no idToken
    attributed = await database_sync_to_async(session)()
    assert (attributed.badge, attributed.id_tag, attributed.authorization_status) == (
        badge,
        f"VID:{MAC}",
        "Accepted",
    )


async def test_an_unknown_remote_start_id_leaves_the_session_unattributed(station):
    communicator = await connected("ocpp2.0.1")
    started = await call(
        communicator, "e0", "TransactionEvent", event("Started", 0, info={"remoteStartId": 5})
    )
    await communicator.disconnect()

    assert started == [3, "e0", {}]
    unattributed = await database_sync_to_async(session)()
    assert (unattributed.badge, unattributed.authorization_status) == (None, "")


async def test_an_updated_event_after_ended_is_answered_kept_and_flagged(station):
    communicator = await connected("ocpp2.0.1")
    answers = [
        await call(communicator, "e0", "TransactionEvent", event("Started", 0)),
        await call(
            communicator,
            "e1",
            "TransactionEvent",
            event("Ended", 1, triggerReason="EVDeparted", info={"stoppedReason": "EVDisconnected"}),
        ),
        await call(communicator, "e2", "TransactionEvent", event("Updated", 2)),
    ]
    await communicator.disconnect()

    assert answers == [[3, "e0", {}], [3, "e1", {}], [3, "e2", {}]]
    ended = await database_sync_to_async(session)()
    assert ended.stop_reason == "EVDisconnected"
    seqs, kinds = await database_sync_to_async(
        lambda: (
            list(ended.events.values_list("seq_no", flat=True)),
            set(ended.anomalies.values_list("kind", flat=True)),
        )
    )()
    assert seqs == [0, 1, 2]
    assert AnomalyKind.EVENT_AFTER_END in kinds


async def test_a_frame_of_thousands_of_samples_is_stored_up_to_the_cap(station, settings):
    settings.OCPP_MAX_SAMPLES_PER_FRAME = 2500
    communicator = await connected("ocpp1.6")
    samples = [{"value": "230"}] * 3000  # 42 KB: within OCPP_MAX_FRAME_BYTES

    answer = await call(
        communicator,
        "m",
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": an_hour_ago(), "sampledValue": samples}]},
    )
    await communicator.disconnect()

    assert answer == [3, "m", {}]
    stored, truncated = await database_sync_to_async(
        lambda: (
            MeterValue.objects.filter(station=station).count(),
            TransactionAnomaly.objects.get(kind=AnomalyKind.SAMPLES_TRUNCATED).details,
        )
    )()
    assert (stored, truncated) == (2500, {"received": 3000, "stored": 2500})
