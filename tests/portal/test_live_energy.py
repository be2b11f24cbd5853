"""Sessions in progress show their energy so far (the latest energy register reading less the
start's) on the dashboard and the station's page, and the live channel tells the pages when a
new reading arrives."""

import re
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from stations.services import (
    PresentedToken,
    SampledValue,
    meter_values_record,
    session_start,
    transaction_event_record,
)
from tests.portal.conftest import make_fleet, make_staff
from tests.portal.test_live import ORIGIN, cookie_of, listen

pytestmark = pytest.mark.django_db


def start(fleet, *, meter_start: int = 10_000):
    session, decision = session_start(
        station=fleet.station,
        connector_id=1,
        id_tag=fleet.badge.rfid,
        meter_start=meter_start,
        started_at=timezone.now() - timedelta(minutes=20),
    )
    assert decision.accepted
    return session


def read(fleet, session, *samples: SampledValue) -> None:
    meter_values_record(
        station=fleet.station,
        connector_id=1,
        transaction_id=session.transaction_id,
        samples=list(samples),
    )


def reading(value: str, *, minutes_ago: int, unit: str = "Wh", **extra) -> SampledValue:
    return SampledValue(
        timestamp=timezone.now() - timedelta(minutes=minutes_ago), value=value, unit=unit, **extra
    )


def energy_cells(client, url, language="en") -> list[str]:
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return re.findall(r'data-testid="energy-so-far">([^<]*)<', page)


def test_the_dashboard_shows_the_energy_so_far_in_the_page_s_language(alpha_client, alpha):
    session = start(alpha)
    assert energy_cells(alpha_client, reverse("portal:dashboard")) == ["–"]  # no reading yet

    read(
        alpha,
        session,
        reading("11000", minutes_ago=10),
        # The latest by the station's clock, though sent first; a phase's and a power reading
        # are not the whole meter's energy.
        reading("12.5", minutes_ago=1, unit="kWh"),
        reading("99999", minutes_ago=0, phase="L1"),
        reading("7000", minutes_ago=0, measurand="Power.Active.Import", unit="W"),
    )

    assert energy_cells(alpha_client, reverse("portal:dashboard")) == ["2.5"]
    assert energy_cells(alpha_client, reverse("portal:dashboard"), "fr") == ["2,5"]
    dashboard = alpha_client.get(reverse("portal:dashboard")).context["dashboard"]
    assert [s.energy_so_far_wh for s in dashboard.charging] == [2_500]


def test_the_station_page_shows_it_too_in_french(alpha_client, alpha):
    session = start(alpha)
    read(alpha, session, reading("13250", minutes_ago=1))
    url = reverse("portal:station-detail", args=[alpha.station.pk])

    assert energy_cells(alpha_client, url) == ["3.2 kWh so far"]
    assert energy_cells(alpha_client, url, "fr") == ["3,2 kWh jusqu’ici"]


def test_a_reading_below_the_start_or_absurd_shows_no_figure(alpha_client, alpha):
    session = start(alpha, meter_start=50_000)
    read(alpha, session, reading("40000", minutes_ago=1))

    assert energy_cells(alpha_client, reverse("portal:dashboard")) == ["–"]


def test_an_ocpp_201_session_counts_from_its_first_reading(alpha_client, alpha):
    common = {"station": alpha.station, "station_transaction_id": "tx-1", "evse_id": 1}
    now = timezone.now()
    transaction_event_record(
        **common,
        event="Started",
        seq_no=0,
        timestamp=now - timedelta(minutes=5),
        trigger_reason="Authorized",
        token=PresentedToken(id_tag=alpha.badge.rfid),
        samples=[reading("20000", minutes_ago=5)],
    )
    transaction_event_record(
        **common,
        event="Updated",
        seq_no=1,
        timestamp=now,
        trigger_reason="MeterValuePeriodic",
        samples=[reading("24100", minutes_ago=0)],
    )

    assert energy_cells(alpha_client, reverse("portal:dashboard")) == ["4.1"]


@pytest.mark.django_db(transaction=True)
async def test_a_new_reading_is_heard_by_the_company_s_pages_only(transactional_db):
    alpha = await database_sync_to_async(make_fleet)("Alpha", 1)
    beta = await database_sync_to_async(make_fleet)("Beta", 2)
    staff = await database_sync_to_async(make_staff)("alice", alpha.company)
    communicator, connected = await listen(ORIGIN, await database_sync_to_async(cookie_of)(staff))
    assert connected
    alpha_session = await database_sync_to_async(start)(alpha)
    beta_session = await database_sync_to_async(start)(beta)
    await communicator.receive_json_from()  # alpha's session_started

    await database_sync_to_async(read)(beta, beta_session, reading("15000", minutes_ago=0))
    await database_sync_to_async(read)(alpha, alpha_session, reading("15000", minutes_ago=0))

    assert await communicator.receive_json_from() == {
        "kind": "session_energy",
        "station": "CP-ALPHA",
        "connector_id": 1,
    }
    assert await communicator.receive_nothing()
    await communicator.disconnect()


def test_the_sessions_list_and_the_vehicle_page_show_it_too(alpha_client, alpha):
    session = start(alpha)
    read(alpha, session, reading("16000", minutes_ago=1))

    assert energy_cells(alpha_client, reverse("portal:session-list"), "fr") == ["6,0"]
    vehicle_page = reverse("portal:vehicle-detail", args=[alpha.vehicle.pk])
    assert energy_cells(alpha_client, vehicle_page, "fr") == ["6,0"]
