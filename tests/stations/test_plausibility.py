"""The plausibility rules, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from stations.plausibility import (
    INT64_MAX,
    MAX_SESSION_ENERGY_WH,
    EnergyProblem,
    Limits,
    energy_is_storable,
    energy_problem,
    fits_int64,
    reading_is_implausible,
    register_wh,
    timestamp_is_plausible,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LIMITS = Limits(
    earliest=datetime(2010, 1, 1, tzinfo=UTC), max_ahead=timedelta(hours=24), max_power_w=1e6
)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2010, 1, 1, tzinfo=UTC),
        NOW - timedelta(days=3000),
        NOW,
        NOW + timedelta(hours=23),
    ],
)
def test_timestamps_from_2010_to_a_day_ahead_are_plausible(moment):
    assert timestamp_is_plausible(moment, now=NOW, limits=LIMITS)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2009, 12, 31, 23, 59, tzinfo=UTC),
        NOW + timedelta(hours=25),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_timestamps_before_2010_or_beyond_a_day_ahead_are_implausible(moment):
    assert not timestamp_is_plausible(moment, now=NOW, limits=LIMITS)


def test_limits_follow_the_settings(settings):
    settings.OCPP_TIMESTAMP_EARLIEST = datetime(2020, 1, 1).date()
    settings.OCPP_TIMESTAMP_MAX_AHEAD_HOURS = 2
    settings.OCPP_MAX_CONNECTOR_POWER_KW = 22
    limits = Limits.from_settings()
    assert limits == Limits(
        earliest=datetime(2020, 1, 1, tzinfo=UTC), max_ahead=timedelta(hours=2), max_power_w=22_000
    )


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("12500", "Wh", 12500),
        ("12.5", "kWh", 12500),
        ("12.5", "", 12),
        ("-3", "Wh", -3),
        (str(INT64_MAX), "Wh", INT64_MAX),
        (str(INT64_MAX + 1), "Wh", None),
        ("1" + "0" * 30, "Wh", None),
        ("1E+100000000", "Wh", None),
        ("NaN", "Wh", None),
        ("Infinity", "Wh", None),
        ("-Infinity", "Wh", None),
        ("twelve", "Wh", None),
        ("", "Wh", None),
    ],
)
def test_a_register_reading_is_whole_wh_or_none_when_no_bigint_holds_it(value, unit, expected):
    assert register_wh(value, unit) == expected


def test_int64_bounds_are_those_of_a_database_bigint():
    assert fits_int64(None) and fits_int64(INT64_MAX) and fits_int64(-(2**63))
    assert not fits_int64(INT64_MAX + 1) and not fits_int64(-(2**63) - 1)


def problem(meter_start, meter_stop, hours=1.0):
    return energy_problem(
        meter_start=meter_start,
        meter_stop=meter_stop,
        started_at=NOW,
        stopped_at=NOW + timedelta(hours=hours),
        limits=LIMITS,
    )


def test_an_ordinary_session_has_an_energy():
    assert problem(1_000, 21_000) is None


def test_up_to_max_power_over_the_elapsed_time_plus_an_hour_is_believed():
    # 1 MW for 1 h, plus an hour's slack: 2 MWh.
    assert problem(0, 2_000_000) is None
    assert problem(0, 2_000_001) == EnergyProblem.BEYOND_POWER


def test_a_stop_before_the_start_still_gets_the_slack():
    assert problem(0, 500_000, hours=-5) is None


@pytest.mark.parametrize(
    ("meter_start", "meter_stop", "expected"),
    [
        (None, 10, EnergyProblem.MISSING),
        (10, None, EnergyProblem.MISSING),
        (0, INT64_MAX + 1, EnergyProblem.OUT_OF_RANGE),
        (0, INT64_MAX, EnergyProblem.BEYOND_POWER),
        (-5, 100, EnergyProblem.NEGATIVE),
        (0, -1, EnergyProblem.NEGATIVE),
        (5_000, 4_000, EnergyProblem.BACKWARDS),
    ],
)
def test_absurd_readings_give_no_energy_and_say_why(meter_start, meter_stop, expected):
    assert problem(meter_start, meter_stop) == expected


def test_even_a_century_long_session_cannot_count_beyond_the_sum_safe_ceiling():
    assert problem(0, MAX_SESSION_ENERGY_WH + 1, hours=24 * 365 * 200) == (
        EnergyProblem.BEYOND_POWER
    )


def test_staff_may_set_energies_that_sums_can_take():
    assert energy_is_storable(0) and energy_is_storable(MAX_SESSION_ENERGY_WH)
    assert not energy_is_storable(-1) and not energy_is_storable(MAX_SESSION_ENERGY_WH + 1)


@pytest.mark.parametrize(
    ("value", "implausible"),
    [
        ("12500", False),
        ("0", False),
        ("-1", True),
        ("NaN", True),
        ("Infinity", True),
        ("1" + "0" * 30, True),
        ("AbCdEf0123==", False),  # a SignedData value: not a reading to judge
    ],
)
def test_a_reading_is_implausible_only_as_a_number(value, implausible):
    assert reading_is_implausible(value, "Wh") is implausible
