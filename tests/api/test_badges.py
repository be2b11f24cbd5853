"""Badges: CRUD, canonical RFID, validation errors and filters."""

import pytest

from badges.models import Badge
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/badges/"
BADGE_FIELDS = {
    "id",
    "rfid",
    "visual_number",
    "type",
    "state",
    "provider",
    "description",
    "usage",
    "mode",
    "company",
    "vehicle",
    "groups",
    "expires_at",
    "is_autocharge",
    "mac",
    "enrolled_via",
    "enrolled_by",
    "archived_at",
    "created_at",
    "updated_at",
}


@pytest.fixture
def vehicle():
    return VehicleFactory(license_plate="FT-123-ER")


def badge_data(vehicle, **overrides) -> dict:
    return {
        "rfid": "VID:A014310E004E",
        "company": vehicle.company_id,
        "vehicle": vehicle.pk,
        "mode": "vehicle",
        **overrides,
    }


class TestCrud:
    def test_creating_an_autocharge_badge_stores_the_canonical_rfid(self, api, vehicle):
        group = AuthorizationGroupFactory(company=vehicle.company)
        provider = CompanyFactory()

        response = api.post(
            URL,
            badge_data(
                vehicle,
                rfid="vid:a0:14:31:0e:00:4e",
                visual_number="",
                type="virtual",
                state="disabled",
                usage="personal",
                provider=provider.pk,
                groups=[group.pk],
                expires_at="2030-01-01T00:00:00Z",
                description="Badge of the Zoe",
            ),
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == BADGE_FIELDS
        assert body["rfid"] == "VID:A014310E004E"
        assert body["visual_number"] == "A014310E004E"
        assert body["is_autocharge"] is True
        assert body["mac"] == "A014310E004E"
        assert body["groups"] == [group.pk]
        assert (body["company"], body["vehicle"], body["provider"]) == (
            vehicle.company_id,
            vehicle.pk,
            provider.pk,
        )
        badge = Badge.objects.get(pk=body["id"])
        assert badge.rfid == "VID:A014310E004E"
        assert badge.visual_number == "A014310E004E"
        assert (badge.type, badge.state, badge.usage, badge.mode) == (
            "virtual",
            "disabled",
            "personal",
            "vehicle",
        )
        assert list(badge.groups.all()) == [group]
        assert badge.provider == provider
        assert badge.description == "Badge of the Zoe"
        assert badge.expires_at.isoformat() == "2030-01-01T00:00:00+00:00"

    def test_a_din_70121_evccid_is_stored_as_the_mac(self, api, vehicle):
        response = api.post(URL, badge_data(vehicle, rfid="VID:0000A014310E004E"), format="json")

        assert response.status_code == 201, response.json()
        assert Badge.objects.get().rfid == "VID:A014310E004E"

    def test_an_omitted_visual_number_defaults_to_the_mac(self, api, vehicle):
        response = api.post(URL, badge_data(vehicle, rfid="VID:a014310e004e"), format="json")

        assert response.status_code == 201, response.json()
        assert response.json()["visual_number"] == "A014310E004E"
        assert Badge.objects.get().visual_number == "A014310E004E"

    def test_an_omitted_description_gets_the_autocharge_description(self, api, vehicle):
        response = api.post(URL, badge_data(vehicle), format="json")

        assert response.status_code == 201, response.json()
        assert Badge.objects.get().description == "Autocharge badge, vehicle FT-123-ER"
        assert response.json()["description"] == "Autocharge badge, vehicle FT-123-ER"

    def test_a_company_badge_with_an_rfid_card(self, api):
        company = CompanyFactory()

        response = api.post(
            URL,
            {"rfid": " 04a1b2c3d4 ", "company": company.pk, "mode": "company"},
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["rfid"] == "04A1B2C3D4"
        assert body["is_autocharge"] is False
        assert body["mac"] is None
        assert body["vehicle"] is None
        assert body["visual_number"] == ""
        assert body["groups"] == []
        badge = Badge.objects.get()
        assert (badge.rfid, badge.mode, badge.vehicle) == ("04A1B2C3D4", "company", None)
        assert (badge.type, badge.state, badge.usage) == ("physical", "enabled", "professional")

    def test_listing_badges(self, api):
        badge = BadgeFactory()

        response = api.get(URL)

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert set(row) == BADGE_FIELDS
        assert row["id"] == badge.pk
        assert row["rfid"] == badge.rfid
        assert row["company"] == badge.company_id
        assert row["vehicle"] == badge.vehicle_id

    def test_retrieving_a_badge(self, api):
        badge = BadgeFactory(rfid="VID:A014310E004E")
        group = AuthorizationGroupFactory(company=badge.company)
        badge.groups.add(group)

        response = api.get(f"{URL}{badge.pk}/")

        assert response.status_code == 200
        body = response.json()
        assert body["mac"] == "A014310E004E"
        assert body["is_autocharge"] is True
        assert body["groups"] == [group.pk]

    def test_updating_a_badge_normalises_the_new_rfid(self, api):
        badge = BadgeFactory()

        response = api.patch(
            f"{URL}{badge.pk}/",
            {"rfid": "vid:a0-14-31-0e-00-4e", "state": "disabled"},
            format="json",
        )

        assert response.status_code == 200, response.json()
        badge.refresh_from_db()
        assert (badge.rfid, badge.state) == ("VID:A014310E004E", "disabled")
        assert response.json()["mac"] == "A014310E004E"

    def test_a_full_update_replaces_the_groups(self, api):
        badge = BadgeFactory()
        old = AuthorizationGroupFactory(company=badge.company)
        new = AuthorizationGroupFactory(company=badge.company)
        badge.groups.add(old)

        response = api.put(
            f"{URL}{badge.pk}/",
            {
                "rfid": badge.rfid,
                "company": badge.company_id,
                "vehicle": badge.vehicle_id,
                "mode": "vehicle",
                "groups": [new.pk],
            },
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert list(badge.groups.all()) == [new]

    def test_is_autocharge_and_mac_are_read_only(self, api, vehicle):
        response = api.post(
            URL,
            {
                "rfid": "04A1B2C3D4",
                "company": vehicle.company_id,
                "mode": "company",
                "is_autocharge": True,
                "mac": "A014310E004E",
            },
            format="json",
        )

        assert response.status_code == 201
        assert response.json()["is_autocharge"] is False
        assert response.json()["mac"] is None

    def test_deleting_a_badge_removes_it(self, api):
        badge = BadgeFactory()

        response = api.delete(f"{URL}{badge.pk}/")

        assert response.status_code == 204
        assert not Badge.objects.exists()


class TestValidation:
    @pytest.mark.parametrize(
        "rfid",
        [
            "VID:A014310E00",  # too short
            "VID:A014310E004G",  # not hex
            "VID:",  # no MAC at all
            "VID:000000000000",  # placeholder
            "VID:FFFFFFFFFFFF",  # placeholder
            "vid:ff:ff:ff:ff:ff:ff",  # placeholder, written otherwise
            "VID:010000000001",  # multicast
            "VID:A114310E004E",  # multicast (first octet odd)
        ],
    )
    def test_an_unusable_vid_tag_is_refused_on_rfid(self, api, vehicle, rfid):
        response = api.post(URL, badge_data(vehicle, rfid=rfid), format="json")

        assert response.status_code == 400
        assert "rfid" in response.json()
        assert not Badge.objects.exists()

    @pytest.mark.parametrize(
        "rfid",
        [
            "vid:a014310e004e",
            "VID:a0:14:31:0e:00:4e",
            "VID:A0-14-31-0E-00-4E",
            "VID:0000A014310E004E",
        ],
    )
    def test_a_mac_that_already_has_a_badge_is_refused_in_any_form(self, api, vehicle, rfid):
        BadgeFactory(rfid="VID:A014310E004E")

        response = api.post(URL, badge_data(vehicle, rfid=rfid), format="json")

        assert response.status_code == 400
        assert response.json()["rfid"] == ["A badge with this RFID already exists."]
        assert Badge.objects.count() == 1

    def test_an_update_to_a_mac_of_another_badge_is_refused(self, api):
        BadgeFactory(rfid="VID:A014310E004E")
        badge = BadgeFactory(rfid="VID:A0143100AAAA")

        response = api.patch(f"{URL}{badge.pk}/", {"rfid": "vid:a0:14:31:0e:00:4e"}, format="json")

        assert response.status_code == 400
        assert "rfid" in response.json()
        badge.refresh_from_db()
        assert badge.rfid == "VID:A0143100AAAA"

    def test_vehicle_mode_without_a_vehicle_is_refused(self, api):
        company = CompanyFactory()

        response = api.post(
            URL,
            {"rfid": "VID:A014310E004E", "company": company.pk, "mode": "vehicle"},
            format="json",
        )

        assert response.status_code == 400
        assert response.json()["vehicle"] == ["A badge in vehicle mode must name its vehicle."]
        assert not Badge.objects.exists()

    def test_vehicle_mode_is_the_default_and_needs_a_vehicle(self, api):
        company = CompanyFactory()

        response = api.post(URL, {"rfid": "VID:A014310E004E", "company": company.pk}, format="json")

        assert response.status_code == 400
        assert "vehicle" in response.json()
        assert not Badge.objects.exists()

    def test_a_vehicle_of_another_company_is_refused(self, api, vehicle):
        other = CompanyFactory(name="Other Fleet")

        response = api.post(URL, badge_data(vehicle, company=other.pk), format="json")

        assert response.status_code == 400
        [message] = response.json()["vehicle"]
        assert "FT-123-ER" in message
        assert "not to the badge's company" in message
        assert not Badge.objects.exists()

    def test_moving_a_badge_to_another_company_keeps_it_unchanged(self, api):
        badge = BadgeFactory()
        other = CompanyFactory()

        response = api.patch(f"{URL}{badge.pk}/", {"company": other.pk}, format="json")

        assert response.status_code == 400
        assert "vehicle" in response.json()
        badge.refresh_from_db()
        assert badge.company_id != other.pk

    def test_a_company_badge_with_a_vehicle_is_refused(self, api, vehicle):
        response = api.post(URL, badge_data(vehicle, mode="company"), format="json")

        assert response.status_code == 400
        assert "vehicle" in response.json()
        assert not Badge.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value"),
        [("type", "plastic"), ("state", "on"), ("usage", "work"), ("mode", "fleet")],
    )
    def test_an_unknown_choice_is_refused(self, api, vehicle, field, value):
        response = api.post(URL, badge_data(vehicle, **{field: value}), format="json")

        assert response.status_code == 400
        assert field in response.json()
        assert not Badge.objects.exists()


class TestFilters:
    def test_filtering_by_rfid_normalises_like_stations(self, api):
        wanted = BadgeFactory(rfid="VID:A014310E004E")
        BadgeFactory(rfid="VID:A014310E0050")

        response = api.get(URL, {"rfid": "vid:a0:14:31:0e:00:4e"})

        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_by_a_din_evccid_finds_the_badge(self, api):
        wanted = BadgeFactory(rfid="VID:A014310E004E")

        response = api.get(URL, {"rfid": "VID:0000A014310E004E"})

        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_by_an_rfid_card_ignores_case_and_blanks(self, api):
        company = CompanyFactory()
        wanted = Badge.objects.create(rfid="04A1B2C3D4", company=company, mode="company")
        BadgeFactory()

        response = api.get(URL, {"rfid": " 04a1b2c3d4 "})

        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_by_a_malformed_vid_finds_nothing(self, api):
        BadgeFactory(rfid="VID:A014310E004E")

        response = api.get(URL, {"rfid": "VID:nonsense"})

        assert response.status_code == 200
        assert response.json()["results"] == []

    def test_filtering_by_state(self, api):
        disabled = BadgeFactory(state="disabled")
        BadgeFactory(state="enabled")

        response = api.get(URL, {"state": "disabled"})

        assert [row["id"] for row in response.json()["results"]] == [disabled.pk]

    def test_filtering_by_company(self, api):
        wanted = BadgeFactory()
        BadgeFactory()

        response = api.get(URL, {"company": wanted.company_id})

        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filtering_by_vehicle(self, api):
        wanted = BadgeFactory()
        BadgeFactory()

        response = api.get(URL, {"vehicle": wanted.vehicle_id})

        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_filters_combine(self, api):
        wanted = BadgeFactory(state="enabled")
        BadgeFactory(company=wanted.company, vehicle=wanted.vehicle, state="disabled")

        response = api.get(URL, {"company": wanted.company_id, "state": "enabled"})

        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]

    def test_an_invalid_state_value_is_a_400(self, api):
        response = api.get(URL, {"state": "on"})

        assert response.status_code == 400
        assert "state" in response.json()
