"""Whether a value a station sent can be believed: pure functions, no database.

A station's data is never refused (a refused transaction message is retried forever), but an
absurd value must not reach what pages, downloads and sums compute with: a timestamp in year
9999 overflows a time-zone conversion, a reading of 2^63 - 1 Wh overflows a SUM, 1e30 does not
fit a database integer. The services keep what was sent where it fits (and the message log
always keeps it), flag it, and compute with these answers instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The largest energy (Wh) one session may count for: far beyond any real session (a megawatt
# for over a century), and small enough that millions of them still sum within an int64.
MAX_SESSION_ENERGY_WH = 10**12
# What a reading may exceed the connector's maximum power over the elapsed time by: clocks
# drift, and a session of a few seconds must not be flagged for one rounding step.
ENERGY_SLACK = timedelta(hours=1)


class EnergyProblem:
    """Why a session's meter readings give no energy (``energy_problem``)."""

    MISSING = "missing"
    OUT_OF_RANGE = "out_of_range"
    NEGATIVE = "negative"
    BACKWARDS = "backwards"
    BEYOND_POWER = "beyond_power"


@dataclass(frozen=True)
class Limits:
    """What a station may plausibly send."""

    earliest: datetime
    max_ahead: timedelta
    max_power_w: float

    @classmethod
    def from_settings(cls) -> Limits:
        earliest: date = settings.OCPP_TIMESTAMP_EARLIEST
        return cls(
            earliest=datetime.combine(earliest, time.min, tzinfo=UTC),
            max_ahead=timedelta(hours=settings.OCPP_TIMESTAMP_MAX_AHEAD_HOURS),
            max_power_w=settings.OCPP_MAX_CONNECTOR_POWER_KW * 1000,
        )


def timestamp_is_plausible(moment: datetime, *, now: datetime, limits: Limits) -> bool:
    """Not before ``limits.earliest`` and not more than ``limits.max_ahead`` after ``now``."""
    return limits.earliest <= moment <= now + limits.max_ahead


def fits_int64(value: int | None) -> bool:
    """Whether a database bigint can hold ``value`` (None fits: it is NULL)."""
    return value is None or INT64_MIN <= value <= INT64_MAX


def register_wh(value: str, unit: str = "") -> int | None:
    """An energy register reading (text, as stored) in whole Wh, or None when it is not a
    finite number a bigint holds (``"NaN"``, ``"Infinity"``, ``1e30``, garbage)."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    if unit.casefold() == "kwh":
        number *= 1000
    if not INT64_MIN <= number <= INT64_MAX:
        return None
    return int(number)


def reading_is_implausible(value: str, unit: str = "") -> bool:
    """Whether an energy register reading is a number that cannot be believed: not finite,
    beyond a bigint, or negative. Text that is no number at all (an OCPP 1.6 ``SignedData``
    value) is not judged: it is not a reading this checks."""
    try:
        Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return False
    reading = register_wh(value, unit)
    return reading is None or reading < 0


def energy_problem(
    *,
    meter_start: int | None,
    meter_stop: int | None,
    started_at: datetime,
    stopped_at: datetime,
    limits: Limits,
) -> str | None:
    """None when ``meter_stop - meter_start`` is an energy to count; otherwise why not (an
    ``EnergyProblem``): a missing or unstorable reading, a negative one, a meter that went
    backwards, or more than the connector's maximum power delivers in the elapsed time."""
    if meter_start is None or meter_stop is None:
        return EnergyProblem.MISSING
    if not (fits_int64(meter_start) and fits_int64(meter_stop)):
        return EnergyProblem.OUT_OF_RANGE
    if meter_start < 0 or meter_stop < 0:
        return EnergyProblem.NEGATIVE
    if meter_stop < meter_start:
        return EnergyProblem.BACKWARDS
    elapsed = max(stopped_at - started_at, timedelta(0)) + ENERGY_SLACK
    ceiling = min(limits.max_power_w * elapsed.total_seconds() / 3600, MAX_SESSION_ENERGY_WH)
    if meter_stop - meter_start > ceiling:
        return EnergyProblem.BEYOND_POWER
    return None


def energy_is_storable(energy_wh: int) -> bool:
    """Whether staff may set a session's energy to ``energy_wh``: what sums can take."""
    return 0 <= energy_wh <= MAX_SESSION_ENERGY_WH
