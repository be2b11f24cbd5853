"""The vendor profiles the data migration seeds, and how a station finds its own."""

import pytest

from stations.models import AutochargeProfile, AutochargeSetting
from stations.selectors import autocharge_profile_for, profile_settings
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def test_the_three_vendor_profiles_of_the_product_description_are_seeded():
    settings = {
        setting.profile.vendor: (setting.key, setting.value, setting.mode)
        for setting in AutochargeSetting.objects.select_related("profile")
    }

    assert settings == {
        "Kempower": ("AllowedAuthenticationMethods", "evmac", "includes"),
        "Delta": ("OCPP/idTagAutocharge", "VID:[ID]", "equals"),
        "Alfen": ("AutochargeEnabled", "true", "equals"),
    }
    assert not AutochargeProfile.objects.filter(push_on_boot=True).exists()


def test_a_station_finds_the_profile_of_its_vendor_model_and_firmware():
    specific = AutochargeProfile.objects.create(vendor="Kempower", model="S-Series")
    specific.settings.create(key="AllowedAuthenticationMethods", value="evmac", mode="includes")
    s_series = StationFactory(vendor="KEMPOWER", model="S-Series 100")
    t_series = StationFactory(vendor="Kempower", model="T-Series")

    assert autocharge_profile_for(station=s_series) == specific
    assert autocharge_profile_for(station=t_series).model == ""
    assert [s.key for s in profile_settings(profile=specific, station=s_series)] == [
        "AllowedAuthenticationMethods"
    ]


def test_a_station_that_never_booted_has_no_profile():
    assert autocharge_profile_for(station=StationFactory(vendor="")) is None
