"""Pairing mode: arming and disarming a station, the windows' list, and what a vehicle
presenting an unknown MAC at an armed station becomes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from badges.models import Badge, PairingWindow, SharedMacModel, UnknownVehicle
from stations.enrolment import authorization_request
from tests.factories import AuthorizationGroupFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db

PAIRINGS = "/api/v1/pairings/"
WINDOW_FIELDS = {
    "id",
    "station",
    "connector_id",
    "vehicle",
    "opened_by",
    "opened_at",
    "expires_at",
    "closed_at",
    "status",
    "badge",
}
VID = "VID:A014310E004E"


def pairing_url(station) -> str:
    return f"/api/v1/stations/{station.pk}/pairing/"


def minutes_between(start: str, end: str) -> float:
    return (parse_datetime(end) - parse_datetime(start)).total_seconds() / 60


@pytest.fixture
def station():
    return StationFactory(charge_point_id="CP-DEPOT-1")


@pytest.fixture
def vehicle(station):
    return VehicleFactory(company=station.company, license_plate="FT-123-ER")


@pytest.fixture
def armed(api, station, vehicle) -> dict:
    """The station armed for the vehicle through the API; the response body."""
    response = api.post(pairing_url(station), {"vehicle": vehicle.pk}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


class TestArming:
    def test_arming_opens_a_window_for_the_configured_minutes(
        self, api, superuser, station, vehicle, settings
    ):
        settings.AUTOCHARGE_PAIRING_MINUTES = 7

        response = api.post(pairing_url(station), {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == WINDOW_FIELDS
        window = PairingWindow.objects.get()
        assert body["id"] == window.pk
        assert (body["station"], body["vehicle"], body["connector_id"]) == (
            station.pk,
            vehicle.pk,
            None,
        )
        assert (body["opened_by"], body["status"], body["closed_at"], body["badge"]) == (
            "admin",
            "open",
            None,
            None,
        )
        assert minutes_between(body["opened_at"], body["expires_at"]) == 7
        assert (window.station, window.vehicle, window.opened_by) == (station, vehicle, superuser)
        assert window.is_open

    def test_minutes_and_connector_are_taken_from_the_request(self, api, station, vehicle):
        response = api.post(
            pairing_url(station),
            {"vehicle": vehicle.pk, "minutes": 30, "connector_id": 2},
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert minutes_between(body["opened_at"], body["expires_at"]) == 30
        assert body["connector_id"] == 2
        assert PairingWindow.objects.get().connector_id == 2

    def test_an_armed_station_is_a_409(self, api, station, vehicle, armed):
        other = VehicleFactory(company=station.company)

        response = api.post(pairing_url(station), {"vehicle": other.pk}, format="json")

        assert response.status_code == 409
        assert "already armed for FT-123-ER" in response.json()["detail"]
        assert PairingWindow.objects.get().vehicle == vehicle

    def test_a_station_whose_window_expired_can_be_armed_again(self, api, station, vehicle, armed):
        PairingWindow.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

        response = api.post(pairing_url(station), {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 201, response.json()
        statuses = dict(PairingWindow.objects.values_list("pk", "outcome"))
        assert statuses == {armed["id"]: "expired", response.json()["id"]: ""}

    def test_a_station_not_permitted_for_the_vehicle_s_company_is_a_400(self, api, station):
        stranger = VehicleFactory(license_plate="ZZ-999-ZZ")

        response = api.post(pairing_url(station), {"vehicle": stranger.pk}, format="json")

        assert response.status_code == 400
        [message] = response.json()["vehicle"]
        assert "may not charge at" in message
        assert not PairingWindow.objects.exists()

    def test_a_station_in_one_of_the_company_s_groups_may_be_armed(self, api, station):
        visitor = VehicleFactory()
        AuthorizationGroupFactory(company=visitor.company).stations.add(station)

        response = api.post(pairing_url(station), {"vehicle": visitor.pk}, format="json")

        assert response.status_code == 201, response.json()

    @pytest.mark.parametrize("minutes", [0, -5, 61])
    def test_minutes_out_of_range_are_a_400(self, api, station, vehicle, minutes):
        response = api.post(
            pairing_url(station), {"vehicle": vehicle.pk, "minutes": minutes}, format="json"
        )

        assert response.status_code == 400
        assert response.json() == {"minutes": ["A pairing window lasts 1 to 60 minutes."]}
        assert not PairingWindow.objects.exists()

    def test_an_unknown_vehicle_id_is_a_400(self, api, station):
        response = api.post(pairing_url(station), {"vehicle": 999_999}, format="json")

        assert response.status_code == 400
        assert "vehicle" in response.json()
        assert not PairingWindow.objects.exists()

    def test_connector_zero_is_a_400(self, api, station, vehicle):
        response = api.post(
            pairing_url(station), {"vehicle": vehicle.pk, "connector_id": 0}, format="json"
        )

        assert response.status_code == 400
        assert "connector_id" in response.json()

    def test_a_shared_mac_model_needs_acknowledgement(self, api, station, vehicle):
        SharedMacModel.objects.create(make="Renault", model="Kangoo")

        refused = api.post(pairing_url(station), {"vehicle": vehicle.pk}, format="json")

        assert refused.status_code == 400
        assert "acknowledge_shared_mac" in refused.json()
        assert not PairingWindow.objects.exists()
        accepted = api.post(
            pairing_url(station),
            {"vehicle": vehicle.pk, "acknowledge_shared_mac": True},
            format="json",
        )
        assert accepted.status_code == 201, accepted.json()

    def test_arming_a_missing_station_is_a_404(self, api, vehicle):
        response = api.post(
            "/api/v1/stations/999999/pairing/", {"vehicle": vehicle.pk}, format="json"
        )

        assert response.status_code == 404


class TestDisarming:
    def test_disarming_closes_the_window_and_returns_it(self, api, station, armed):
        response = api.delete(pairing_url(station))

        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["id"], body["status"]) == (armed["id"], "cancelled")
        assert body["closed_at"] is not None
        window = PairingWindow.objects.get()
        assert (window.outcome, window.is_open) == ("cancelled", False)

    def test_disarming_a_station_without_a_window_is_a_404(self, api, station):
        assert api.delete(pairing_url(station)).status_code == 404

    def test_disarming_after_expiry_is_a_404_and_the_window_stays_expired(
        self, api, station, armed
    ):
        PairingWindow.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

        response = api.delete(pairing_url(station))

        assert response.status_code == 404
        assert PairingWindow.objects.get().status == "expired"

    def test_disarming_twice_is_a_404_the_second_time(self, api, station, armed):
        assert api.delete(pairing_url(station)).status_code == 200
        assert api.delete(pairing_url(station)).status_code == 404


class TestPairingAVehicle:
    def test_an_unknown_vid_at_the_armed_station_becomes_the_vehicle_s_badge(
        self, api, superuser, station, vehicle, armed
    ):
        decision = authorization_request(id_tag="vid:a0:14:31:0e:00:4e", station=station)

        assert (decision.status, decision.reason) == ("Accepted", "paired")
        badge = Badge.objects.get()
        assert (badge.rfid, badge.vehicle, badge.company) == (VID, vehicle, vehicle.company)
        assert (badge.enrolled_via, badge.enrolled_by) == ("pairing", superuser)
        window = api.get(f"{PAIRINGS}{armed['id']}/").json()
        assert (window["status"], window["badge"]) == ("paired", badge.pk)
        assert window["closed_at"] is not None
        assert not UnknownVehicle.objects.exists()
        # Seen again: an ordinary accepted badge, the window does not pair twice.
        again = authorization_request(id_tag=VID, station=station)
        assert (again.status, again.reason) == ("Accepted", "accepted")

    def test_the_paired_badge_shows_how_and_by_whom_in_the_badges_api(self, api, station, armed):
        authorization_request(id_tag=VID, station=station)

        [row] = api.get("/api/v1/badges/").json()["results"]

        assert (row["enrolled_via"], row["enrolled_by"]) == ("pairing", "admin")

    def test_after_expiry_nothing_is_enrolled(self, api, station, armed):
        PairingWindow.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

        decision = authorization_request(id_tag=VID, station=station)

        assert (decision.status, decision.reason) == ("Invalid", "unknown_badge")
        assert not Badge.objects.exists()
        assert UnknownVehicle.objects.get().id_tag == VID
        assert api.get(f"{PAIRINGS}{armed['id']}/").json()["status"] == "expired"

    def test_at_another_station_nothing_is_enrolled(self, api, station, armed):
        elsewhere = StationFactory(company=station.company)

        decision = authorization_request(id_tag=VID, station=elsewhere)

        assert (decision.status, decision.reason) == ("Invalid", "unknown_badge")
        assert not Badge.objects.exists()
        assert api.get(f"{PAIRINGS}{armed['id']}/").json()["status"] == "open"

    def test_at_another_connector_nothing_is_enrolled(self, api, station, vehicle):
        api.post(pairing_url(station), {"vehicle": vehicle.pk, "connector_id": 2}, format="json")

        decision = authorization_request(id_tag=VID, station=station, connector_id=1)

        assert decision.reason == "unknown_badge"
        assert not Badge.objects.exists()

    def test_after_disarming_nothing_is_enrolled(self, api, station, armed):
        api.delete(pairing_url(station))

        decision = authorization_request(id_tag=VID, station=station)

        assert decision.reason == "unknown_badge"
        assert not Badge.objects.exists()


class TestWindowList:
    def test_listing_windows_with_every_field(self, api, station, armed):
        response = api.get(PAIRINGS)

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert set(row) == WINDOW_FIELDS
        assert row == armed

    def test_every_status_is_reported(self, api, station, vehicle):
        stations = [StationFactory(company=station.company) for _ in range(3)]
        for armed_station in [station, *stations]:
            api.post(pairing_url(armed_station), {"vehicle": vehicle.pk}, format="json")
        authorization_request(id_tag=VID, station=stations[0])
        api.delete(pairing_url(stations[1]))
        PairingWindow.objects.filter(station=stations[2]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        rows = api.get(PAIRINGS).json()["results"]

        by_station = {row["station"]: row["status"] for row in rows}
        assert by_station == {
            station.pk: "open",
            stations[0].pk: "paired",
            stations[1].pk: "cancelled",
            stations[2].pk: "expired",
        }

    def test_filtering_by_station_and_by_vehicle(self, api, station, vehicle, armed):
        other_station = StationFactory(company=station.company)
        other_vehicle = VehicleFactory(company=station.company)
        other = api.post(
            pairing_url(other_station), {"vehicle": other_vehicle.pk}, format="json"
        ).json()

        def listed(**params) -> list[int]:
            response = api.get(PAIRINGS, params)
            assert response.status_code == 200
            return [row["id"] for row in response.json()["results"]]

        assert listed(station=station.pk) == [armed["id"]]
        assert listed(station=other_station.pk) == [other["id"]]
        assert listed(vehicle=other_vehicle.pk) == [other["id"]]
        assert listed(vehicle=vehicle.pk, station=other_station.pk) == []

    def test_windows_are_read_only(self, api, station, vehicle, armed):
        assert api.post(PAIRINGS, {"station": station.pk}, format="json").status_code == 405
        assert api.delete(f"{PAIRINGS}{armed['id']}/").status_code == 405
        assert PairingWindow.objects.count() == 1


class TestPermissions:
    def test_arming_needs_change_station_and_add_badge(self, staff_client, station, vehicle):
        company = station.company
        only_station = staff_client("stations.change_station", username="s", company=company)
        only_badge = staff_client("badges.add_badge", username="b", company=company)
        both = staff_client(
            "stations.change_station", "badges.add_badge", username="both", company=company
        )
        data = {"vehicle": vehicle.pk}

        assert only_station.post(pairing_url(station), data, format="json").status_code == 403
        assert only_badge.post(pairing_url(station), data, format="json").status_code == 403
        assert not PairingWindow.objects.exists()
        assert both.post(pairing_url(station), data, format="json").status_code == 201
        assert PairingWindow.objects.get().opened_by.username == "both"

    def test_disarming_needs_the_same_permissions(self, staff_client, station, armed):
        deleter = staff_client("stations.delete_station", "badges.delete_pairingwindow")

        assert deleter.delete(pairing_url(station)).status_code == 403
        assert PairingWindow.objects.get().is_open

    def test_listing_windows_needs_the_view_permission(self, staff_client, armed):
        assert staff_client(username="nobody").get(PAIRINGS).status_code == 403
        viewer = staff_client("badges.view_pairingwindow", username="viewer")
        assert viewer.get(PAIRINGS).status_code == 200


def test_the_schema_lists_the_new_endpoints(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"post", "delete"} <= set(paths["/api/v1/stations/{id}/pairing/"])
    assert "post" in paths["/api/v1/unknown-vehicles/{id}/enrol/"]
    assert "post" in paths["/api/v1/unknown-vehicles/{id}/dismiss/"]
    for resource in ("unknown-vehicles", "pairings", "security-events", "shared-mac-models"):
        assert f"/api/v1/{resource}/" in paths
    assert "post" not in paths["/api/v1/pairings/"]
    assert "post" not in paths["/api/v1/security-events/"]
