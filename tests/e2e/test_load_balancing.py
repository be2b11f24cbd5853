"""End to end: a site of 100 kW shared among its charging connectors, with the ``ocpp``
library's stations (1.6 and 2.0.1) against a real server. Named after the OCTT 2.0.1 CSMS
cases of block K they cover (TC_K_01: SetChargingProfile TxDefaultProfile, TC_K_02/TC_K_05:
a TxProfile for a running transaction); the 1.6 tests after what they check."""

from decimal import Decimal

import pytest
from ocpp.v16 import call
from ocpp.v201.enums import Action as Action201

from ocpp_gateway.models import Command
from simulator.v16 import ocpp_now
from stations.models import LoadBalancingDecision, Station, StationChargingProfile
from tests.e2e.stations import Online201, station_online, wait_for
from tests.factories import BadgeFactory, SiteFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

SITE_LIMIT_W = 100_000
TAG = "LB-BADGE-1"
THIRD = Decimal("33333.3")


@pytest.fixture
def site(transactional_db):
    site = SiteFactory(grid_limit_kw=100)
    BadgeFactory(rfid=TAG, company=site.company)
    return site


def site_stations(site, prefix: str) -> list[Station]:
    return [
        StationFactory(
            charge_point_id=f"{prefix}-{n}", company=site.company, site=site, max_power_kw=50
        )
        for n in (1, 2, 3)
    ]


def tx_limit(received: list[dict], profiles_key: str) -> Decimal | None:
    """The limit of the last TxProfile a station received."""
    tx = [
        p[profiles_key]
        for p in received
        if p[profiles_key]["charging_profile_purpose"] == "TxProfile"
    ]
    if not tx:
        return None
    schedule = tx[-1]["charging_schedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    return Decimal(str(schedule["charging_schedule_period"][0]["limit"]))


def wait_for_limits(read, expected: list[Decimal | None]) -> None:
    wait_for(lambda: read() == expected)
    charging = [limit for limit in read() if limit is not None]
    assert sum(charging) <= SITE_LIMIT_W


def test_load_balancing_16_three_vehicles_then_one_stops(server_url, site):
    stations = site_stations(site, "LB16")
    with (
        station_online(server_url, stations[0].charge_point_id) as (a, thread_a),
        station_online(server_url, stations[1].charge_point_id) as (b, thread_b),
        station_online(server_url, stations[2].charge_point_id) as (c, thread_c),
    ):
        onlines = [(a, thread_a), (b, thread_b), (c, thread_c)]

        def limits():
            return [
                tx_limit(online.calls("SetChargingProfile"), "cs_charging_profiles")
                for online, _ in onlines
            ]

        # The fallback: each connector's share with all three charging.
        for online, _ in onlines:
            wait_for(lambda online=online: online.charging_profiles.get(900))
            assert online.charging_profiles[900]["charging_schedule"]["charging_schedule_period"][
                0
            ]["limit"] == Decimal("33333.3")
            assert online.charging_profiles[900]["connector_id"] == 0

        transactions = []
        for online, thread in onlines:
            answer = thread.run(
                online.call(
                    call.StartTransaction(
                        connector_id=1, id_tag=TAG, meter_start=0, timestamp=ocpp_now()
                    )
                )
            )
            transactions.append(answer.transaction_id)
        wait_for_limits(limits, [THIRD] * 3)
        # Each names its transaction.
        for (online, _), transaction_id in zip(onlines, transactions, strict=True):
            last = online.calls("SetChargingProfile")[-1]["cs_charging_profiles"]
            assert last["transaction_id"] == transaction_id

        thread_c.run(
            c.call(
                call.StopTransaction(
                    meter_stop=1000, timestamp=ocpp_now(), transaction_id=transactions[2]
                )
            )
        )
        wait_for(lambda: limits()[:2] == [50000, 50000])
        assert sum(limits()[:2]) <= SITE_LIMIT_W

    decision = LoadBalancingDecision.objects.filter(site=site).first()
    assert [row["limit_w"] for row in decision.allocations] == ["50000.0", "50000.0"]
    assert "stopped" in decision.trigger
    held = StationChargingProfile.objects.filter(station=stations[0], purpose="TxProfile").get()
    assert held.limit == Decimal("50000.0")


def test_load_balancing_16_a_station_rejecting_profiles_is_counted_at_its_maximum(server_url, site):
    deaf, other, _ = site_stations(site, "LBDEAF")
    with (
        station_online(server_url, deaf.charge_point_id, reject_profiles=True) as (d, thread_d),
        station_online(server_url, other.charge_point_id) as (o, thread_o),
    ):
        wait_for(lambda: Station.objects.get(pk=deaf.pk).rejects_profiles)
        for online, thread in ((d, thread_d), (o, thread_o)):
            thread.run(
                online.call(
                    call.StartTransaction(
                        connector_id=1, id_tag=TAG, meter_start=0, timestamp=ocpp_now()
                    )
                )
            )
        wait_for(lambda: tx_limit(o.calls("SetChargingProfile"), "cs_charging_profiles") == 50000)
        decision = wait_for(
            lambda: next(
                (
                    d
                    for d in LoadBalancingDecision.objects.filter(site=site)
                    if len(d.allocations) == 2
                ),
                None,
            )
        )
        reasons = {row["station_id"]: row["reason"] for row in decision.allocations}
        assert reasons[deaf.pk] == "rejects_profiles"


# --- OCPP 2.0.1, block K ----------------------------------------------------------------------


def limits_201(onlines) -> list[Decimal | None]:
    return [
        tx_limit(online.station.calls(Action201.set_charging_profile), "charging_profile")
        for online in onlines
    ]


def test_TC_K_01_and_TC_K_02_CSMS_load_balancing_201_three_vehicles_then_one_stops(
    server_url, site
):
    stations = site_stations(site, "LB201")
    onlines = [Online201(server_url, station) for station in stations]
    try:
        # TC_K_01: a TxDefaultProfile on EVSE 0 of every station of the limited site.
        for online in onlines:
            wait_for(lambda online=online: online.station.charging_profiles.get(900))
            fallback = online.station.charging_profiles[900]
            assert fallback["evse_id"] == 0
            assert fallback["charging_profile_purpose"] == "TxDefaultProfile"
        for n, online in enumerate(onlines):
            online.send(
                online.station.transaction_event(
                    "Started",
                    f"tx-{n}",
                    trigger_reason="Authorized",
                    id_token={"id_token": TAG, "type": "ISO14443"},
                    evse_id=1,
                )
            )
        wait_for_limits(lambda: limits_201(onlines), [THIRD] * 3)
        # TC_K_02: the TxProfile names the station's transaction.
        for n, online in enumerate(onlines):
            last = online.station.calls(Action201.set_charging_profile)[-1]["charging_profile"]
            assert last["transaction_id"] == f"tx-{n}"
        onlines[2].send(
            onlines[2].station.transaction_event(
                "Ended", "tx-2", trigger_reason="StopAuthorized", evse_id=1, stopped_reason="Local"
            )
        )
        wait_for(lambda: limits_201(onlines)[:2] == [50000, 50000])
    finally:
        for online in onlines:
            online.close()
    commands = Command.objects.filter(action="SetChargingProfile", origin="load_balancing")
    assert commands.exclude(state="accepted").count() == 0
