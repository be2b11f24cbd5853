"""The allocation of a site's power (stations.load_balancing.allocate), without a database:
the OCTT K-block cases it serves (TC_K_01…: the limits a TxProfile carries) rely on these
invariants."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stations.load_balancing import ConnectorDemand, Reason, allocate

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def kw(value) -> Decimal:
    return Decimal(value) * 1000


def limits(allocations) -> dict:
    return {allocation.key: allocation.limit_w for allocation in allocations}


def test_equal_shares_by_default():
    connectors = [ConnectorDemand(key=n, max_w=kw(50)) for n in range(3)]
    assert limits(allocate(limit_w=kw(100), connectors=connectors, now=NOW)) == {
        0: Decimal("33333.3"),
        1: Decimal("33333.3"),
        2: Decimal("33333.3"),
    }


def test_a_connector_never_gets_more_than_its_maximum_and_the_rest_goes_to_the_others():
    connectors = [
        ConnectorDemand(key="small", max_w=kw(7)),
        ConnectorDemand(key="big", max_w=kw(150)),
    ]
    result = {a.key: a for a in allocate(limit_w=kw(100), connectors=connectors, now=NOW)}
    assert result["small"].limit_w == kw(7) and result["small"].reason == Reason.AT_MAXIMUM
    assert result["big"].limit_w == kw(93) and result["big"].reason == Reason.SHARE


def test_priority_weighs_the_share():
    connectors = [
        ConnectorDemand(key="urgent", max_w=kw(100), priority=3),
        ConnectorDemand(key="normal", max_w=kw(100), priority=1),
    ]
    assert limits(allocate(limit_w=kw(100), connectors=connectors, now=NOW)) == {
        "urgent": kw(75),
        "normal": kw(25),
    }


def test_the_vehicle_leaving_first_gets_more():
    connectors = [
        ConnectorDemand(key="later", max_w=kw(100), departure=NOW + timedelta(hours=10)),
        ConnectorDemand(key="soon", max_w=kw(100), departure=NOW + timedelta(hours=2)),
        ConnectorDemand(key="unknown", max_w=kw(100)),
    ]
    shares = limits(allocate(limit_w=kw(100), connectors=connectors, now=NOW))
    assert shares["soon"] > shares["later"] > shares["unknown"]


def test_a_station_rejecting_profiles_is_counted_at_its_maximum():
    connectors = [
        ConnectorDemand(key="deaf", max_w=kw(22), obeys_profiles=False),
        ConnectorDemand(key="a", max_w=kw(50)),
        ConnectorDemand(key="b", max_w=kw(50)),
    ]
    result = {a.key: a for a in allocate(limit_w=kw(100), connectors=connectors, now=NOW)}
    assert result["deaf"].reason == Reason.REJECTS_PROFILES
    assert result["a"].limit_w == result["b"].limit_w == kw(39)


def test_nothing_left_when_stations_rejecting_profiles_use_up_the_limit():
    connectors = [
        ConnectorDemand(key="deaf", max_w=kw(150), obeys_profiles=False),
        ConnectorDemand(key="a", max_w=kw(50)),
    ]
    result = {a.key: a for a in allocate(limit_w=kw(100), connectors=connectors, now=NOW)}
    assert result["a"].limit_w == 0 and result["a"].reason == Reason.NOTHING_LEFT


def test_limits_are_rounded_down_to_the_stations_step():
    connectors = [ConnectorDemand(key=n, max_w=kw(50), step_w=Decimal(100)) for n in range(3)]
    assert set(limits(allocate(limit_w=kw(10), connectors=connectors, now=NOW)).values()) == {
        Decimal(3300)
    }


demands = st.lists(
    st.builds(
        ConnectorDemand,
        key=st.uuids(),
        max_w=st.decimals(min_value=0, max_value=400_000, places=1),
        priority=st.integers(min_value=1, max_value=5),
        departure=st.none()
        | st.integers(min_value=-3600, max_value=48 * 3600).map(
            lambda seconds: NOW + timedelta(seconds=seconds)
        ),
        obeys_profiles=st.booleans(),
        step_w=st.sampled_from([Decimal("0.1"), Decimal(1), Decimal(100), Decimal(230)]),
    ),
    max_size=12,
    unique_by=lambda demand: demand.key,
)
site_limits = st.decimals(min_value=0, max_value=1_000_000, places=1)


@given(limit=site_limits, connectors=demands)
def test_invariants(limit, connectors):
    allocations = allocate(limit_w=limit, connectors=connectors, now=NOW)
    assert [a.key for a in allocations] == [c.key for c in connectors]
    by_key = {c.key: c for c in connectors}
    unruly = sum((c.max_w for c in connectors if not c.obeys_profiles), Decimal(0))
    obedient = [a for a in allocations if by_key[a.key].obeys_profiles]
    # The connectors we limit share at most what the others leave of the limit.
    assert sum((a.limit_w for a in obedient), Decimal(0)) <= max(limit - unruly, Decimal(0))
    for allocation in allocations:
        demand = by_key[allocation.key]
        assert 0 <= allocation.limit_w <= demand.max_w
        assert allocation.limit_w % demand.step_w == 0 or not demand.obeys_profiles


@given(limit=site_limits, connectors=demands)
def test_nothing_is_left_unused_that_someone_could_draw(limit, connectors):
    allocations = allocate(limit_w=limit, connectors=connectors, now=NOW)
    by_key = {c.key: c for c in connectors}
    obedient = [a for a in allocations if by_key[a.key].obeys_profiles]
    unruly = sum((c.max_w for c in connectors if not c.obeys_profiles), Decimal(0))
    left = max(limit - unruly, Decimal(0)) - sum((a.limit_w for a in obedient), Decimal(0))
    # Only rounding is lost, unless every obedient connector is at its maximum.
    all_at_maximum = all(by_key[a.key].max_w - a.limit_w < by_key[a.key].step_w for a in obedient)
    assert all_at_maximum or left < sum((by_key[a.key].step_w for a in obedient), Decimal(0))


@given(
    limit=site_limits,
    max_w=st.decimals(min_value=1, max_value=400_000, places=1),
    hours=st.lists(st.integers(min_value=0, max_value=72), min_size=2, max_size=6),
)
def test_an_earlier_departure_never_gets_less(limit, max_w, hours):
    connectors = [
        ConnectorDemand(key=n, max_w=max_w, departure=NOW + timedelta(hours=h))
        for n, h in enumerate(hours)
    ]
    shares = limits(allocate(limit_w=limit, connectors=connectors, now=NOW))
    for a, hours_a in enumerate(hours):
        for b, hours_b in enumerate(hours):
            if hours_a < hours_b:
                assert shares[a] >= shares[b]


@given(limit=site_limits, max_w=st.decimals(min_value=1, max_value=400_000, places=1))
def test_a_higher_priority_never_gets_less(limit, max_w):
    connectors = [ConnectorDemand(key=p, max_w=max_w, priority=p) for p in (1, 2, 3)]
    shares = limits(allocate(limit_w=limit, connectors=connectors, now=NOW))
    assert shares[3] >= shares[2] >= shares[1]
