"""End to end: a real server process and simulated stations (OCPP 1.6 and 2.0.1) charge a vehicle
whose company has tariffs; each session's cost is kept at its stop, from the most specific
tariff, and shows in the API."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from simulator import v16 as simulator
from simulator import v201 as simulator_201
from simulator.v201 import mac_token
from stations import tariffs
from stations.models import ChargingSession, Tariff
from tests.e2e.stations import Api, staff_token
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAC = "A014310E00C5"


@pytest.fixture
def badge(transactional_db):
    return BadgeFactory(rfid=f"VID:{MAC}")


def tariff(company, price: str, fee: str = "0", **scope) -> Tariff:
    return tariffs.tariff_save(
        tariff=Tariff(
            company=company,
            price_per_kwh=Decimal(price),
            session_fee=Decimal(fee),
            valid_from=timezone.now() - timedelta(days=1),
            **scope,
        )
    )


def test_a_16_charge_is_priced_by_the_station_tariff_and_the_api_shows_it(server_url, badge):
    station = StationFactory(charge_point_id="E2E-COST-16", company=badge.company)
    tariff(badge.company, "0.10")
    applied = tariff(badge.company, "0.3125", "0.75", station=station)

    report = asyncio.run(
        simulator.charge(
            url=f"{server_url}/ocpp",
            charge_point_id=station.charge_point_id,
            id_tag=badge.rfid,
            energy_wh=15_000,
        )
    )

    session = ChargingSession.objects.get(transaction_id=report.transaction_id)
    # 15 kWh x 0.3125 + 0.75 = 5.4375 -> 5.44
    assert (session.energy_wh, session.cost, session.tariff_id) == (
        15_000,
        Decimal("5.44"),
        applied.pk,
    )
    status, shown = Api(server_url, staff_token()).request("GET", f"/sessions/{session.pk}/")
    assert status == 200
    assert (shown["cost"], shown["cost_currency"]) == ("5.44", "EUR")


def test_a_201_charge_is_priced_at_its_end(server_url, badge):
    station = StationFactory(charge_point_id="E2E-COST-201", company=badge.company)
    tariff(badge.company, "0.20", "1.00")

    report = asyncio.run(
        simulator_201.charge(
            url=f"{server_url}/ocpp",
            charge_point_id=station.charge_point_id,
            id_token=mac_token(MAC),
            energy_wh=12_000,
        )
    )

    session = ChargingSession.objects.get(station_transaction_id=report.transaction_id)
    assert (session.energy_wh, session.cost, session.cost_currency) == (
        12_000,
        Decimal("3.40"),
        "EUR",
    )
