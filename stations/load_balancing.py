"""Sharing a site's power among its charging connectors: a pure function over loaded facts.

``allocate`` takes the site's limit and what is known of each charging connector (its maximum,
its vehicle's priority, the departure time when the station reported one, whether the station
obeys charging profiles) and returns each connector's limit. Rules, in order:

1. A connector whose station rejects profiles draws what it likes: it is counted at its maximum.
2. The rest of the limit is shared by weighted water-filling: each connector gets a share in
   proportion to its weight, capped at its maximum; what a capped connector leaves goes to the
   others. The weight is the vehicle's priority times an urgency that grows as departure nears
   (unknown departure: the lowest urgency), so the vehicle leaving first gets its energy first.
3. Limits are rounded down to the step the station takes (0.1 W by default): the sum never
   exceeds the limit.

Exact arithmetic (fractions) throughout: rounding never pushes a sum over the limit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

# Urgency = 1 + URGENCY_HOURS / hours left (at least MIN_HOURS_LEFT): a vehicle leaving in two
# hours weighs 13, one leaving in a day 2, one whose departure is unknown 1.
URGENCY_HOURS = 24
MIN_HOURS_LEFT = Fraction(1, 4)
DEFAULT_STEP_W = Decimal("0.1")


class Reason:
    """Why a connector got its limit (recorded with the decision, shown on the site's page)."""

    SHARE = "share"  # its weighted share of what was left
    AT_MAXIMUM = "at_maximum"  # its share was more than it can draw
    REJECTS_PROFILES = "rejects_profiles"  # counted at its maximum, sent nothing
    NOTHING_LEFT = "nothing_left"  # stations that reject profiles used up the limit


@dataclass(frozen=True)
class ConnectorDemand:
    key: Hashable
    max_w: Decimal
    priority: int = 1
    departure: datetime | None = None
    obeys_profiles: bool = True
    step_w: Decimal = DEFAULT_STEP_W


@dataclass(frozen=True)
class Allocation:
    key: Hashable
    limit_w: Decimal
    reason: str
    weight: Decimal


def urgency(departure: datetime | None, now: datetime) -> Fraction:
    """1 for an unknown departure, more the sooner the vehicle leaves."""
    if departure is None:
        return Fraction(1)
    hours_left = max(Fraction((departure - now).total_seconds()) / 3600, MIN_HOURS_LEFT)
    return 1 + Fraction(URGENCY_HOURS) / hours_left


def _round_down(value: Fraction, step: Decimal) -> Decimal:
    step_fraction = Fraction(step)
    steps = value // step_fraction
    return Decimal(steps) * step


def _water_fill(
    budget: Fraction, weights: dict[Hashable, Fraction], caps: dict[Hashable, Fraction]
) -> dict[Hashable, Fraction]:
    """Weighted max-min shares of ``budget``, none above its cap."""
    shares: dict[Hashable, Fraction] = {}
    open_keys = set(weights)
    while open_keys:
        total_weight = sum(weights[key] for key in open_keys)
        capped = {key for key in open_keys if budget * weights[key] / total_weight >= caps[key]}
        if not capped:
            for key in open_keys:
                shares[key] = budget * weights[key] / total_weight
            break
        for key in capped:
            shares[key] = caps[key]
            budget -= caps[key]
        open_keys -= capped
    return shares


def allocate(
    *, limit_w: Decimal, connectors: Sequence[ConnectorDemand], now: datetime
) -> list[Allocation]:
    """Each connector's limit (in the order given); see the module's rules."""
    limit = max(Fraction(limit_w), Fraction(0))
    unruly = [c for c in connectors if not c.obeys_profiles]
    budget = max(limit - sum(Fraction(c.max_w) for c in unruly), Fraction(0))
    obedient = [c for c in connectors if c.obeys_profiles]
    weights = {c.key: max(c.priority, 1) * urgency(c.departure, now) for c in obedient}
    caps = {c.key: max(Fraction(c.max_w), Fraction(0)) for c in obedient}
    shares = _water_fill(budget, weights, caps)
    allocations = []
    for connector in connectors:
        if not connector.obeys_profiles:
            allocations.append(
                Allocation(connector.key, connector.max_w, Reason.REJECTS_PROFILES, Decimal(0))
            )
            continue
        share = shares[connector.key]
        limit_for_it = _round_down(share, connector.step_w)
        if budget == 0:
            reason = Reason.NOTHING_LEFT
        elif share >= caps[connector.key]:
            reason = Reason.AT_MAXIMUM
        else:
            reason = Reason.SHARE
        weight = weights[connector.key]
        allocations.append(
            Allocation(
                connector.key,
                limit_for_it,
                reason,
                Decimal(weight.numerator) / Decimal(weight.denominator),
            )
        )
    return allocations
