"""Station traffic writes no change history: boots, heartbeats, statuses, authorizations and
reconnections update the station's row (gateway fields left out of its history), never a
history table."""

import pytest
from channels.db import database_sync_to_async
from simple_history.utils import get_history_model_for_model

from badges.models import Badge
from fleet.models import AuthorizationGroup, Company, Vehicle
from stations.models import AutochargeProfile, AutochargeSetting, Station
from tests.factories import BadgeFactory, StationFactory
from tests.ocpp_gateway.test_consumer import exchange, open_station

pytestmark = pytest.mark.django_db(transaction=True)

TRACKED = [
    Company,
    Vehicle,
    AuthorizationGroup,
    Badge,
    Station,
    AutochargeProfile,
    AutochargeSetting,
]
FLOOD = 50


@database_sync_to_async
def history_rows() -> dict[str, int]:
    return {model.__name__: get_history_model_for_model(model).objects.count() for model in TRACKED}


@database_sync_to_async
def gateway_fields_written() -> tuple:
    station = Station.objects.get(charge_point_id="CP-PROTO")
    return station.vendor, station.last_heartbeat_at is not None, station.connection_state


@pytest.fixture
def station(transactional_db) -> Station:
    station = StationFactory(charge_point_id="CP-PROTO")
    BadgeFactory(rfid="VID:A014310E004E", company=station.company)
    return station


async def test_a_boot_heartbeat_and_status_flood_writes_no_history_row(station, settings):
    settings.OCPP_RATE_BURST = 1000  # a flood of history, not of frames: never slowed down
    before = await history_rows()

    for reconnection in range(2):
        communicator, connected, _ = await open_station()
        assert connected
        boot = {"chargePointVendor": "Kempower", "chargePointModel": f"S-{reconnection}"}
        assert (await exchange(communicator, [2, "boot", "BootNotification", boot]))[0] == 3
        for n in range(FLOOD):
            assert (await exchange(communicator, [2, f"hb{n}", "Heartbeat", {}]))[0] == 3
            status = {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Charging" if n % 2 else "Available",
            }
            assert (await exchange(communicator, [2, f"s{n}", "StatusNotification", status]))[
                0
            ] == 3
        for id_tag in ("VID:A014310E004E", "VID:A014310E0099"):
            answer = await exchange(communicator, [2, id_tag, "Authorize", {"idTag": id_tag}])
            assert answer[0] == 3
        await communicator.disconnect()

    assert await gateway_fields_written() == ("Kempower", True, "disconnected")
    assert await history_rows() == before
