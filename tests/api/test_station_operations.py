"""Commands and station operations over REST: validation (400), offline stations (409), what
is recorded, who may, and the command history. Delivery itself is covered by the protocol and
end-to-end tests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocpp_gateway.models import Command
from stations.models import ConfigurationKey, ConnectionState
from tests.factories import StationFactory, seed_autocharge_profiles

pytestmark = pytest.mark.django_db

COMMAND_FIELDS = {
    "id",
    "station",
    "action",
    "payload",
    "state",
    "ocpp_status",
    "response",
    "detail",
    "origin",
    "reason",
    "requested_by",
    "unique_id",
    "created_at",
    "sent_at",
    "completed_at",
}


@pytest.fixture
def station():
    return StationFactory(
        charge_point_id="CP-API", vendor="Kempower", connection_state=ConnectionState.CONNECTED
    )


def commands_url(station) -> str:
    return f"/api/v1/stations/{station.pk}/commands/"


class TestSendingCommands:
    def test_a_command_is_accepted_for_delivery_with_202_and_recorded(
        self, api, superuser, station, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as delivery:
            response = api.post(
                commands_url(station),
                {"action": "GetConfiguration", "payload": {"key": ["HeartbeatInterval"]}},
                format="json",
            )

        assert response.status_code == 202, response.content
        body = response.json()
        assert set(body) == COMMAND_FIELDS
        assert (body["action"], body["payload"], body["state"]) == (
            "GetConfiguration",
            {"key": ["HeartbeatInterval"]},
            "pending",
        )
        command = Command.objects.get()
        assert (command.station, command.requested_by, command.origin) == (
            station,
            superuser,
            "staff",
        )
        assert len(delivery) == 1  # the station's connection is told once this commits

    def test_a_command_reads_no_connector_while_the_station_itself_lists_them(self, api, station):
        def connector_reads(request) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert request().status_code in (200, 202)
            return sum('"stations_connector"' in query["sql"] for query in queries)

        command = connector_reads(lambda: api.post(commands_url(station), {"action": "ClearCache"}))
        assert command == 0
        assert connector_reads(lambda: api.get(f"/api/v1/stations/{station.pk}/")) == 1
        assert connector_reads(lambda: api.get("/api/v1/stations/")) == 1

    def test_the_payload_defaults_to_empty(self, api, station):
        response = api.post(commands_url(station), {"action": "ClearCache"}, format="json")
        assert response.status_code == 202
        assert response.json()["payload"] == {}

    def test_an_unknown_action_is_a_400(self, api, station):
        response = api.post(commands_url(station), {"action": "MakeCoffee"}, format="json")

        assert response.status_code == 400
        assert response.json() == {"action": ['"MakeCoffee" is not a valid choice.']}
        assert not Command.objects.exists()

    def test_a_payload_failing_the_schema_is_a_400_with_the_schema_error(self, api, station):
        response = api.post(
            commands_url(station),
            {"action": "RemoteStartTransaction", "payload": {"idTag": "X" * 21}},
            format="json",
        )

        assert response.status_code == 400
        assert response.json() == {"payload": [f"'{'X' * 21}' is too long (at idTag)"]}
        assert not Command.objects.exists()

    def test_an_offline_station_is_a_409_and_the_attempt_is_recorded_failed(self, api):
        offline = StationFactory(charge_point_id="CP-AWAY")

        response = api.post(
            commands_url(offline), {"action": "Reset", "payload": {"type": "Hard"}}, format="json"
        )

        assert response.status_code == 409
        body = response.json()
        assert body["detail"] == "CP-AWAY is not connected."
        assert (body["command"]["state"], body["command"]["action"]) == ("failed", "Reset")
        assert Command.objects.get().state == "failed"

    def test_sending_needs_the_add_command_permission(self, staff_client, station):
        change_station_only = staff_client(
            "stations.change_station", "stations.view_station", company=station.company
        )
        allowed = staff_client(
            "ocpp_gateway.add_command",
            "stations.view_station",
            username="operator",
            company=station.company,
        )

        refused = change_station_only.post(
            commands_url(station), {"action": "ClearCache"}, format="json"
        )
        accepted = allowed.post(commands_url(station), {"action": "ClearCache"}, format="json")

        assert (refused.status_code, accepted.status_code) == (403, 202)

    def test_anonymous_requests_are_refused(self, anonymous_client, station):
        response = anonymous_client.post(commands_url(station), {"action": "ClearCache"})
        assert response.status_code == 401


class TestCommandHistory:
    def test_commands_are_listed_newest_first_and_filtered_by_station(self, api, station):
        other = StationFactory()
        first = Command.objects.create(station=station, action="ClearCache")
        second = Command.objects.create(
            station=station,
            action="Reset",
            payload={"type": "Soft"},
            state="accepted",
            ocpp_status="Accepted",
            response={"status": "Accepted"},
            completed_at=timezone.now(),
        )
        Command.objects.create(station=other, action="ClearCache")

        listed = api.get("/api/v1/commands/", {"station": station.pk}).json()
        detail = api.get(f"/api/v1/commands/{second.pk}/").json()

        assert [item["id"] for item in listed["results"]] == [second.pk, first.pk]
        assert (detail["state"], detail["response"]) == ("accepted", {"status": "Accepted"})

    def test_commands_are_read_only(self, api, station):
        command = Command.objects.create(station=station, action="ClearCache")
        assert api.post("/api/v1/commands/", {"station": station.pk}).status_code == 405
        assert api.delete(f"/api/v1/commands/{command.pk}/").status_code == 405

    def test_reading_needs_the_view_command_permission(self, staff_client, station):
        Command.objects.create(station=station, action="ClearCache")
        assert staff_client().get("/api/v1/commands/").status_code == 403
        viewer = staff_client(
            "ocpp_gateway.view_command", username="viewer", company=station.company
        )
        assert viewer.get("/api/v1/commands/").json()["count"] == 1


class TestAutocharge:
    @pytest.fixture(autouse=True)
    def profiles(self):
        seed_autocharge_profiles()

    def test_enabling_starts_the_check_with_202_and_readiness_checking(
        self, api, station, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as delivery:
            response = api.post(f"/api/v1/stations/{station.pk}/autocharge/enable/")

        assert response.status_code == 202
        assert response.json()["autocharge_readiness"] == "checking"
        assert len(delivery) == 1

    def test_a_vendor_without_profile_is_no_profile_at_once(self, api):
        station = StationFactory(vendor="ABB", model="Terra", connection_state="connected")

        response = api.post(f"/api/v1/stations/{station.pk}/autocharge/enable/")

        assert response.status_code == 200
        assert response.json()["autocharge_readiness"] == "no_profile"
        assert response.json()["autocharge_detail"] == (
            "No profile for vendor 'ABB', model 'Terra', firmware ''."
        )

    def test_a_station_that_never_booted_has_no_profile_yet(self, api):
        station = StationFactory(connection_state="connected")
        body = api.post(f"/api/v1/stations/{station.pk}/autocharge/enable/").json()
        assert body["autocharge_detail"] == (
            "The station has not sent a BootNotification yet: its vendor is unknown."
        )

    def test_an_offline_station_is_a_409_and_its_readiness_offline(self, api):
        station = StationFactory(vendor="Delta")

        response = api.post(f"/api/v1/stations/{station.pk}/autocharge/enable/")

        assert response.status_code == 409
        station.refresh_from_db()
        assert station.autocharge_readiness == "offline"


class TestLocalListAndConfiguration:
    def test_syncing_the_local_list_is_a_202(self, api, station):
        response = api.post(
            f"/api/v1/stations/{station.pk}/local-list/sync/", {"full": False}, format="json"
        )
        assert response.status_code == 202
        assert response.json()["local_list_version"] == 0

    def test_syncing_an_offline_station_is_a_409(self, api):
        station = StationFactory()
        response = api.post(f"/api/v1/stations/{station.pk}/local-list/sync/")
        assert response.status_code == 409

    def test_the_configuration_lists_the_keys_last_read(self, api, station):
        ConfigurationKey.objects.create(
            station=station,
            key="NumberOfConnectors",
            value="2",
            readonly=True,
            read_at=timezone.now(),
        )

        response = api.get(f"/api/v1/stations/{station.pk}/configuration/")

        assert response.status_code == 200
        [key] = response.json()
        assert (key["key"], key["value"], key["readonly"]) == ("NumberOfConnectors", "2", True)


def test_the_schema_lists_the_operations(api):
    paths = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]
    for path in (
        "/api/v1/stations/{id}/commands/",
        "/api/v1/stations/{id}/autocharge/enable/",
        "/api/v1/stations/{id}/local-list/sync/",
        "/api/v1/stations/{id}/configuration/",
        "/api/v1/commands/",
        "/api/v1/commands/{id}/",
    ):
        assert path in paths, path
