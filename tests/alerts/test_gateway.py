"""The alerts from a station talking OCPP to the real gateway (Channels' communicator): its
faulted connector and the unknown vehicle it refuses are mailed, and so is its outage once it
has lasted longer than the subscriber's delay."""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.utils import timezone

from alerts.services import offline_alerts_send
from stations.models import ConnectionState, Station
from supervision.outbox import emails_send
from tests.alerts.conftest import make_tenant
from tests.ocpp_gateway.connections import open_station

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alpha(transactional_db):
    return make_tenant("Alpha")


async def exchange(communicator, frame) -> list:
    await communicator.send_to(text_data=json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=5))


@database_sync_to_async
def db(function, *args, **kwargs):
    return function(*args, **kwargs)


async def until_disconnected(station: Station) -> None:
    for _attempt in range(500):
        state = await db(lambda: Station.objects.get(pk=station.pk).connection_state)
        if state == ConnectionState.DISCONNECTED:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the disconnection was not recorded")


async def test_a_station_s_fault_refusal_and_outage_reach_the_subscriber(alpha, monkeypatch):
    communicator = await open_station("CP-ALPHA")
    faulted = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}
    assert await exchange(communicator, [2, "s1", "StatusNotification", faulted]) == [3, "s1", {}]
    answer = await exchange(communicator, [2, "a1", "Authorize", {"idTag": "VID:A014310E0099"}])
    assert answer[2]["idTagInfo"]["status"] == "Invalid"
    await communicator.disconnect()
    await until_disconnected(alpha.station)

    assert await db(emails_send) == 2
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        "[Autocharge] Connector 1 faulted at Station CP-ALPHA (CP-ALPHA)",
        "[Autocharge] Unknown vehicle refused at Station CP-ALPHA (CP-ALPHA)",
    ]

    assert await db(offline_alerts_send) == 0  # not 15 minutes yet
    later = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert await db(offline_alerts_send) == 1
    assert await db(emails_send) == 1
    assert mail.outbox[-1].subject == "[Autocharge] Station Station CP-ALPHA (CP-ALPHA) offline"
    assert mail.outbox[-1].to == ["alpha@example.com"]
