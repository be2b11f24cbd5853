"""Stations (read/write, station-reported fields read-only) and charging sessions (read-only)."""

from datetime import UTC, datetime, timedelta

import pytest

from stations.models import ChargingSession, Connector, MeterValue, Station
from tests.factories import BadgeFactory, CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
SESSIONS = "/api/v1/sessions/"
STATION_FIELDS = {
    "id",
    "charge_point_id",
    "name",
    "company",
    "auth_mode",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "ocpp_version",
    "last_boot_reason",
    "firmware_status",
    "log_status",
    "connection_state",
    "connected_at",
    "last_boot_at",
    "last_heartbeat_at",
    "autocharge_readiness",
    "autocharge_detail",
    "autocharge_checked_at",
    "local_list_version",
    "local_list_synced_at",
    "local_list_detail",
    "configuration_read_at",
    "site",
    "max_power_kw",
    "rejects_profiles",
    "connectors",
    "has_password",
    "archived_at",
    "created_at",
}
SESSION_FIELDS = {
    "transaction_id",
    "station_transaction_id",
    "station",
    "connector_id",
    "id_tag",
    "badge",
    "vehicle",
    "company",
    "badge_rfid",
    "badge_visual_number",
    "usage",
    "badge_mode",
    "vehicle_plate",
    "company_name",
    "station_company_name",
    "auth_method",
    "authorization_status",
    "authorization_reason",
    "meter_start",
    "meter_stop",
    "energy_wh",
    "cost",
    "cost_currency",
    "tariff",
    "tariff_price_per_kwh",
    "tariff_session_fee",
    "started_at",
    "stopped_at",
    "stop_reason",
    "corrections",
}
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def make_session(station, *, badge=None, minutes=0, **fields) -> ChargingSession:
    return ChargingSession.objects.create(
        station=station,
        connector_id=1,
        id_tag=badge.rfid if badge else "OPEN",
        badge=badge,
        vehicle=badge.vehicle if badge else None,
        company=badge.company if badge else None,
        auth_method="autocharge" if badge else "open",
        authorization_status="Accepted",
        authorization_reason="ok",
        meter_start=1000,
        started_at=T0 + timedelta(minutes=minutes),
        **fields,
    )


