"""Companies, vehicles and authorization groups: CRUD and validation."""

import pytest

from fleet.models import AuthorizationGroup, Company, Vehicle
from tests.factories import (
    AuthorizationGroupFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

COMPANY_FIELDS = {"id", "name", "address", "contact_email", "phone", "archived_at", "created_at"}
VEHICLE_FIELDS = {
    "id",
    "company",
    "license_plate",
    "make",
    "model",
    "vin",
    "description",
    "charging_priority",
    "active",
    "archived_at",
    "created_at",
}
GROUP_FIELDS = {"id", "name", "company", "stations", "description"}


class TestCompanies:
    def test_creating_a_company_stores_every_field(self, api):
        response = api.post(
            "/api/v1/companies/",
            {
                "name": "Acme Logistics",
                "address": "1 rue de la Paix, Paris",
                "contact_email": "fleet@acme.example",
                "phone": "+33 1 23 45 67 89",
            },
            format="json",
        )

        assert response.status_code == 201
        body = response.json()
        assert set(body) == COMPANY_FIELDS
        company = Company.objects.get(pk=body["id"])
        assert (company.name, company.address, company.contact_email, company.phone) == (
            "Acme Logistics",
            "1 rue de la Paix, Paris",
            "fleet@acme.example",
            "+33 1 23 45 67 89",
        )

    def test_listing_companies_returns_them_by_name(self, api):
        CompanyFactory(name="Zeta")
        CompanyFactory(name="Alpha")

        response = api.get("/api/v1/companies/")

        assert response.status_code == 200
        assert [c["name"] for c in response.json()["results"]] == ["Alpha", "Zeta"]
        assert set(response.json()["results"][0]) == COMPANY_FIELDS

    def test_retrieving_a_company_returns_its_fields(self, api):
        company = CompanyFactory(name="Acme", phone="0102030405")

        response = api.get(f"/api/v1/companies/{company.pk}/")

        assert response.status_code == 200
        assert response.json()["id"] == company.pk
        assert response.json()["name"] == "Acme"
        assert response.json()["phone"] == "0102030405"

    def test_updating_a_company_changes_the_database(self, api):
        company = CompanyFactory(name="Acme")

        response = api.patch(f"/api/v1/companies/{company.pk}/", {"address": "Lyon"}, format="json")

        assert response.status_code == 200
        company.refresh_from_db()
        assert company.address == "Lyon"

    def test_deleting_a_company_removes_it(self, api):
        company = CompanyFactory()

        response = api.delete(f"/api/v1/companies/{company.pk}/")

        assert response.status_code == 204
        assert not Company.objects.filter(pk=company.pk).exists()

    def test_a_company_with_vehicles_cannot_be_deleted(self, api):
        vehicle = VehicleFactory()

        response = api.delete(f"/api/v1/companies/{vehicle.company_id}/")

        assert response.status_code == 409
        assert "vehicles" in response.json()["detail"]
        assert Company.objects.filter(pk=vehicle.company_id).exists()

    def test_a_duplicate_company_name_is_refused(self, api):
        CompanyFactory(name="Acme")

        response = api.post("/api/v1/companies/", {"name": "Acme"}, format="json")

        assert response.status_code == 400
        assert "name" in response.json()
        assert Company.objects.count() == 1

    def test_an_invalid_contact_email_is_refused(self, api):
        response = api.post(
            "/api/v1/companies/", {"name": "Acme", "contact_email": "nope"}, format="json"
        )

        assert response.status_code == 400
        assert "contact_email" in response.json()
        assert not Company.objects.exists()


class TestVehicles:
    def test_creating_a_vehicle_stores_the_plate_in_upper_case(self, api):
        company = CompanyFactory()

        response = api.post(
            "/api/v1/vehicles/",
            {
                "company": company.pk,
                "license_plate": " ft-123-er ",
                "make": "Renault",
                "model": "Zoe",
                "vin": "VF1AG000000000001",
                "description": "Pool car",
                "active": False,
            },
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == VEHICLE_FIELDS
        assert body["company"] == company.pk
        assert body["license_plate"] == "FT-123-ER"
        vehicle = Vehicle.objects.get(pk=body["id"])
        assert vehicle.license_plate == "FT-123-ER"
        assert vehicle.company == company
        assert (vehicle.make, vehicle.model, vehicle.vin, vehicle.active) == (
            "Renault",
            "Zoe",
            "VF1AG000000000001",
            False,
        )

    def test_listing_vehicles_shows_the_company_as_an_id(self, api):
        vehicle = VehicleFactory(license_plate="AA-111-AA")

        response = api.get("/api/v1/vehicles/")

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert set(row) == VEHICLE_FIELDS
        assert row["company"] == vehicle.company_id
        assert row["license_plate"] == "AA-111-AA"

    def test_retrieving_a_vehicle_returns_it(self, api):
        vehicle = VehicleFactory()

        response = api.get(f"/api/v1/vehicles/{vehicle.pk}/")

        assert response.status_code == 200
        assert response.json()["license_plate"] == vehicle.license_plate

    def test_updating_a_vehicle_keeps_its_own_plate_valid(self, api):
        vehicle = VehicleFactory(license_plate="AA-111-AA")

        response = api.put(
            f"/api/v1/vehicles/{vehicle.pk}/",
            {"company": vehicle.company_id, "license_plate": "aa-111-aa", "active": False},
            format="json",
        )

        assert response.status_code == 200, response.json()
        vehicle.refresh_from_db()
        assert (vehicle.license_plate, vehicle.active) == ("AA-111-AA", False)

    def test_deleting_a_vehicle_removes_it(self, api):
        vehicle = VehicleFactory()

        response = api.delete(f"/api/v1/vehicles/{vehicle.pk}/")

        assert response.status_code == 204
        assert not Vehicle.objects.exists()

    def test_a_duplicate_license_plate_in_another_case_is_refused(self, api):
        existing = VehicleFactory(license_plate="FT-123-ER")

        response = api.post(
            "/api/v1/vehicles/",
            {"company": existing.company_id, "license_plate": "ft-123-er"},
            format="json",
        )

        assert response.status_code == 400
        assert "license_plate" in response.json()
        assert Vehicle.objects.count() == 1

    def test_renaming_a_vehicle_to_another_plate_in_another_case_is_refused(self, api):
        VehicleFactory(license_plate="FT-123-ER")
        vehicle = VehicleFactory(license_plate="GG-222-GG")

        response = api.patch(
            f"/api/v1/vehicles/{vehicle.pk}/", {"license_plate": "Ft-123-eR"}, format="json"
        )

        assert response.status_code == 400
        assert "license_plate" in response.json()
        vehicle.refresh_from_db()
        assert vehicle.license_plate == "GG-222-GG"

    def test_a_vehicle_needs_a_company(self, api):
        response = api.post("/api/v1/vehicles/", {"license_plate": "AA-111-AA"}, format="json")

        assert response.status_code == 400
        assert "company" in response.json()
        assert not Vehicle.objects.exists()


class TestGroups:
    def test_creating_a_group_with_stations_as_ids(self, api):
        company = CompanyFactory()
        first, second = StationFactory(), StationFactory()

        response = api.post(
            "/api/v1/groups/",
            {
                "name": "Depots",
                "company": company.pk,
                "stations": [first.pk, second.pk],
                "description": "Partner depots",
            },
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == GROUP_FIELDS
        assert sorted(body["stations"]) == sorted([first.pk, second.pk])
        group = AuthorizationGroup.objects.get(pk=body["id"])
        assert set(group.stations.all()) == {first, second}
        assert (group.name, group.company, group.description) == (
            "Depots",
            company,
            "Partner depots",
        )

    def test_listing_and_retrieving_groups(self, api):
        station = StationFactory()
        group = AuthorizationGroupFactory(name="Depots")
        group.stations.add(station)

        listed = api.get("/api/v1/groups/")
        retrieved = api.get(f"/api/v1/groups/{group.pk}/")

        assert listed.status_code == 200
        [row] = listed.json()["results"]
        assert set(row) == GROUP_FIELDS
        assert row["stations"] == [station.pk]
        assert row["company"] == group.company_id
        assert retrieved.json() == row

    def test_updating_a_group_replaces_its_stations(self, api):
        old, new = StationFactory(), StationFactory()
        group = AuthorizationGroupFactory()
        group.stations.add(old)

        response = api.patch(
            f"/api/v1/groups/{group.pk}/", {"stations": [new.pk], "name": "New"}, format="json"
        )

        assert response.status_code == 200, response.json()
        group.refresh_from_db()
        assert list(group.stations.all()) == [new]
        assert group.name == "New"

    def test_deleting_a_group_removes_it(self, api):
        group = AuthorizationGroupFactory()

        response = api.delete(f"/api/v1/groups/{group.pk}/")

        assert response.status_code == 204
        assert not AuthorizationGroup.objects.exists()

    def test_a_duplicate_group_name_in_the_same_company_is_refused(self, api):
        group = AuthorizationGroupFactory(name="Depots")

        response = api.post(
            "/api/v1/groups/", {"name": "Depots", "company": group.company_id}, format="json"
        )

        assert response.status_code == 400
        assert AuthorizationGroup.objects.count() == 1

    def test_an_unknown_station_id_is_refused(self, api):
        company = CompanyFactory()

        response = api.post(
            "/api/v1/groups/",
            {"name": "Depots", "company": company.pk, "stations": [999999]},
            format="json",
        )

        assert response.status_code == 400
        assert "stations" in response.json()
        assert not AuthorizationGroup.objects.exists()
