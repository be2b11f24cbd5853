"""Autocharge profiles over REST: staff read how each vendor turns Autocharge on, superusers
change it, with the same rules as the admin."""

import pytest

from stations.models import AutochargeProfile, AutochargeSetting
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

PROFILES = "/api/v1/autocharge-profiles/"
SETTINGS = "/api/v1/autocharge-settings/"


def test_a_profile_for_201_stations_is_created_and_read_back_with_its_settings(api):
    created = api.post(PROFILES, {"vendor": "Acme", "model": "DC-150"}, format="json")
    assert created.status_code == 201, created.content
    profile_id = created.json()["id"]

    setting = api.post(
        SETTINGS,
        {
            "profile": profile_id,
            "component": "AuthCtrlr",
            "variable": "AutochargeEnabled",
            "value": "true",
        },
        format="json",
    )
    assert setting.status_code == 201, setting.content

    body = api.get(f"{PROFILES}{profile_id}/").json()
    assert body["vendor"] == "Acme"
    assert [(s["component"], s["variable"], s["value"]) for s in body["settings"]] == [
        ("AuthCtrlr", "AutochargeEnabled", "true")
    ]


def test_a_setting_naming_both_a_key_and_a_variable_is_refused_with_a_clear_message(api):
    profile = AutochargeProfile.objects.create(vendor="Acme")

    response = api.post(
        SETTINGS,
        {
            "profile": profile.pk,
            "key": "AuthorizeRemoteTxRequests",
            "component": "AuthCtrlr",
            "variable": "Enabled",
            "value": "true",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "either a configuration key (OCPP 1.6) or a component" in str(response.json())
    assert not AutochargeSetting.objects.filter(profile=profile).exists()


def test_the_same_vendor_model_and_firmware_twice_is_refused(api):
    AutochargeProfile.objects.create(vendor="Acme", model="DC")

    response = api.post(PROFILES, {"vendor": "Acme", "model": "DC"}, format="json")

    assert response.status_code == 400
    assert AutochargeProfile.objects.filter(vendor="Acme").count() == 1


def test_staff_read_profiles_but_only_superusers_change_them(staff_client):
    AutochargeProfile.objects.create(vendor="Acme")
    staff = staff_client(
        "stations.view_autochargeprofile",
        "stations.add_autochargeprofile",
        company=CompanyFactory(),
    )

    listed = staff.get(PROFILES, {"vendor": "Acme"}).json()["results"]
    assert [profile["vendor"] for profile in listed] == ["Acme"]
    assert staff.post(PROFILES, {"vendor": "Other"}, format="json").status_code == 403
    assert not AutochargeProfile.objects.filter(vendor="Other").exists()
