"""The portal in a real browser (headless Chromium) against a real server process, with
stations simulated by the ``ocpp`` library: what a fleet manager does, click by click."""

import csv

import pytest
from django.utils import timezone
from ocpp.v16 import call
from playwright.sync_api import expect

from badges.models import Badge, BadgeUsage
from simulator import v16 as simulator
from tests.e2e.stations import StationThread, station_online
from tests.factories import BadgeFactory, StationFactory, VehicleFactory
from tests.portal.conftest import make_staff

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "portal-e2e-password"


@pytest.fixture(autouse=True)
def fast_password_hashing():
    """The server process checks passwords with the project's own hashers: keep them here."""


@pytest.fixture
def depot(transactional_db):
    return StationFactory(charge_point_id="PORTAL-DEPOT-1", name="Depot fast charger")


@pytest.fixture
def vehicle(depot):
    return VehicleFactory(company=depot.company, license_plate="FT-123-ER")


@pytest.fixture
def manager(depot):
    """A fleet manager of the depot's company (not a superuser), signed in with a password."""
    user = make_staff("manager", depot.company)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(page, username: str = "manager") -> None:
    page.goto("/")
    expect(page).to_have_title("Sign in · Autocharge supervision")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title("Dashboard · Autocharge supervision")


def charge(server_url: str, charge_point_id: str, id_tag: str, **options):
    """One plug-in of a simulated station, in a thread of its own: the browser's event loop
    holds this one."""
    thread = StationThread()
    try:
        return thread.run(
            simulator.charge(
                url=f"{server_url}/ocpp", charge_point_id=charge_point_id, id_tag=id_tag, **options
            )
        )
    finally:
        thread.stop()


def test_staff_sign_in_and_a_wrong_password_is_refused(page, manager):
    page.goto("/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")

    sign_in(page)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # Keyboard users reach the content first.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def test_dashboard_shows_a_station_going_online_and_a_session_starting_live(
    page, server_url, manager, depot, vehicle, screenshot
):
    BadgeFactory(company=depot.company, vehicle=vehicle, rfid="VID:A014310E004E")
    sign_in(page)
    expect(page.locator("[data-live-state]")).to_have_attribute("data-connected", "true")
    expect(page.get_by_test_id("stations-online")).to_have_text("0")

    with station_online(server_url, depot.charge_point_id) as (station, thread):
        expect(page.get_by_test_id("stations-online")).to_have_text("1")
        feed = page.get_by_test_id("live-feed")
        expect(feed).to_contain_text("PORTAL-DEPOT-1 is online")

        thread.run(station.call(call.Authorize(id_tag="VID:A014310E004E")))
        started = thread.run(
            station.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag="VID:A014310E004E",
                    meter_start=0,
                    timestamp=timezone.now().isoformat(),
                )
            )
        )
        expect(page.get_by_test_id("charging-now")).to_have_text("1")
        expect(page.get_by_test_id("charging-table")).to_contain_text("FT-123-ER")
        expect(feed).to_contain_text("FT-123-ER started charging at PORTAL-DEPOT-1")
        screenshot(page, "dashboard")

        thread.run(
            station.call(
                call.StopTransaction(
                    meter_stop=18_000,
                    timestamp=timezone.now().isoformat(),
                    transaction_id=started.transaction_id,
                )
            )
        )
        expect(feed).to_contain_text("FT-123-ER stopped charging at PORTAL-DEPOT-1: 18 kWh")
        expect(page.get_by_test_id("charging-now")).to_have_text("0")
    expect(feed).to_contain_text("PORTAL-DEPOT-1 went offline")
    expect(page.get_by_test_id("stations-online")).to_have_text("0")


