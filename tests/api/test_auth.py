"""Token flow and permissions: staff only, and the admin's model permissions."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fleet.models import Company, Vehicle
from tests.api.conftest import PASSWORD, TOKEN_URL, client_with_token, obtain_token
from tests.factories import CompanyFactory, VehicleFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/companies/",
    "/api/v1/vehicles/",
    "/api/v1/groups/",
    "/api/v1/badges/",
    "/api/v1/stations/",
    "/api/v1/sessions/",
    "/api/v1/ocpp-messages/",
]


class TestToken:
    def test_a_staff_user_obtains_a_token_stored_for_their_account(self, make_staff):
        user = make_staff("alice")

        response = APIClient().post(
            TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json"
        )

        assert response.status_code == 200
        assert response.json() == {"token": Token.objects.get(user=user).key}

    def test_asking_twice_returns_the_same_token(self, make_staff):
        make_staff("alice")

        assert obtain_token("alice") == obtain_token("alice")

    def test_the_token_authenticates_later_requests(self, superuser):
        CompanyFactory(name="Acme")
        client = client_with_token(obtain_token("admin"))

        response = client.get("/api/v1/companies/")

        assert response.status_code == 200
        assert [company["name"] for company in response.json()["results"]] == ["Acme"]

    def test_a_wrong_password_gets_400_and_no_token(self, make_staff):
        make_staff("alice")

        response = APIClient().post(
            TOKEN_URL, {"username": "alice", "password": "wrong"}, format="json"
        )

        assert response.status_code == 400
        assert "token" not in response.json()
        assert not Token.objects.exists()

    def test_a_non_staff_user_gets_400_at_the_token_endpoint(self, make_staff):
        make_staff("bob", is_staff=False)

        response = APIClient().post(
            TOKEN_URL, {"username": "bob", "password": PASSWORD}, format="json"
        )

        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["Only staff accounts may use the API."]}
        assert not Token.objects.exists()

    def test_an_inactive_staff_user_gets_400_at_the_token_endpoint(self, make_staff):
        user = make_staff("alice")
        user.is_active = False
        user.save()

        response = APIClient().post(
            TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json"
        )

        assert response.status_code == 400
        assert not Token.objects.exists()

    def test_missing_credentials_get_field_errors(self, db):
        response = APIClient().post(TOKEN_URL, {}, format="json")

        assert response.status_code == 400
        assert set(response.json()) == {"username", "password"}

    def test_an_unknown_token_gets_401(self, db):
        response = client_with_token("0" * 40).get("/api/v1/companies/")

        assert response.status_code == 401


class TestStaffOnly:
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_anonymous_requests_get_401(self, anonymous_client, url):
        response = anonymous_client.get(url)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_anonymous_writes_get_401_and_write_nothing(self, anonymous_client):
        response = anonymous_client.post("/api/v1/companies/", {"name": "Acme"}, format="json")

        assert response.status_code == 401
        assert not Company.objects.exists()

    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_a_non_staff_user_with_a_token_gets_403_even_with_the_view_permission(
        self, make_staff, url
    ):
        user = make_staff(
            "bob",
            "fleet.view_company",
            "fleet.view_vehicle",
            "fleet.view_authorizationgroup",
            "badges.view_badge",
            "stations.view_station",
            "stations.view_chargingsession",
            "ocpp_gateway.view_ocppmessage",
            is_staff=False,
        )
        token = Token.objects.create(user=user)

        response = client_with_token(token.key).get(url)

        assert response.status_code == 403


class TestModelPermissions:
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_staff_without_permissions_get_403(self, staff_client, url):
        response = staff_client().get(url)

        assert response.status_code == 403

    def test_the_view_permission_allows_reading_only_that_model(self, staff_client):
        company = CompanyFactory(name="Acme")
        client = staff_client("fleet.view_company", company=company)

        assert client.get("/api/v1/companies/").status_code == 200
        assert client.get(f"/api/v1/companies/{company.pk}/").json()["name"] == "Acme"
        assert client.get("/api/v1/vehicles/").status_code == 403

    def test_the_view_permission_does_not_allow_writing(self, staff_client):
        company = CompanyFactory(name="Acme")
        client = staff_client("fleet.view_company")

        created = client.post("/api/v1/companies/", {"name": "Other"}, format="json")
        changed = client.patch(
            f"/api/v1/companies/{company.pk}/", {"name": "Renamed"}, format="json"
        )
        deleted = client.delete(f"/api/v1/companies/{company.pk}/")

        assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
        assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]

    def test_the_add_permission_allows_creating(self, staff_client):
        company = CompanyFactory(name="Acme")
        client = staff_client("fleet.add_vehicle", company=company)

        response = client.post(
            "/api/v1/vehicles/", {"company": company.pk, "license_plate": "AA-1"}, format="json"
        )

        assert response.status_code == 201
        assert Vehicle.objects.get().company == company

    def test_only_a_superuser_adds_a_company_whatever_the_permissions(self, staff_client):
        client = staff_client("fleet.add_company", company=CompanyFactory(name="Acme"))

        response = client.post("/api/v1/companies/", {"name": "Other"}, format="json")

        assert response.status_code == 403
        assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]

    def test_the_change_permission_allows_updating_but_not_deleting(self, staff_client):
        company = CompanyFactory(name="Acme")
        client = staff_client("fleet.view_company", "fleet.change_company", company=company)

        changed = client.patch(
            f"/api/v1/companies/{company.pk}/", {"name": "Renamed"}, format="json"
        )
        deleted = client.delete(f"/api/v1/companies/{company.pk}/")

        assert changed.status_code == 200
        assert deleted.status_code == 403
        company.refresh_from_db()
        assert company.name == "Renamed"

    def test_the_delete_permission_allows_deleting(self, staff_client):
        vehicle = VehicleFactory()
        client = staff_client("fleet.view_vehicle", "fleet.delete_vehicle", company=vehicle.company)

        response = client.delete(f"/api/v1/vehicles/{vehicle.pk}/")

        assert response.status_code == 204
        assert not Vehicle.objects.exists()

    def test_a_superuser_can_do_everything(self, api):
        created = api.post("/api/v1/companies/", {"name": "Acme"}, format="json")
        pk = created.json()["id"]

        assert created.status_code == 201
        assert api.get(f"/api/v1/companies/{pk}/").status_code == 200
        assert api.put(f"/api/v1/companies/{pk}/", {"name": "B"}, format="json").status_code == 200
        assert api.delete(f"/api/v1/companies/{pk}/").status_code == 204
        assert not Company.objects.exists()
