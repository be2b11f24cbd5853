""" "Create badge" from a refusal in a real browser (headless Chromium, the real server): the
form comes pre-filled with the refusing station's company; choosing the vehicle in its search
box fills the company and provider with the vehicle's; saving creates the badge (no "This
field is required") and, the station being a partner's, its page says why it is still
refused there."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from badges.models import Badge
from ocpp_gateway.admin import new_badge_url
from tests.e2e.portal.test_browser import PASSWORD, fast_password_hashing  # noqa: F401
from tests.factories import CompanyFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db(transaction=True)

VID = "VID:A014310E0ABC"


@pytest.fixture
def page(browser, own_server):
    """A tab on a server of the test's own: the shared server remembers content types (the
    admin's log of the badge added) that the database flush after the test replaces."""
    context = browser.new_context(
        base_url=own_server.url.replace("ws://", "http://"), locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_choosing_the_vehicle_fills_the_company_then_the_badge_is_saved(page):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    partner = StationFactory(
        company=CompanyFactory(name="Dépôt Partenaire"), charge_point_id="CP-PART"
    )
    vehicle = VehicleFactory(
        company=CompanyFactory(name="Transports Martin"), license_plate="FT-123-ER"
    )

    page.goto("/admin/login/")
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(new_badge_url(VID, refused_at=partner.pk))

    company, provider = page.locator("#id_company"), page.locator("#id_provider")
    expect(company).to_have_value(str(partner.company_id))
    expect(provider).to_have_value(str(partner.company_id))

    page.locator(".field-vehicle .select2-selection").click()
    page.locator(".select2-search__field").fill("FT-123")
    page.locator(".select2-results__option", has_text="FT-123-ER").click()

    expect(company).to_have_value(str(vehicle.company_id))
    expect(provider).to_have_value(str(vehicle.company_id))
    expect(page.locator(".field-company .select2-selection")).to_contain_text("Transports Martin")

    page.locator("input[name=_save]").click()

    expect(page).to_have_url(
        re.compile(rf"/admin/badges/badge/\d+/change/\?refused_at={partner.pk}$")
    )
    expect(page.get_by_test_id("station-not-permitted")).to_contain_text(
        "CP-PART belongs to Dépôt Partenaire"
    )
    badge = Badge.objects.get()
    assert (badge.rfid, badge.vehicle, badge.company, badge.provider) == (
        VID,
        vehicle,
        vehicle.company,
        vehicle.company,
    )