def test_a_vehicle_chart_shows_the_energy_of_its_sessions(
    page, server_url, manager, depot, vehicle, screenshot
):
    BadgeFactory(company=depot.company, vehicle=vehicle, rfid="VID:A014310E004E")
    # Two plug-ins within a second: different meter readings, or the second is a replay.
    for meter_start, energy_wh in ((0, 12_000), (50_000, 8_500)):
        charge(
            server_url,
            depot.charge_point_id,
            "VID:A014310E004E",
            meter_start=meter_start,
            energy_wh=energy_wh,
        )

    sign_in(page)
    page.get_by_role("link", name="Vehicles").click()
    expect(page).to_have_title("Vehicles · Autocharge supervision")
    page.get_by_role("link", name="FT-123-ER").click()
    expect(page).to_have_title("FT-123-ER · Vehicles · Autocharge supervision")

    today = f"{timezone.localdate():%d/%m}"
    expect(
        page.get_by_test_id("chart-days").locator(f'rect[data-label="{today}"]')
    ).to_have_attribute("data-value", "20.500")
    month = f"{timezone.localdate():%m/%Y}"
    expect(
        page.get_by_test_id("chart-months").locator(f'rect[data-label="{month}"]')
    ).to_have_attribute("data-value", "20.500")
    screenshot(page, "vehicle")
    page.get_by_text("Show the figures as a table").first.click()
    expect(page.get_by_role("cell", name="20.5").first).to_be_visible()


def test_a_report_csv_holds_the_right_totals_per_usage(
    page, server_url, manager, depot, vehicle, screenshot
):
    BadgeFactory(company=depot.company, vehicle=vehicle, rfid="VID:A014310E004E")
    personal_car = VehicleFactory(company=depot.company, license_plate="GH-456-IJ")
    BadgeFactory(
        company=depot.company,
        vehicle=personal_car,
        rfid="VID:A014310E0055",
        usage=BadgeUsage.PERSONAL,
    )
    charge(server_url, depot.charge_point_id, "VID:A014310E004E", energy_wh=12_000)
    charge(server_url, depot.charge_point_id, "VID:A014310E004E", meter_start=0, energy_wh=6_250)
    charge(server_url, depot.charge_point_id, "VID:A014310E0055", energy_wh=7_000)

    sign_in(page)
    page.get_by_role("link", name="Reports").click()
    today = timezone.localdate().isoformat()
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To (included)").fill(today)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("report-table")).to_contain_text("GH-456-IJ")
    screenshot(page, "report")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"energy-report_{today}_{today}.csv"
    with open(download.path(), newline="") as downloaded:
        lines = list(csv.reader(downloaded))
    assert lines[1:] == [
        [depot.company.name, "FT-123-ER", "Professional", "2", "18.250", "", ""],
        [depot.company.name, "GH-456-IJ", "Personal", "1", "7.000", "", ""],
        ["Total", "", "Personal", "1", "7.000", "", ""],
        ["Total", "", "Professional", "2", "18.250", "", ""],
        ["Total", "", "All usages", "3", "25.250", "", ""],
    ]  # no tariff: no cost


def test_seed_procedure_rejected_vid_in_the_log_to_a_badge_then_accepted(
    page, server_url, manager, depot, vehicle
):
    unknown = "VID:A014310E0ABC"
    assert charge(server_url, depot.charge_point_id, unknown).authorize_status == "Invalid"

    sign_in(page)
    page.get_by_role("link", name="Stations").click()
    page.get_by_role("link", name="PORTAL-DEPOT-1").click()
    page.get_by_label("Status").select_option("Rejected")
    page.get_by_label("Id tag contains").fill("0ABC")
    page.get_by_role("button", name="Filter").click()
    log = page.get_by_test_id("ocpp-log")
    expect(log.get_by_role("row")).to_have_count(2)  # the heading and the refused Authorize
    log.get_by_role("link", name="Create badge").click()

    # The admin's badge form, pre-filled as the seed says; the company is the manager's.
    expect(page.locator("#id_rfid")).to_have_value(unknown)
    expect(page.locator("#id_visual_number")).to_have_value("A014310E0ABC")
    expect(page.locator("#id_state")).to_have_value("enabled")
    expect(page.locator("#id_usage")).to_have_value("professional")
    expect(page.locator("#id_mode")).to_have_value("vehicle")
    expect(page.locator("#id_company")).to_have_value(str(depot.company.pk))
    page.locator("[aria-labelledby='select2-id_vehicle-container']").click()
    page.locator(".select2-search__field").fill("FT-123")
    page.locator(".select2-results__option", has_text="FT-123-ER").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    badge = Badge.objects.get(rfid=unknown)
    assert (badge.vehicle, badge.description) == (vehicle, "Autocharge badge, vehicle FT-123-ER")
    assert charge(server_url, depot.charge_point_id, unknown).authorize_status == "Accepted"
