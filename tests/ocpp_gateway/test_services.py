"""The gateway's synchronous services: command validation and recording, delivery after commit,
cache revocation, and the badge/vehicle signals that trigger it."""

import json
from datetime import timedelta
from pathlib import Path

import ocpp.v16
import ocpp.v201
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.utils import timezone
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case

from badges import access
from badges import events as badge_events
from badges.models import AuthorizationChange, Badge
from fleet import services as fleet_services
from ocpp_gateway.models import Command, CommandAction, CommandState, OcppMessage
from ocpp_gateway.operations import revocation as operations
from ocpp_gateway.operations.commands import (
    ACTIONS,
    CommandInvalid,
    StationNotConnected,
    command_claim,
    command_finish,
    command_send,
    commands_fail_stale,
    station_group,
    validate_command,
)
from stations.models import ConnectionState
from tests.factories import BadgeFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db

MINIMAL_PAYLOADS = {
    "GetConfiguration": {},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "60"},
    "ClearCache": {},
    "Reset": {"type": "Soft"},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "RemoteStartTransaction": {"idTag": "VID:A014310E004E", "connectorId": 1},
    "RemoteStopTransaction": {"transactionId": 42},
    "UnlockConnector": {"connectorId": 2},
    "ChangeAvailability": {"connectorId": 0, "type": "Inoperative"},
    "SendLocalList": {"listVersion": 3, "updateType": "Full", "localAuthorizationList": []},
    "GetLocalListVersion": {},
    "DataTransfer": {"vendorId": "com.example", "messageId": "ping", "data": "{}"},
    # sites: smart charging
    "SetChargingProfile": {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.1}],
            },
        },
    },
    "ClearChargingProfile": {},
    "GetCompositeSchedule": {"connectorId": 0, "duration": 3600},
    # Reservations
    "ReserveNow": {
        "connectorId": 1,
        "expiryDate": "2030-01-01T00:00:00Z",
        "idTag": "VID:A014310E004E",
        "reservationId": 1,
    },
    "CancelReservation": {"reservationId": 1},
    "UpdateFirmware": {
        "location": "https://example.com/fw.bin",
        "retrieveDate": "2026-01-01T00:00:00Z",
    },
    "GetDiagnostics": {"location": "https://example.com/upload/"},
}
MINIMAL_PAYLOADS_201 = {
    "GetVariables": {
        "getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}
        ]
    },
    "SetVariables": {
        "setVariableData": [
            {
                "attributeValue": "123",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "OfflineThreshold"},
            }
        ]
    },
    "GetBaseReport": {"requestId": 1, "reportBase": "FullInventory"},
    "Reset": {"type": "OnIdle"},
    "RequestStartTransaction": {
        "idToken": {"idToken": "A014310E004E", "type": "MacAddress"},
        "remoteStartId": 7,
    },
    "RequestStopTransaction": {"transactionId": "tx-1"},
    "GetTransactionStatus": {},
    "UnlockConnector": {"evseId": 1, "connectorId": 1},
    "TriggerMessage": {"requestedMessage": "BootNotification"},
    "ClearCache": {},
    "SendLocalList": {"versionNumber": 1, "updateType": "Full"},
    "GetLocalListVersion": {},
    "ChangeAvailability": {"operationalStatus": "Inoperative"},
    "DataTransfer": {"vendorId": "com.example"},
    # sites: smart charging (block K)
    "SetChargingProfile": {
        "evseId": 0,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                }
            ],
        },
    },
    "ClearChargingProfile": {"chargingProfileId": 1},
    "GetChargingProfiles": {"requestId": 1, "chargingProfile": {"stackLevel": 0}},
    "GetCompositeSchedule": {"duration": 3600, "evseId": 0},
    # Reservations
    "ReserveNow": {
        "id": 1,
        "expiryDateTime": "2030-01-01T00:00:00Z",
        "idToken": {"idToken": "A014310E004E", "type": "MacAddress"},
    },
    "CancelReservation": {"reservationId": 1},
    "UpdateFirmware": {
        "requestId": 1,
        "firmware": {
            "location": "https://example.com/fw.bin",
            "retrieveDateTime": "2026-01-01T00:00:00Z",
        },
    },
    "GetLog": {
        "log": {"remoteLocation": "https://example.com/up/"},
        "logType": "SecurityLog",
        "requestId": 1,
    },
}


@pytest.fixture
def connected_station():
    return StationFactory(connection_state=ConnectionState.CONNECTED)


