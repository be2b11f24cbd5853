"""End to end: station operations through a real daphne process, over real HTTP and a real
WebSocket, with the ``ocpp`` library's ChargePoint answering the supervision's calls."""

import pytest
from django.conf import settings
from ocpp.v16 import call

from ocpp_gateway.models import Command, OcppMessage
from stations.models import LocalListEntry, Station
from tests.e2e.stations import (
    Api,
    staff_token,
    station_online,
    wait_for,
)
from tests.factories import BadgeFactory, StationFactory, seed_autocharge_profiles

pytestmark = pytest.mark.django_db(transaction=True)

MAC_TAG = "VID:A014310E004E"


@pytest.fixture
def api(server_url, transactional_db) -> Api:
    return Api(server_url, staff_token())


@pytest.fixture
def profiles(transactional_db) -> None:
    seed_autocharge_profiles()


def finished(command_id: int) -> Command:
    return wait_for(
        lambda: Command.objects.filter(pk=command_id).exclude(state__in=["pending", "sent"]).first()
    )


def list_version(station: Station) -> int:
    """The local list version the supervision recorded (the station knows it a moment before)."""
    return Station.objects.values_list("local_list_version", flat=True).get(pk=station.pk)


def readiness_settled(station: Station) -> Station:
    def settled():
        station.refresh_from_db()
        return station.autocharge_readiness not in ("", "checking") and station

    return wait_for(settled)


def test_a_get_configuration_posted_over_rest_reaches_the_station_and_its_answer_is_stored(
    server_url, api
):
    station = StationFactory(charge_point_id="E2E-CMD-1")
    with station_online(server_url, station.charge_point_id, vendor="Kempower") as (online, _):
        status, body = api.post(
            f"/stations/{station.pk}/commands/",
            {"action": "GetConfiguration", "payload": {"key": ["AllowedAuthenticationMethods"]}},
        )
        assert status == 202, body
        assert (body["action"], body["state"]) == ("GetConfiguration", "pending")

        command = finished(body["id"])

        assert online.calls("GetConfiguration") == [{"key": ["AllowedAuthenticationMethods"]}]
    assert command.state == "accepted"
    assert command.response == {
        "configurationKey": [
            {"key": "AllowedAuthenticationMethods", "readonly": False, "value": "rfid"}
        ]
    }
    _, detail = api.request("GET", f"/commands/{command.pk}/")
    assert (detail["state"], detail["response"]) == ("accepted", command.response)
    _, listed = api.request("GET", f"/commands/?station={station.pk}")
    assert [item["id"] for item in listed["results"]] == [command.pk]
    _, configuration = api.request("GET", f"/stations/{station.pk}/configuration/")
    assert [(key["key"], key["value"]) for key in configuration] == [
        ("AllowedAuthenticationMethods", "rfid")
    ]


def test_enable_autocharge_on_a_kempower_station_adds_evmac_and_keeps_rfid(
    server_url, api, profiles
):
    station = StationFactory(charge_point_id="E2E-KEMPOWER-AC")
    with station_online(server_url, station.charge_point_id, vendor="Kempower") as (online, _):
        status, body = api.post(f"/stations/{station.pk}/autocharge/enable/")
        assert status == 202, body
        assert body["autocharge_readiness"] == "checking"

        readiness_settled(station)

        assert online.calls("ChangeConfiguration") == [
            {"key": "AllowedAuthenticationMethods", "value": "rfid,evmac"}
        ]
        assert online.configuration["AllowedAuthenticationMethods"] == ("rfid,evmac", False)
    assert station.autocharge_readiness == "ready"
    assert station.autocharge_detail == "AllowedAuthenticationMethods = rfid,evmac"
    _, shown = api.request("GET", f"/stations/{station.pk}/")
    assert shown["autocharge_readiness"] == "ready"
    steps = Command.objects.filter(station=station).order_by("id")
    assert [(c.action, c.state, c.origin) for c in steps] == [
        ("GetConfiguration", "accepted", "autocharge"),
        ("ChangeConfiguration", "accepted", "autocharge"),
        ("GetConfiguration", "accepted", "autocharge"),
    ]
    assert {c.requested_by.username for c in steps} == {"operator"}


def test_enable_autocharge_on_a_delta_station_sets_the_vid_format(server_url, api, profiles):
    station = StationFactory(charge_point_id="E2E-DELTA-AC")
    with station_online(server_url, station.charge_point_id, vendor="Delta") as (online, _):
        assert api.post(f"/stations/{station.pk}/autocharge/enable/")[0] == 202

        readiness_settled(station)

        assert online.calls("ChangeConfiguration") == [
            {"key": "OCPP/idTagAutocharge", "value": "VID:[ID]"}
        ]
    assert station.autocharge_readiness == "ready"


