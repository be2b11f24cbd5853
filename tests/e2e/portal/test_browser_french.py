"""The portal in French in a real browser: the charts draw their bars (their coordinates were
once written with decimal commas, "x=\"50,24\"", and Chromium drew nothing), statuses read
French, and the report's CSV is what French Excel expects."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.portal.test_browser import PASSWORD, charge
from tests.factories import BadgeFactory, StationFactory, VehicleFactory
from tests.portal.conftest import make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_password_hashing():
    """The server process checks passwords with the project's own hashers: keep them here."""


@pytest.fixture
def depot(transactional_db):
    return StationFactory(charge_point_id="PORTAL-DEPOT-FR", name="Borne rapide du dépôt")


@pytest.fixture
def vehicle(depot):
    return VehicleFactory(company=depot.company, license_plate="FT-123-ER")


@pytest.fixture
def manager(depot):
    user = make_staff("manager", depot.company)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def french_page(browser, server_url):
    """A tab of a browser set to French: it asks for French pages (Accept-Language)."""
    context = browser.new_context(
        base_url=server_url.replace("ws://", "http://"),
        viewport={"width": 1180, "height": 820},
        locale="fr-FR",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in_in_french(page) -> None:
    page.goto("/")
    expect(page).to_have_title("Connexion · Supervision Autocharge")
    page.get_by_label("Nom d’utilisateur").fill("manager")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_title("Tableau de bord · Supervision Autocharge")


def test_a_french_vehicle_page_draws_its_bars_and_a_french_csv_splits_in_excel(
    french_page, server_url, manager, depot, vehicle, screenshot
):
    page = french_page
    BadgeFactory(company=depot.company, vehicle=vehicle, rfid="VID:A014310E004E")
    for meter_start, energy_wh in ((0, 12_345), (50_000, 8_500)):
        charge(
            server_url,
            depot.charge_point_id,
            "VID:A014310E004E",
            meter_start=meter_start,
            energy_wh=energy_wh,
        )

    sign_in_in_french(page)
    page.get_by_role("link", name="Véhicules").click()
    page.get_by_role("link", name="FT-123-ER").click()
    expect(page).to_have_title("FT-123-ER · Véhicules · Supervision Autocharge")

    for chart, label in (("chart-days", "%d/%m"), ("chart-months", "%m/%Y")):
        bar = page.get_by_test_id(chart).locator(
            f'rect[data-label="{timezone.localdate().strftime(label)}"]'
        )
        box = bar.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, chart
    screenshot(page, "vehicle-fr")

    page.get_by_role("link", name="Rapports").click()
    today = timezone.localdate().isoformat()
    page.get_by_label("Du", exact=True).fill(today)
    page.get_by_label("Au (inclus)").fill(today)
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_label("CSV pour")).to_have_value("semicolon")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger en CSV").click()
    with open(download_info.value.path(), "rb") as downloaded:
        content = downloaded.read()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Entreprise;Véhicule;Usage;Sessions;Énergie (kWh);Coût;Devise"
    assert lines[1] == f"{depot.company.name};FT-123-ER;Professionnel;2;20,845;;"