def group_listener(station):
    """A channel in the station's group, as the consumer holding the station has."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(station_group(station.pk), channel)
    return lambda: async_to_sync(layer.receive)(channel)


def accepted_log(station, id_tag, *, hours_ago=1, action="Authorize", status="Accepted"):
    return OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction="in",
        message_type=2,
        unique_id="a1",
        action=action,
        status=status,
        id_tag=id_tag,
        payload={"idTag": id_tag},
        created_at=timezone.now() - timedelta(hours=hours_ago),
    )


class TestValidation:
    @pytest.mark.parametrize(("action", "payload"), MINIMAL_PAYLOADS.items())
    def test_every_command_action_accepts_its_minimal_payload(self, action, payload):
        assert validate_command(action=action, payload=payload) == payload

    @pytest.mark.parametrize(("action", "payload"), MINIMAL_PAYLOADS_201.items())
    def test_every_ocpp_201_command_action_accepts_its_minimal_payload(self, action, payload):
        assert validate_command(action=action, payload=payload, version="2.0.1") == payload

    def test_the_minimal_payloads_cover_every_action_of_each_version(self):
        assert list(MINIMAL_PAYLOADS) == ACTIONS["1.6"]
        assert set(MINIMAL_PAYLOADS_201) == set(ACTIONS["2.0.1"])
        assert set(MINIMAL_PAYLOADS) | set(MINIMAL_PAYLOADS_201) == set(CommandAction.values)

    @pytest.mark.parametrize(
        ("action", "version"), [("GetConfiguration", "2.0.1"), ("GetVariables", "1.6")]
    )
    def test_an_action_of_the_other_version_is_refused_on_the_action(self, action, version):
        with pytest.raises(CommandInvalid) as invalid:
            validate_command(action=action, payload={}, version=version)
        assert invalid.value.field == "action"
        assert f"not an OCPP {version} command" in invalid.value.message

    @pytest.mark.parametrize(("package", "version"), [(ocpp.v16, "1.6"), (ocpp.v201, "2.0.1")])
    def test_every_top_level_key_of_the_schemas_survives_the_library_s_case_conversion(
        self, package, version
    ):
        """The runner hands the library snake_case arguments, which it sends camelCase: every
        key staff may send must come back as it was (validate_command refuses the others)."""
        schemas = Path(package.__file__).parent / "schemas"
        suffix = "" if version == "1.6" else "Request"
        keys = {
            key
            for action in ACTIONS[version]
            for key in json.loads((schemas / f"{action}{suffix}.json").read_text())["properties"]
        }
        assert {"connectorId", "requestedMessage"} <= keys
        for key in keys:
            assert snake_to_camel_case(camel_to_snake_case({key: None})) == {key: None}, key

    def test_an_unknown_action_is_refused_with_the_actions_we_send(self):
        with pytest.raises(CommandInvalid) as invalid:
            validate_command(action="MakeCoffee", payload={})
        assert invalid.value.field == "action"
        assert "GetConfiguration" in invalid.value.message

    @pytest.mark.parametrize(
        ("action", "payload", "message"),
        [
            ("Reset", {}, "'type' is a required property"),
            ("Reset", {"type": "Medium"}, "'Medium' is not one of ['Hard', 'Soft'] (at type)"),
            (
                "UnlockConnector",
                {"connectorId": "1"},
                "'1' is not of type 'integer' (at connectorId)",
            ),
            (
                "ChangeConfiguration",
                {"key": "K", "value": "V", "extra": 1},
                "Additional properties are not allowed ('extra' was unexpected)",
            ),
            (
                "GetConfiguration",
                {"key": ["x" * 51]},
                f"'{'x' * 51}' is too long (at key/0)",
            ),
        ],
    )
    def test_a_payload_failing_its_schema_is_refused_with_the_schema_s_message(
        self, action, payload, message
    ):
        with pytest.raises(CommandInvalid) as invalid:
            validate_command(action=action, payload=payload)
        assert (invalid.value.field, invalid.value.message) == ("payload", message)

    def test_a_payload_that_is_not_an_object_is_refused(self):
        with pytest.raises(CommandInvalid, match="JSON object"):
            validate_command(action="ClearCache", payload=[1])


class TestSending:
    def test_a_command_is_recorded_pending_and_the_station_s_group_told_after_commit(
        self, connected_station, admin_user, django_capture_on_commit_callbacks
    ):
        receive = group_listener(connected_station)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            command = command_send(
                station=connected_station,
                action="Reset",
                payload={"type": "Soft"},
                requested_by=admin_user,
            )
            assert command.state == CommandState.PENDING

        assert len(callbacks) == 1
        assert receive() == {
            "type": "station.command",
            "command": command.pk,
            "station": connected_station.pk,
        }
        assert (command.requested_by, command.origin, command.payload) == (
            admin_user,
            "staff",
            {"type": "Soft"},
        )

    def test_nothing_is_recorded_for_an_invalid_command(self, connected_station):
        with pytest.raises(CommandInvalid):
            command_send(station=connected_station, action="Reset", payload={}, requested_by=None)
        assert not Command.objects.exists()

    def test_a_command_is_claimed_once_and_finished_once(self, connected_station):
        command = command_send(
            station=connected_station, action="ClearCache", payload={}, requested_by=None
        )

        claimed = command_claim(command_id=command.pk, unique_id="u-1")
        again = command_claim(command_id=command.pk, unique_id="u-2")
        finished = command_finish(
            command=claimed, state=CommandState.ACCEPTED, response={"status": "Accepted"}
        )
        late = command_finish(command=claimed, state=CommandState.TIMEOUT)

        assert (again, finished, late) == (None, True, False)
        command.refresh_from_db()
        assert (command.state, command.unique_id) == ("accepted", "u-1")

    def test_commands_no_process_took_fail_after_a_while(self, connected_station):
        old = command_send(
            station=connected_station, action="ClearCache", payload={}, requested_by=None
        )
        Command.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
        recent = command_send(
            station=connected_station, action="ClearCache", payload={}, requested_by=None
        )

        assert commands_fail_stale(older_than=timedelta(minutes=10)) == 1
        old.refresh_from_db()
        recent.refresh_from_db()
        assert (old.state, recent.state) == ("failed", "pending")
        assert "No server process took the command" in old.detail


class TestCacheRevocation:
    def test_clear_cache_goes_to_the_stations_that_accepted_the_tag_within_the_window(self):
        recent, old, refused, elsewhere = (
            StationFactory(connection_state=ConnectionState.CONNECTED) for _ in range(4)
        )
        accepted_log(recent, "VID:A014310E004E", hours_ago=2)
        accepted_log(recent, "VID:A014310E004E", action="StartTransaction")
        accepted_log(old, "VID:A014310E004E", hours_ago=30)
        accepted_log(refused, "VID:A014310E004E", status="Rejected")
        accepted_log(elsewhere, "VID:A014310E0099")

        sent = operations.caches_clear(
            id_tag="VID:A014310E004E", reason="Badge disabled.", revoked_at=timezone.now()
        )

        assert [(c.station, c.action, c.origin, c.reason) for c in sent] == [
            (recent, "ClearCache", "cache_revocation", "Badge disabled.")
        ]

    def test_a_bulk_revocation_sends_one_clear_cache_per_station(self):
        station = StationFactory(connection_state=ConnectionState.CONNECTED)
        for tag in ("VID:A014310E0001", "VID:A014310E0002"):
            accepted_log(station, tag)
        revoked_at = timezone.now()

        operations.on_station_access_revoked(
            Badge,
            revoked=[
                ("VID:A014310E0001", "Badge VID:A014310E0001 disabled."),
                ("VID:A014310E0002", "Badge VID:A014310E0002 disabled."),
            ],
            station_ids=None,
            revoked_at=revoked_at,
        )

        assert Command.objects.filter(station=station, action="ClearCache").count() == 1

    def test_an_offline_station_gets_a_failed_clear_cache_it_is_owed_on_reconnection(self):
        station = StationFactory()
        accepted_log(station, "VID:A014310E004E")

        [command] = operations.caches_clear(
            id_tag="VID:A014310E004E", reason="Badge deleted.", revoked_at=timezone.now()
        )

        assert (command.state, command.detail) == (
            "failed",
            f"{station.charge_point_id} is not connected.",
        )

    def test_an_expired_badge_clears_the_caches_once_however_often_the_check_runs(self):
        station = StationFactory(connection_state=ConnectionState.CONNECTED)
        badge = BadgeFactory(expires_at=timezone.now() - timedelta(minutes=5))
        accepted_log(station, badge.rfid, hours_ago=3)
        BadgeFactory(expires_at=timezone.now() - timedelta(days=3))  # long gone from caches
        BadgeFactory(expires_at=timezone.now() + timedelta(days=1))  # not yet

        first = operations.expired_badges_revoke()
        second = operations.expired_badges_revoke()

        assert [(c.station, c.reason) for c in first] == [(station, f"Badge {badge.rfid} expired.")]
        assert second == []

    def test_the_periodic_command_runs_the_expiry_check(self, capsys):
        station = StationFactory(connection_state=ConnectionState.CONNECTED)
        badge = BadgeFactory(expires_at=timezone.now() - timedelta(minutes=5))
        accepted_log(station, badge.rfid)

        call_command("refresh_station_authorizations")

        assert Command.objects.get().action == "ClearCache"
        assert "ClearCache for expired badges: 1 command(s)" in capsys.readouterr().out

    def test_without_a_connected_station_nothing_reaches_anyone(self):
        with pytest.raises(StationNotConnected):
            command_send(
                station=StationFactory(), action="ClearCache", payload={}, requested_by=None
            )


class TestAccessChanges:
    """Badge and vehicle writes through their services, once committed, announce the tags
    that stopped being usable; the gateway clears the stations' caches."""

    @pytest.fixture
    def revocations(self):
        calls = []

        def received(sender, *, revoked, station_ids, revoked_at, **kwargs):
            calls.append(revoked)

        badge_events.station_access_revoked.connect(received, dispatch_uid="test")
        yield calls
        badge_events.station_access_revoked.disconnect(dispatch_uid="test")

    def test_disabling_a_badge_revokes_it_after_commit(
        self, revocations, django_capture_on_commit_callbacks
    ):
        badge = BadgeFactory()

        with django_capture_on_commit_callbacks(execute=True):
            badge.state = "disabled"
            access.badge_save(badge=badge)
            assert revocations == []

        assert revocations == [[(badge.rfid, f"Badge {badge.rfid} disabled.")]]

    def test_moving_the_expiry_into_the_past_revokes_it(
        self, revocations, django_capture_on_commit_callbacks
    ):
        badge = BadgeFactory()
        with django_capture_on_commit_callbacks(execute=True):
            badge.expires_at = timezone.now() - timedelta(minutes=1)
            access.badge_save(badge=badge)
        assert revocations[-1] == [(badge.rfid, f"Badge {badge.rfid} expired.")]

    def test_changing_the_rfid_revokes_the_old_tag(
        self, revocations, django_capture_on_commit_callbacks
    ):
        badge = BadgeFactory(rfid="VID:A014310E0001")
        with django_capture_on_commit_callbacks(execute=True):
            badge.rfid = "VID:A014310E0002"
            access.badge_save(badge=badge)
        assert revocations[-1] == [("VID:A014310E0001", "Badge VID:A014310E0001 renamed.")]

    def test_deleting_a_badge_revokes_it(self, revocations, django_capture_on_commit_callbacks):
        badge = BadgeFactory()
        with django_capture_on_commit_callbacks(execute=True):
            access.badge_delete(badge=badge)
        assert revocations[-1] == [(badge.rfid, f"Badge {badge.rfid} deleted.")]

    def test_deactivating_a_vehicle_revokes_its_usable_badges(
        self, revocations, django_capture_on_commit_callbacks
    ):
        vehicle = VehicleFactory()
        usable = BadgeFactory(company=vehicle.company, vehicle=vehicle)
        BadgeFactory(company=vehicle.company, vehicle=vehicle, state="disabled")
        with django_capture_on_commit_callbacks(execute=True):
            vehicle.active = False
            fleet_services.vehicle_save(vehicle=vehicle)
        assert revocations[-1] == [
            (usable.rfid, f"Badge {usable.rfid} revoked: vehicle deactivated.")
        ]

    def test_a_new_badge_revokes_nothing_but_brings_local_lists_up_to_date(
        self, revocations, django_capture_on_commit_callbacks
    ):
        vehicle = VehicleFactory()
        with django_capture_on_commit_callbacks(execute=True):
            access.badge_save(badge=BadgeFactory.build(company=vehicle.company, vehicle=vehicle))
        assert revocations == [[]]

    def test_describing_a_badge_tells_nobody_and_forgets_nothing(
        self, revocations, django_capture_on_commit_callbacks
    ):
        badge = BadgeFactory()
        changes = AuthorizationChange.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            badge.description = "Spare van"
            access.badge_save(badge=badge)
        assert revocations == []
        assert AuthorizationChange.objects.count() == changes
