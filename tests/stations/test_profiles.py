"""The vendor profiles the data migration seeds, and how a station finds its own."""

import time

import pytest

from stations.models import AutochargeProfile, AutochargeSetting
from stations.selectors import (
    ProfileVendors,
    autocharge_profile_for,
    profile_settings,
    profile_vendors,
)
from stations.services import autocharge_profile_save
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


def test_the_vendors_with_a_profile_are_known_without_asking_the_database_each_time(
    django_assert_num_queries,
):
    vendors = ProfileVendors()
    vendors.read()

    with django_assert_num_queries(0):
        assert vendors.may_have_profile(" kempower ")
        assert not vendors.may_have_profile("Nobody's chargers")
    assert not vendors.stale


def test_a_profile_saved_in_this_process_counts_at_once(django_capture_on_commit_callbacks):
    profile_vendors.read()
    assert not profile_vendors.stale and not profile_vendors.may_have_profile("Newcomer")

    with django_capture_on_commit_callbacks(execute=True):
        autocharge_profile_save(profile=AutochargeProfile(vendor="Newcomer"))

    assert profile_vendors.stale
    profile_vendors.read()
    assert profile_vendors.may_have_profile("NEWCOMER")


def test_one_saved_by_another_process_counts_once_the_vendors_are_read_again(monkeypatch):
    vendors = ProfileVendors()
    vendors.read()
    # Another process: nothing tells this one.
    AutochargeProfile.objects.bulk_create([AutochargeProfile(vendor="Elsewhere")])
    assert not vendors.stale and not vendors.may_have_profile("Elsewhere")

    later = time.monotonic() + ProfileVendors.KEEP_SECONDS + 0.1
    monkeypatch.setattr(time, "monotonic", lambda: later)

    assert vendors.stale
    vendors.read()
    assert vendors.may_have_profile("Elsewhere")
