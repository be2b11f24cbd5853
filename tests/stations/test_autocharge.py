"""The Autocharge configuration decisions, pure: which profile, what to push, what readiness."""

from types import SimpleNamespace

import pytest

from stations.autocharge import (
    ReportedKey,
    Setting,
    configuration_of,
    is_satisfied,
    matching_profile,
    outcome,
    plan,
    wanted_value,
)
from stations.models import AutochargeReadiness, SettingMode

KEMPOWER = Setting("AllowedAuthenticationMethods", "evmac", SettingMode.INCLUDES)
DELTA = Setting("OCPP/idTagAutocharge", "VID:[ID]")
ALFEN = Setting("AutochargeEnabled", "true")


def profile(vendor, model="", firmware_version=""):
    return SimpleNamespace(vendor=vendor, model=model, firmware_version=firmware_version)


def config(**values) -> dict[str, ReportedKey]:
    return configuration_of(ReportedKey(key, value) for key, value in values.items())


class TestMatchingProfile:
    profiles = [
        profile("Kempower"),
        profile("Kempower", model="S-Series"),
        profile("Kempower", firmware_version="2."),
        profile("Delta"),
    ]

    def test_the_vendor_matches_without_case_or_blanks(self):
        found = matching_profile(self.profiles, vendor=" DELTA", model="DC", firmware_version="")
        assert found is self.profiles[3]

    def test_a_profile_naming_the_model_beats_the_vendor_wide_one(self):
        found = matching_profile(
            self.profiles, vendor="Kempower", model="S-Series 2", firmware_version="2.1"
        )
        assert found is self.profiles[1]

    def test_a_firmware_prefix_beats_the_vendor_wide_one(self):
        found = matching_profile(
            self.profiles, vendor="kempower", model="T-Series", firmware_version="2.4.1"
        )
        assert found is self.profiles[2]

    def test_the_vendor_wide_profile_serves_other_models_and_firmwares(self):
        found = matching_profile(
            self.profiles, vendor="Kempower", model="T-Series", firmware_version="1.0"
        )
        assert found is self.profiles[0]

    @pytest.mark.parametrize("vendor", ["", "ABB"])
    def test_an_unknown_or_missing_vendor_has_no_profile(self, vendor):
        assert matching_profile(self.profiles, vendor=vendor, model="", firmware_version="") is None


class TestSettings:
    @pytest.mark.parametrize(
        ("value", "satisfied"),
        [
            ("rfid,evmac", True),
            ("RFID, EVMAC", True),
            ("evmac", True),
            ("rfid", False),
            ("rfid,evmacx", False),
            ("", False),
            (None, False),
        ],
    )
    def test_a_list_setting_is_satisfied_when_the_list_includes_the_value(self, value, satisfied):
        assert is_satisfied(KEMPOWER, value) is satisfied

    @pytest.mark.parametrize(
        ("value", "satisfied"), [("true", True), ("True ", True), ("false", False), ("", False)]
    )
    def test_a_value_setting_compares_without_case_or_blanks(self, value, satisfied):
        assert is_satisfied(ALFEN, value) is satisfied

    def test_the_value_pushed_for_a_list_keeps_what_the_station_allows(self):
        assert wanted_value(KEMPOWER, "rfid") == "rfid,evmac"
        assert wanted_value(KEMPOWER, " rfid , pnc ") == "rfid,pnc,evmac"
        assert wanted_value(KEMPOWER, "") == "evmac"

    def test_the_value_pushed_for_a_value_setting_is_the_profile_s(self):
        assert wanted_value(DELTA, "") == "VID:[ID]"


class TestPlan:
    def test_a_kempower_station_allowing_rfid_gets_rfid_and_evmac(self):
        result = plan([KEMPOWER], config(AllowedAuthenticationMethods="rfid"))
        assert result.changes == [("AllowedAuthenticationMethods", "rfid,evmac")]
        assert result.blockers == []

    def test_keys_compare_without_case_and_the_station_s_spelling_is_used(self):
        result = plan([DELTA], config(**{"ocpp/IdTagAutocharge": ""}))
        assert result.changes == [("ocpp/IdTagAutocharge", "VID:[ID]")]

    def test_a_station_already_configured_needs_nothing(self):
        result = plan([DELTA], config(**{"OCPP/idTagAutocharge": "VID:[ID]"}))
        assert (result.changes, result.blockers) == ([], [])

    def test_an_unknown_key_blocks(self):
        result = plan([ALFEN], config(HeartbeatInterval="300"))
        assert result.blockers == ["AutochargeEnabled: unknown to the station"]

    def test_a_read_only_key_with_another_value_blocks(self):
        configuration = configuration_of([ReportedKey("AutochargeEnabled", "false", readonly=True)])
        result = plan([ALFEN], configuration)
        assert result.blockers == ["AutochargeEnabled is read-only (value 'false')"]
        assert result.changes == []


class TestOutcome:
    def test_accepted_and_read_back_is_ready(self):
        readiness, detail = outcome(
            [KEMPOWER],
            {"AllowedAuthenticationMethods": "Accepted"},
            config(AllowedAuthenticationMethods="rfid,evmac"),
        )
        assert readiness == AutochargeReadiness.READY
        assert detail == "AllowedAuthenticationMethods = rfid,evmac"

    def test_a_rejected_change_is_rejected(self):
        readiness, detail = outcome(
            [DELTA], {"OCPP/idTagAutocharge": "Rejected"}, config(**{"OCPP/idTagAutocharge": ""})
        )
        assert readiness == AutochargeReadiness.REJECTED
        assert detail == "OCPP/idTagAutocharge: Rejected"

    def test_a_change_the_station_does_not_support_is_not_supported(self):
        readiness, _ = outcome([ALFEN], {"AutochargeEnabled": "NotSupported"}, config())
        assert readiness == AutochargeReadiness.NOT_SUPPORTED

    def test_a_change_that_needs_a_reboot_says_so(self):
        readiness, detail = outcome(
            [ALFEN], {"AutochargeEnabled": "RebootRequired"}, config(AutochargeEnabled="false")
        )
        assert readiness == AutochargeReadiness.REBOOT_REQUIRED
        assert detail == "AutochargeEnabled: RebootRequired. Reads back: AutochargeEnabled = false"

    def test_accepted_but_read_back_unchanged_is_rejected(self):
        readiness, detail = outcome(
            [ALFEN], {"AutochargeEnabled": "Accepted"}, config(AutochargeEnabled="false")
        )
        assert readiness == AutochargeReadiness.REJECTED
        assert detail == "Accepted, but reads back: AutochargeEnabled = false"
