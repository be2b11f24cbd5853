"""OCPP 2.0.1 pieces to domain values and back: pure functions, no database."""

from datetime import UTC, datetime

import pytest

from badges.authorization import AuthorizationStatus, Decision, Reason
from badges.models import Badge
from ocpp_gateway.operations.commands import answer_status
from ocpp_gateway.versions.v201.conversions import id_tag_of, id_token_info, sampled_values


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ({"id_token": "A014310E004E", "type": "MacAddress"}, ("VID:A014310E004E", True)),
        (
            {"id_token": "vid:a0:14:31:0e:00:4e", "type": "MacAddress"},
            ("vid:a0:14:31:0e:00:4e", True),
        ),
        ({"id_token": "04A2B3C4", "type": "ISO14443"}, ("04A2B3C4", True)),
        ({"id_token": "FR-ABC-C12345678-X", "type": "eMAID"}, ("FR-ABC-C12345678-X", False)),
        ({"id_token": "", "type": "NoAuthorization"}, ("", False)),
    ],
)
def test_tokens_become_id_tags_and_only_badge_kinds_are_supported(token, expected):
    assert id_tag_of(token) == expected


def decision(status, reason, **fields):
    return Decision(status=status, reason=reason, id_tag="VID:A014310E004E", **fields)


@pytest.mark.parametrize(
    ("reason", "status", "told"),
    [
        (Reason.UNKNOWN_BADGE, AuthorizationStatus.INVALID, "Unknown"),
        (Reason.NOT_PERMITTED_AT_STATION, AuthorizationStatus.INVALID, "NotAtThisLocation"),
        (Reason.VEHICLE_INACTIVE, AuthorizationStatus.INVALID, "Invalid"),
        (Reason.BADGE_DISABLED, AuthorizationStatus.BLOCKED, "Blocked"),
        (Reason.CONCURRENT_SESSION, AuthorizationStatus.CONCURRENT_TX, "ConcurrentTx"),
    ],
)
def test_refusals_are_told_in_2_0_1_words_without_group_or_expiry(reason, status, told):
    assert id_token_info(decision(status, reason, badge=Badge(company_id=3))) == {"status": told}


def test_an_accepted_badge_is_told_its_expiry_and_its_company_group():
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    accepted = decision(
        AuthorizationStatus.ACCEPTED, Reason.ACCEPTED, badge=Badge(company_id=3), expires_at=expires
    )

    assert id_token_info(accepted) == {
        "status": "Accepted",
        "cache_expiry_date_time": "2030-01-02T03:04:05Z",
        "group_id_token": {"id_token": "COMPANY-3", "type": "Central"},
    }


def test_sampled_values_apply_their_multiplier_and_default_to_wh_for_energy():
    [energy, power] = sampled_values(
        [
            {
                "timestamp": "2026-01-01T10:00:00Z",
                "sampled_value": [
                    {"value": 12.5, "unit_of_measure": {"unit": "kWh", "multiplier": 3}},
                    {"value": 7, "measurand": "Power.Active.Import"},
                ],
            }
        ]
    )

    assert (energy.measurand, energy.value, energy.unit) == (
        "Energy.Active.Import.Register",
        "12500",
        "kWh",
    )
    assert (power.value, power.unit) == ("7", "")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["Accepted", "Accepted"], "Accepted"),
        (["Accepted", "RebootRequired"], "RebootRequired"),
        (["Accepted", "UnknownVariable", "Rejected"], "UnknownVariable"),
    ],
)
def test_a_set_variables_answer_says_the_first_refusal_else_success(statuses, expected):
    response = {"setVariableResult": [{"attributeStatus": status} for status in statuses]}
    assert answer_status("SetVariables", response) == expected
