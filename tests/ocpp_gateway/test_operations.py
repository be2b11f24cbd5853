"""Protocol tests of the station operations: the test plays the station with raw frames and
answers the supervision's calls; readiness, configuration and local list rows are asserted."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from ocpp_gateway.models import Command, OcppMessage
from ocpp_gateway.operations import revocation as operations
from ocpp_gateway.operations import staff_requests
from stations.models import AutochargeProfile, AutochargeSetting, LocalListEntry, Station
from tests.factories import BadgeFactory, SiteFactory, StationFactory
from tests.ocpp_gateway.connections import open_station as open_connected

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "AllowedAuthenticationMethods"


@pytest.fixture
def kempower(transactional_db) -> AutochargeProfile:
    # The seeded profile, unless an earlier transactional test flushed it.
    profile, _ = AutochargeProfile.objects.get_or_create(vendor="Kempower", model="")
    AutochargeSetting.objects.update_or_create(
        profile=profile, key=KEY, defaults={"value": "evmac", "mode": "includes"}
    )
    return profile


@pytest.fixture
def station(transactional_db) -> Station:
    return StationFactory(charge_point_id="CP-OPS", vendor="Kempower", model="S-Series")


async def open_station() -> WebsocketCommunicator:
    return await open_connected("CP-OPS")


async def play(communicator, *answers) -> list[tuple[str, dict]]:
    """Answer the supervision's next calls in order; ``answers`` are ``(action, payload)``,
    the action the call must have. Returns the calls as ``(action, payload)``."""
    calls = []
    for action, payload in answers:
        frame = json.loads(await communicator.receive_from(timeout=5))
        assert frame[0] == 2 and frame[2] == action, (frame, action)
        calls.append((frame[2], frame[3]))
        await communicator.send_to(text_data=json.dumps([3, frame[1], payload]))
    return calls


def configuration(value: str, key: str = KEY) -> dict:
    return {"configurationKey": [{"key": key, "readonly": False, "value": value}]}


async def settled(station: Station, *, still=("", "checking")) -> Station:
    for _ in range(250):
        await database_sync_to_async(station.refresh_from_db)()
        if station.autocharge_readiness not in still:
            return station
        await asyncio.sleep(0.02)
    return station


async def quiet() -> None:
    """Until every command has its outcome."""
    for _ in range(250):
        if not await database_sync_to_async(Command.objects.unfinished().exists)():
            return
        await asyncio.sleep(0.02)


@database_sync_to_async
def enable(station):
    return staff_requests.autocharge_enable(station=station)


async def boot(communicator, unique_id: str = "boot-1") -> list:
    await communicator.send_to(
        text_data=json.dumps(
            [
                2,
                unique_id,
                "BootNotification",
                {"chargePointVendor": "Kempower", "chargePointModel": "S-Series"},
            ]
        )
    )
    return json.loads(await communicator.receive_from(timeout=5))


async def test_a_change_applied_after_a_reboot_is_verified_at_the_next_boot(station, kempower):
    communicator = await open_station()
    await enable(station)

    await play(
        communicator,
        ("GetConfiguration", configuration("rfid")),
        ("ChangeConfiguration", {"status": "RebootRequired"}),
        ("GetConfiguration", configuration("rfid")),
    )
    station = await settled(station)
    assert station.autocharge_readiness == "reboot_required"
    assert station.autocharge_detail == f"{KEY}: RebootRequired. Reads back: {KEY} = rfid"

    answer = await boot(communicator)
    calls = await play(communicator, ("GetConfiguration", configuration("rfid,evmac")))

    assert answer[:2] == [3, "boot-1"]  # the boot is answered before anything is asked
    assert calls == [("GetConfiguration", {"key": [KEY]})]
    station = await settled(station, still=("reboot_required", "checking"))
    assert station.autocharge_readiness == "ready"
    await communicator.disconnect()


async def test_a_profile_pushing_on_boot_configures_the_station_after_every_boot(station, kempower):
    kempower.push_on_boot = True
    await database_sync_to_async(kempower.save)()
    communicator = await open_station()

    await boot(communicator)
    calls = await play(
        communicator,
        ("GetConfiguration", configuration("rfid")),
        ("ChangeConfiguration", {"status": "Accepted"}),
        ("GetConfiguration", configuration("rfid,evmac")),
    )

    assert calls[1] == ("ChangeConfiguration", {"key": KEY, "value": "rfid,evmac"})
    assert (await settled(station)).autocharge_readiness == "ready"
    await communicator.disconnect()


async def test_a_key_the_station_does_not_know_is_not_supported(station, kempower):
    communicator = await open_station()
    await enable(station)

    await play(communicator, ("GetConfiguration", {"unknownKey": [KEY]}))

    station = await settled(station)
    assert (station.autocharge_readiness, station.autocharge_detail) == (
        "not_supported",
        f"{KEY}: unknown to the station",
    )
    assert await database_sync_to_async(Command.objects.count)() == 1
    await communicator.disconnect()


async def test_a_station_leaving_during_the_check_is_offline(station, kempower):
    communicator = await open_station()
    await enable(station)
    json.loads(await communicator.receive_from(timeout=5))  # GetConfiguration, never answered

    await communicator.disconnect()

    station = await settled(station)
    assert station.autocharge_readiness == "offline"


async def test_a_later_read_showing_another_value_is_drift(station, kempower):
    await database_sync_to_async(Station.objects.filter(pk=station.pk).update)(
        autocharge_readiness="ready"
    )
    communicator = await open_station()

    await database_sync_to_async(operations.command_send)(
        station=station, action="GetConfiguration", payload={}, requested_by=None
    )
    await play(communicator, ("GetConfiguration", configuration("rfid")))

    station = await settled(station, still=("ready",))
    assert (station.autocharge_readiness, station.autocharge_detail) == (
        "drifted",
        f"{KEY} = rfid",
    )
    await communicator.disconnect()


async def test_drift_is_repaired_when_the_profile_says_so(station, kempower):
    kempower.repair_drift = True
    await database_sync_to_async(kempower.save)()
    await database_sync_to_async(Station.objects.filter(pk=station.pk).update)(
        autocharge_readiness="ready"
    )
    communicator = await open_station()

    await database_sync_to_async(operations.command_send)(
        station=station, action="GetConfiguration", payload={}, requested_by=None
    )
    calls = await play(
        communicator,
        ("GetConfiguration", configuration("rfid")),
        ("GetConfiguration", configuration("rfid")),
        ("ChangeConfiguration", {"status": "Accepted"}),
        ("GetConfiguration", configuration("rfid,evmac")),
    )

    assert calls[2] == ("ChangeConfiguration", {"key": KEY, "value": "rfid,evmac"})
    await quiet()
    station = await settled(station)
    assert (station.autocharge_readiness, station.autocharge_detail) == (
        "ready",
        f"{KEY} = rfid,evmac",
    )
    await communicator.disconnect()


async def test_a_clear_cache_that_could_not_be_delivered_is_sent_on_reconnection(station):
    @database_sync_to_async
    def revoked_while_offline():
        OcppMessage.objects.create(
            station=station,
            charge_point_id="CP-OPS",
            direction="in",
            message_type=2,
            unique_id="a1",
            action="Authorize",
            status="Accepted",
            id_tag="VID:A014310E004E",
            created_at=timezone.now(),
        )
        return operations.caches_clear(
            id_tag="VID:A014310E004E", reason="Badge disabled.", revoked_at=timezone.now()
        )

    [owed] = await revoked_while_offline()
    communicator = await open_station()

    calls = await play(communicator, ("ClearCache", {"status": "Accepted"}))

    assert owed.state == "failed"
    assert calls == [("ClearCache", {})]
    await quiet()
    await communicator.disconnect()
    reconnected = await open_station()
    assert await reconnected.receive_nothing(timeout=0.2)  # owed once, not at every connection
    await reconnected.disconnect()


async def test_a_clear_cache_lost_with_the_previous_connection_is_sent_again(station):
    """Sent, then the connection dropped before the answer (its process died): the new
    connection fails it as lost, and so owes the station the cache clear."""
    lost = await database_sync_to_async(Command.objects.create)(
        station=station,
        action="ClearCache",
        payload={},
        origin="cache_revocation",
        state="sent",
        reason="Badge disabled.",
    )
    communicator = await open_station()

    calls = await play(communicator, ("ClearCache", {"status": "Accepted"}))

    assert calls == [("ClearCache", {})]
    await database_sync_to_async(lost.refresh_from_db)()
    assert lost.state == "failed"
    assert "lost with the previous connection" in lost.detail
    await quiet()
    await communicator.disconnect()


async def test_a_station_of_a_limited_site_gets_its_fallback_again_when_it_reconnects(station):
    @database_sync_to_async
    def on_a_limited_site():
        station.site = SiteFactory(company=station.company, grid_limit_kw=22)
        station.save(update_fields=["site"])

    await on_a_limited_site()
    communicator = await open_station()  # booted before (last_boot_at): no boot now

    [(_, payload)] = await play(communicator, ("SetChargingProfile", {"status": "Accepted"}))

    assert payload["connectorId"] == 0
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
    await quiet()
    await communicator.disconnect()


async def test_a_local_list_too_long_for_one_message_is_sent_whole_then_in_parts(station):
    tags = [f"VID:A014310E00{n:02X}" for n in range(1, 6)]
    for tag in tags:
        await database_sync_to_async(BadgeFactory)(rfid=tag, company=station.company)
    communicator = await open_station()
    await database_sync_to_async(staff_requests.local_list_sync)(station=station)

    limits = {
        "configurationKey": [
            {"key": "LocalAuthListEnabled", "readonly": False, "value": "true"},
            {"key": "LocalAuthListMaxLength", "readonly": True, "value": "4"},
            {"key": "SendLocalListMaxLength", "readonly": True, "value": "3"},
        ]
    }
    calls = await play(
        communicator,
        ("GetConfiguration", limits),
        ("SendLocalList", {"status": "Accepted"}),
        ("SendLocalList", {"status": "Accepted"}),
    )

    sent = [(payload["listVersion"], payload["updateType"]) for _, payload in calls[1:]]
    assert sent == [(1, "Full"), (2, "Differential")]
    sent_tags = [
        item["idTag"] for _, payload in calls[1:] for item in payload["localAuthorizationList"]
    ]
    assert sent_tags == tags[:4]
    assert all(
        item["idTagInfo"] == {"status": "Accepted"}
        for _, payload in calls[1:]
        for item in payload["localAuthorizationList"]
    )
    for _ in range(250):
        await database_sync_to_async(station.refresh_from_db)()
        if station.local_list_detail:
            break
        await asyncio.sleep(0.02)
    assert station.local_list_version == 2
    assert station.local_list_detail == "4 badges. 1 left out (LocalAuthListMaxLength = 4)."
    held = await database_sync_to_async(
        lambda: sorted(LocalListEntry.objects.values_list("id_tag", flat=True))
    )()
    assert held == tags[:4]
    await communicator.disconnect()


async def test_a_version_mismatch_on_an_update_sends_the_list_whole(station):
    badge = await database_sync_to_async(BadgeFactory)(company=station.company)

    @database_sync_to_async
    def station_holds_version_7():
        Station.objects.filter(pk=station.pk).update(local_list_version=7)
        station.configuration_keys.create(
            key="LocalAuthListMaxLength", value="10", read_at=timezone.now()
        )

    await station_holds_version_7()
    communicator = await open_station()  # catching up: the badge is not in its list yet

    calls = await play(
        communicator,
        ("SendLocalList", {"status": "VersionMismatch"}),
        ("GetConfiguration", configuration("10", key="LocalAuthListMaxLength")),
        ("SendLocalList", {"status": "Accepted"}),
    )

    assert calls[0][1]["updateType"] == "Differential"
    assert (calls[0][1]["listVersion"], calls[2][1]["listVersion"]) == (8, 1)
    assert calls[2][1] == {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": badge.rfid, "idTagInfo": {"status": "Accepted"}}],
    }
    await communicator.disconnect()