def test_a_station_that_rejects_the_change_ends_rejected(server_url, api, profiles):
    station = StationFactory(charge_point_id="E2E-DELTA-NO")
    with station_online(
        server_url, station.charge_point_id, vendor="Delta", reject_changes=True
    ) as (online, _):
        assert api.post(f"/stations/{station.pk}/autocharge/enable/")[0] == 202

        readiness_settled(station)

        assert len(online.calls("ChangeConfiguration")) == 1
    assert station.autocharge_readiness == "rejected"
    assert station.autocharge_detail == "OCPP/idTagAutocharge: Rejected"


def test_an_offline_station_gives_409_for_commands_and_autocharge(api, profiles):
    station = StationFactory(charge_point_id="E2E-OFFLINE", vendor="Kempower")

    command_status, command_body = api.post(
        f"/stations/{station.pk}/commands/", {"action": "Reset", "payload": {"type": "Soft"}}
    )
    enable_status, enable_body = api.post(f"/stations/{station.pk}/autocharge/enable/")

    assert command_status == 409
    assert command_body["detail"] == "E2E-OFFLINE is not connected."
    assert command_body["command"]["state"] == "failed"
    assert (enable_status, enable_body) == (409, {"detail": "E2E-OFFLINE is not connected."})
    station.refresh_from_db()
    assert station.autocharge_readiness == "offline"


def test_disabling_a_badge_makes_the_station_that_accepted_it_clear_its_cache(server_url, api):
    station = StationFactory(charge_point_id="E2E-REVOKE")
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)
    with station_online(server_url, station.charge_point_id) as (online, thread):
        authorized = thread.run(online.call(call.Authorize(id_tag=MAC_TAG)))
        assert authorized.id_tag_info["status"] == "Accepted"
        # The revocation finds the stations that accepted the badge in the message log, which
        # is written a moment (OCPP_LOG_FLUSH_SECONDS) after the answer.
        wait_for(OcppMessage.objects.filter(id_tag=MAC_TAG, status="Accepted").exists)

        status, _ = api.patch(f"/badges/{badge.pk}/", {"state": "disabled"})
        assert status == 200

        wait_for(lambda: online.calls("ClearCache"))
        command = finished(Command.objects.get(station=station, action="ClearCache").pk)
    assert (command.state, command.origin) == ("accepted", "cache_revocation")
    assert command.reason == f"Badge {MAC_TAG} disabled."


def test_the_local_list_is_sent_whole_then_changes_follow_badge_changes(server_url, api):
    station = StationFactory(charge_point_id="E2E-LOCAL-LIST")
    kept = BadgeFactory(rfid="VID:A014310E0001", company=station.company)
    revoked = BadgeFactory(rfid="VID:A014310E0002", company=station.company)
    with station_online(server_url, station.charge_point_id) as (online, _):
        status, body = api.post(f"/stations/{station.pk}/local-list/sync/")
        assert status == 202, body
        wait_for(lambda: list_version(station) == 1)
        assert online.local_list_version == 1
        assert set(online.local_list) == {kept.rfid, revoked.rfid}

        api.patch(f"/badges/{revoked.pk}/", {"state": "disabled"})

        wait_for(lambda: list_version(station) == 2)
        assert set(online.local_list) == {kept.rfid}
        assert online.calls("SendLocalList")[-1] == {
            "list_version": 2,
            "update_type": "Differential",
            "local_authorization_list": [{"id_tag": revoked.rfid}],
        }
    assert list(LocalListEntry.objects.values_list("id_tag", flat=True)) == [kept.rfid]


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="Needs REDIS_URL: the in-memory channel layer does not cross processes.",
)
def test_a_station_connected_to_one_process_receives_a_command_posted_to_another(
    server_url, second_server_url, transactional_db
):
    """Two server processes sharing Redis: the station is connected to the first, the command
    is posted to the second. Skipped without REDIS_URL (the in-memory layer is per process);
    CI's second run (.ci/run, PostgreSQL + Redis) sets it, so it always runs there."""
    station = StationFactory(charge_point_id="E2E-TWO-PROCESSES")
    second = Api(second_server_url, staff_token())
    with station_online(server_url, station.charge_point_id, vendor="Kempower") as (online, _):
        status, body = second.post(
            f"/stations/{station.pk}/commands/", {"action": "GetLocalListVersion"}
        )
        assert status == 202, body

        command = finished(body["id"])

        assert online.calls("GetLocalListVersion") == [{}]
    assert (command.state, command.response) == ("accepted", {"listVersion": 0})
    # The first process held the socket: it logged the call and its answer.
    wait_for(lambda: OcppMessage.objects.filter(unique_id=command.unique_id).count() == 2)
