"""``GET …/{id}/history/``: who changed an object, when, through what (admin, API, enrolment,
pairing, system), each field's old and new value; scoped like the detail route, paginated, and
a station's password recorded as changed, never with a value."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from badges.models import Badge, UnknownVehicle
from stations.enrolment import authorization_request
from stations.models import AutochargeProfile, Station
from tests.admin.test_badge_admin import badge_form
from tests.api.conftest import client_with_token, obtain_token
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

VID = "VID:A014310E004E"
PASSWORD = "s3cret-Password-16+"
USER_PASSWORD = "correct horse battery staple"


def history(client, resource: str, pk: int, **params) -> dict:
    response = client.get(f"/api/v1/{resource}/{pk}/history/", params)
    assert response.status_code == 200, response.content
    return response.json()


def changed(entry: dict) -> dict:
    """``{field: (old, new)}`` of one history entry."""
    return {change["field"]: (change["old"], change["new"]) for change in entry["changes"]}


def shown(entry: dict) -> dict:
    return {
        change["field"]: (change["old_display"], change["new_display"])
        for change in entry["changes"]
    }


@pytest.fixture
def station():
    return StationFactory(charge_point_id="CP-DEPOT-1")


@pytest.fixture
def vehicle(station):
    return VehicleFactory(company=station.company, license_plate="FT-123-ER")


def test_a_badge_created_and_disabled_through_the_api_has_its_history(api, vehicle):
    created = api.post(
        "/api/v1/badges/",
        {"rfid": VID, "company": vehicle.company.pk, "vehicle": vehicle.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert (
        api.patch(f"/api/v1/badges/{pk}/", {"state": "disabled"}, format="json").status_code == 200
    )

    disabled, creation = history(api, "badges", pk)["results"]

    assert (disabled["type"], disabled["source"], disabled["user"]) == ("changed", "api", "admin")
    assert changed(disabled) == {"state": ("enabled", "disabled")}
    assert shown(disabled) == {"state": ("Enabled", "Disabled")}
    assert (creation["type"], creation["source"], creation["user"]) == ("created", "api", "admin")
    assert changed(creation)["rfid"] == (None, VID)
    assert changed(creation)["vehicle"] == (None, vehicle.pk)
    assert shown(creation)["vehicle"] == ("—", str(vehicle))


def signed_in_browser(username: str) -> Client:
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser(username=username))
    return browser


def token_client(username: str):
    get_user_model().objects.create_superuser(username=username, password=USER_PASSWORD)
    return client_with_token(obtain_token(username, USER_PASSWORD))


def test_a_badge_s_history_says_who_changed_it_through_enrolment_the_admin_and_the_api(
    api, superuser, station, vehicle
):
    authorization_request(id_tag=VID, station=station)  # an unknown vehicle: in the inbox
    entry = UnknownVehicle.objects.get(id_tag=VID)
    enrolled = token_client("enroller").post(
        f"/api/v1/unknown-vehicles/{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json"
    )
    assert enrolled.status_code == 201, enrolled.content
    badge = Badge.objects.get(rfid=VID)
    saved = signed_in_browser("editor").post(
        reverse("admin:badges_badge_change", args=[badge.pk]),
        badge_form(
            rfid=badge.rfid,
            visual_number=badge.visual_number,
            description="Badge of the night shift",
            company=badge.company.pk,
            vehicle=vehicle.pk,
        ),
    )
    assert saved.status_code == 302
    assert (
        api.patch(f"/api/v1/badges/{badge.pk}/", {"usage": "personal"}, format="json").status_code
        == 200
    )

    by_api, by_admin, by_enrolment = history(api, "badges", badge.pk)["results"]

    assert (by_api["source"], by_api["user"]) == ("api", superuser.username)
    assert changed(by_api) == {"usage": ("professional", "personal")}
    assert (by_admin["source"], by_admin["user"]) == ("admin", "editor")
    assert changed(by_admin) == {
        "description": ("Autocharge badge, vehicle FT-123-ER", "Badge of the night shift")
    }
    assert (by_enrolment["source"], by_enrolment["user"]) == ("enrolment", "enroller")
    assert by_enrolment["type"] == "created"
    assert changed(by_enrolment)["enrolled_via"] == (None, "inbox")


# --- Scope and permissions ------------------------------------------------------------------

VIEW_PERMISSIONS = (
    "fleet.view_company",
    "fleet.view_vehicle",
    "fleet.view_authorizationgroup",
    "badges.view_badge",
    "stations.view_station",
)


@pytest.fixture
def two_companies():
    """Each company with one object of every kind that has a history route."""
    objects = {}
    for name in ("Alpha", "Beta"):
        company = CompanyFactory(name=name)
        vehicle = VehicleFactory(company=company, license_plate=f"{name.upper()}-1")
        objects[name] = {
            "companies": company,
            "vehicles": vehicle,
            "groups": AuthorizationGroupFactory(company=company),
            "badges": BadgeFactory(company=company, vehicle=vehicle),
            "stations": StationFactory(company=company, charge_point_id=f"CP-{name.upper()}"),
        }
    return objects


@pytest.mark.parametrize("resource", ["companies", "vehicles", "groups", "badges", "stations"])
def test_staff_read_their_company_s_histories_and_get_404_for_another_s(
    staff_client, two_companies, resource
):
    alpha_staff = staff_client(*VIEW_PERMISSIONS, company=two_companies["Alpha"]["companies"])

    own = alpha_staff.get(f"/api/v1/{resource}/{two_companies['Alpha'][resource].pk}/history/")
    other = alpha_staff.get(f"/api/v1/{resource}/{two_companies['Beta'][resource].pk}/history/")

    assert own.status_code == 200
    assert own.json()["count"] >= 1
    assert other.status_code == 404


def test_reading_a_history_needs_the_model_s_view_permission(staff_client, two_companies):
    alpha = two_companies["Alpha"]
    without_badges = staff_client("fleet.view_vehicle", company=alpha["companies"])

    response = without_badges.get(f"/api/v1/badges/{alpha['badges'].pk}/history/")

    assert response.status_code == 403


def test_a_long_history_is_paginated_and_each_page_diffs_against_the_change_before_it(api):
    badge = BadgeFactory(description="version 0")
    for version in range(1, 52):
        badge.description = f"version {version}"
        badge.save()

    first = history(api, "badges", badge.pk)
    second = history(api, "badges", badge.pk, page=2)

    assert first["count"] == 52
    assert len(first["results"]) == 50 and first["next"]
    assert changed(first["results"][0]) == {"description": ("version 50", "version 51")}
    # The last change of page 1 is diffed against the first of page 2.
    assert changed(first["results"][-1]) == {"description": ("version 1", "version 2")}
    changing, creation = second["results"]
    assert changed(changing) == {"description": ("version 0", "version 1")}
    assert creation["type"] == "created"


# --- Other objects --------------------------------------------------------------------------


def test_a_group_s_stations_are_recorded_with_their_old_and_new_values(api, station):
    group = AuthorizationGroupFactory(company=station.company, name="Depots")
    other = StationFactory(charge_point_id="CP-DEPOT-2", company=station.company)

    response = api.patch(
        f"/api/v1/groups/{group.pk}/", {"stations": [station.pk, other.pk]}, format="json"
    )
    assert response.status_code == 200

    latest = history(api, "groups", group.pk)["results"][0]
    assert latest["source"] == "api"
    assert changed(latest) == {"stations": ([], sorted([station.pk, other.pk]))}
    assert shown(latest)["stations"] == ("—", f"{station}, {other}")


def test_an_autocharge_profile_and_its_settings_have_their_histories(api):
    profile = api.post("/api/v1/autocharge-profiles/", {"vendor": "Acme Chargers"}, format="json")
    assert profile.status_code == 201, profile.content
    pk = profile.json()["id"]
    setting = api.post(
        "/api/v1/autocharge-settings/",
        {"profile": pk, "key": "OCPP/idTagAutocharge", "value": "VID:[ID]"},
        format="json",
    )
    assert setting.status_code == 201, setting.content
    assert (
        api.patch(
            f"/api/v1/autocharge-profiles/{pk}/", {"push_on_boot": True}, format="json"
        ).status_code
        == 200
    )

    latest = history(api, "autocharge-profiles", pk)["results"][0]
    setting_history = history(api, "autocharge-settings", setting.json()["id"])["results"]

    assert changed(latest) == {"push_on_boot": (False, True)}
    assert shown(latest)["push_on_boot"] == ("no", "yes")
    assert changed(setting_history[0])["value"] == (None, "VID:[ID]")
    assert AutochargeProfile.history.filter(vendor="Acme Chargers").count() == 2


# --- A station's password -------------------------------------------------------------------


def test_a_station_s_password_changes_are_recorded_without_the_password_or_its_hash(api, station):
    assert (
        api.patch(
            f"/api/v1/stations/{station.pk}/", {"basic_auth_password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    password_hash = Station.objects.get(pk=station.pk).basic_auth_password_hash
    assert (
        api.patch(
            f"/api/v1/stations/{station.pk}/", {"basic_auth_password": None}, format="json"
        ).status_code
        == 200
    )

    response = api.get(f"/api/v1/stations/{station.pk}/history/")
    removed, removed_save, set_, set_save, _creation = response.json()["results"]

    assert shown(set_)["password"] == ("—", "password set")
    assert set_["source"] == "api" and set_["user"] == "admin"
    assert changed(set_)["password_changed_at"][1] is not None
    assert shown(removed)["password"] == ("—", "password removed")
    assert changed(set_save) == changed(removed_save) == {}
    stored = list(Station.history.filter(id=station.pk).values())
    for leaked in (PASSWORD, password_hash, password_hash.split("$")[-1]):
        assert leaked not in response.content.decode()
        assert leaked not in repr(stored)
    assert not {"basic_auth_password_hash", "previous_password_hash"} & set(stored[0])


def test_the_schema_documents_each_history_route_as_a_paginated_list_of_changes(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for resource in ("companies", "vehicles", "groups", "badges", "stations"):
        route = schema["paths"][f"/api/v1/{resource}/{{id}}/history/"]["get"]
        answer = route["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/PaginatedHistoryEntryList"}
        assert "page" in {parameter["name"] for parameter in route["parameters"]}
    entry = schema["components"]["schemas"]["HistoryEntry"]["properties"]
    assert set(entry) == {"id", "at", "type", "source", "user", "changes"}


def test_a_history_page_costs_the_same_queries_however_many_changes_it_lists(api):
    group = AuthorizationGroupFactory()
    badge = BadgeFactory(company=group.company)
    badge.groups.add(group)

    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            history(api, "badges", badge.pk)
        return len(captured)

    for _ in range(3):
        badge.description += "!"
        badge.save()
    few = queries_for_a_page()
    for _ in range(30):
        badge.description += "!"
        badge.save()

    assert queries_for_a_page() == few
