"""A session's energy so far on the dashboard, live, through the real gateway: a simulated
OCPP 1.6 station starts a transaction and sends meter values; the open page (in French)
shows the energy without being reloaded."""

import pytest
from django.utils import timezone
from ocpp.v16 import call
from ocpp.v16.datatypes import MeterValue, SampledValue
from playwright.sync_api import expect

from tests.e2e.portal.test_browser import (  # noqa: F401
    PASSWORD,
    depot,
    fast_password_hashing,
    manager,
    vehicle,
)
from tests.e2e.stations import station_online
from tests.factories import BadgeFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Readings refresh the page within 3 s (portal.js), plus the round trips.
LIVE_WAIT_MS = 10_000


def meter_values(transaction_id: int, wh: int) -> call.MeterValues:
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            MeterValue(
                timestamp=timezone.now().isoformat(),
                sampled_value=[
                    SampledValue(
                        value=str(wh), measurand="Energy.Active.Import.Register", unit="Wh"
                    )
                ],
            )
        ],
    )


def test_the_dashboard_shows_the_energy_so_far_as_readings_arrive(
    browser,
    server_url,
    manager,  # noqa: F811
    depot,  # noqa: F811
    vehicle,  # noqa: F811
):
    BadgeFactory(company=depot.company, vehicle=vehicle, rfid="VID:A014310E004E")
    context = browser.new_context(
        base_url=server_url.replace("ws://", "http://"),
        locale="fr-FR",
        extra_http_headers={"Accept-Language": "fr"},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("#id_username").fill("manager")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main button[type=submit]").click()
        expect(page.locator("[data-live-state]")).to_have_attribute("data-connected", "true")

        with station_online(server_url, depot.charge_point_id) as (station, thread):
            started = thread.run(
                station.call(
                    call.StartTransaction(
                        connector_id=1,
                        id_tag="VID:A014310E004E",
                        meter_start=1_000,
                        timestamp=timezone.now().isoformat(),
                    )
                )
            )
            energy = page.get_by_test_id("energy-so-far")
            expect(energy).to_have_text("–")

            thread.run(station.call(meter_values(started.transaction_id, 3_500)))
            expect(energy).to_have_text("2,5", timeout=LIVE_WAIT_MS)
            thread.run(station.call(meter_values(started.transaction_id, 13_000)))
            expect(energy).to_have_text("12,0", timeout=LIVE_WAIT_MS)
    finally:
        context.close()