class TestStations:
    def test_creating_a_station(self, api):
        company = CompanyFactory()

        response = api.post(
            STATIONS,
            {
                "charge_point_id": "CP-PARIS-1",
                "name": "Paris depot",
                "company": company.pk,
                "auth_mode": "open",
            },
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == STATION_FIELDS
        assert body["connection_state"] == "disconnected"
        assert body["connectors"] == []
        station = Station.objects.get(pk=body["id"])
        assert (station.charge_point_id, station.name, station.company, station.auth_mode) == (
            "CP-PARIS-1",
            "Paris depot",
            company,
            "open",
        )

    def test_station_reported_fields_are_read_only(self, api):
        company = CompanyFactory()
        station = StationFactory(vendor="ABB", firmware_version="1.0")

        created = api.post(
            STATIONS,
            {
                "charge_point_id": "CP-NEW",
                "company": company.pk,
                "vendor": "Forged",
                "model": "Forged",
                "serial_number": "Forged",
                "firmware_version": "Forged",
                "connection_state": "connected",
                "last_boot_at": "2025-01-01T00:00:00Z",
                "last_heartbeat_at": "2025-01-01T00:00:00Z",
            },
            format="json",
        )
        changed = api.patch(
            f"{STATIONS}{station.pk}/",
            {"vendor": "Forged", "firmware_version": "9.9", "connection_state": "connected"},
            format="json",
        )

        assert created.status_code == 201
        new = Station.objects.get(charge_point_id="CP-NEW")
        assert (new.vendor, new.model, new.serial_number, new.firmware_version) == ("", "", "", "")
        assert new.connection_state == "disconnected"
        assert (new.last_boot_at, new.last_heartbeat_at) == (None, None)
        assert changed.status_code == 200
        station.refresh_from_db()
        assert (station.vendor, station.firmware_version, station.connection_state) == (
            "ABB",
            "1.0",
            "disconnected",
        )

    def test_listing_stations_shows_their_connectors(self, api):
        station = StationFactory(charge_point_id="CP-1", vendor="ABB", model="Terra")
        Connector.objects.create(station=station, connector_id=1, status="Available")

        response = api.get(STATIONS)

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert set(row) == STATION_FIELDS
        assert (row["charge_point_id"], row["vendor"], row["model"]) == ("CP-1", "ABB", "Terra")
        assert row["company"] == station.company_id
        assert [(c["connector_id"], c["status"]) for c in row["connectors"]] == [(1, "Available")]

    def test_retrieving_a_station(self, api):
        station = StationFactory(charge_point_id="CP-1")

        response = api.get(f"{STATIONS}{station.pk}/")

        assert response.status_code == 200
        assert response.json()["charge_point_id"] == "CP-1"
        assert response.json()["auth_mode"] == "badge"

    def test_updating_a_station(self, api):
        station = StationFactory(auth_mode="badge")

        response = api.patch(
            f"{STATIONS}{station.pk}/", {"auth_mode": "open", "name": "Renamed"}, format="json"
        )

        assert response.status_code == 200
        station.refresh_from_db()
        assert (station.auth_mode, station.name) == ("open", "Renamed")

    def test_deleting_a_station(self, api):
        station = StationFactory()

        response = api.delete(f"{STATIONS}{station.pk}/")

        assert response.status_code == 204
        assert not Station.objects.exists()

    def test_a_station_with_sessions_cannot_be_deleted(self, api):
        station = StationFactory()
        make_session(station)

        response = api.delete(f"{STATIONS}{station.pk}/")

        assert response.status_code == 409
        assert "charging sessions" in response.json()["detail"]
        assert Station.objects.filter(pk=station.pk).exists()

    def test_an_unknown_auth_mode_is_refused(self, api):
        company = CompanyFactory()

        response = api.post(
            STATIONS,
            {"charge_point_id": "CP-1", "company": company.pk, "auth_mode": "free"},
            format="json",
        )

        assert response.status_code == 400
        assert "auth_mode" in response.json()
        assert not Station.objects.exists()

    def test_a_duplicate_charge_point_id_is_refused(self, api):
        station = StationFactory(charge_point_id="CP-1")

        response = api.post(
            STATIONS, {"charge_point_id": "CP-1", "company": station.company_id}, format="json"
        )

        assert response.status_code == 400
        assert "charge_point_id" in response.json()
        assert Station.objects.count() == 1


class TestSessions:
    def test_listing_sessions_newest_first_with_every_field(self, api):
        station = StationFactory()
        badge = BadgeFactory()
        older = make_session(station, badge=badge, minutes=0)
        newer = make_session(station, minutes=30, meter_stop=5000, energy_wh=4000)

        response = api.get(SESSIONS)

        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["transaction_id"] for row in rows] == [newer.pk, older.pk]
        assert set(rows[0]) == SESSION_FIELDS
        assert rows[1]["badge"] == badge.pk
        assert rows[1]["vehicle"] == badge.vehicle_id
        assert rows[1]["company"] == badge.company_id
        assert rows[1]["badge_rfid"] == badge.rfid
        assert rows[1]["company_name"] == badge.company.name
        assert rows[0]["station_company_name"] == station.company.name
        assert rows[1]["station"] == station.pk
        assert rows[1]["auth_method"] == "autocharge"
        assert rows[0]["auth_method"] == "open"
        assert rows[0]["energy_wh"] == 4000

    def test_retrieving_a_session_includes_its_meter_values(self, api):
        station = StationFactory()
        session = make_session(station)
        MeterValue.objects.create(
            station=station, session=session, connector_id=1, timestamp=T0, value="1500", unit="Wh"
        )

        response = api.get(f"{SESSIONS}{session.pk}/")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == SESSION_FIELDS | {"meter_values"}
        assert [(v["value"], v["unit"]) for v in body["meter_values"]] == [("1500", "Wh")]

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_sessions_are_read_only(self, api, method):
        station = StationFactory()
        session = make_session(station)
        url = SESSIONS if method == "post" else f"{SESSIONS}{session.pk}/"

        response = getattr(api, method)(url, {"meter_start": 0}, format="json")

        assert response.status_code == 405
        session.refresh_from_db()
        assert session.meter_start == 1000
        assert ChargingSession.objects.count() == 1

    def test_filtering_sessions_by_station(self, api):
        wanted = make_session(StationFactory())
        make_session(StationFactory())

        response = api.get(SESSIONS, {"station": wanted.station_id})

        assert [row["transaction_id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_sessions_by_vehicle(self, api):
        station = StationFactory()
        wanted = make_session(station, badge=BadgeFactory())
        make_session(station, badge=BadgeFactory())
        make_session(station)

        response = api.get(SESSIONS, {"vehicle": wanted.vehicle_id})

        assert [row["transaction_id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_sessions_by_company(self, api):
        station = StationFactory()
        wanted = make_session(station, badge=BadgeFactory())
        make_session(station, badge=BadgeFactory())

        response = api.get(SESSIONS, {"company": wanted.company_id})

        assert [row["transaction_id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_sessions_by_badge(self, api):
        station = StationFactory()
        wanted = make_session(station, badge=BadgeFactory())
        make_session(station, badge=BadgeFactory())

        response = api.get(SESSIONS, {"badge": wanted.badge_id})

        assert [row["transaction_id"] for row in response.json()["results"]] == [wanted.pk]
