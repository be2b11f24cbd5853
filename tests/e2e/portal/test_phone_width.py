"""The dashboard and the station pages on a 390 px phone (headless Chromium, the real server):
nothing wider than the screen, so the page never scrolls sideways; wide tables scroll inside
their own box. In English and in French (longer words)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ocpp_gateway.models import Direction, LogStatus, MessageType, OcppMessage
from stations.enrolment import authorization_request
from stations.models import ConnectionState, Connector, Station
from stations.services import SampledValue, meter_values_record, session_start
from tests.e2e.portal.test_browser import PASSWORD, fast_password_hashing  # noqa: F401
from tests.factories import BadgeFactory, StationFactory, VehicleFactory
from tests.portal.conftest import make_staff

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
# What sticks out of the screen and is not inside a box that scrolls or clips it.
WIDER_THAN_THE_SCREEN = """
[...document.querySelectorAll("*")]
  .filter((element) => {
    if (element.getBoundingClientRect().right <= 390) return false;
    for (let box = element.parentElement; box; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return false;
    }
    return true;
  })
  .slice(0, 5)
  .map((element) => `${element.tagName}.${element.className}`)
"""


@pytest.fixture
def busy_depot(transactional_db):
    """A station with what makes pages wide: long names, connectors, a session charging,
    refusals of long tags, a message log."""
    station = StationFactory(
        charge_point_id="KEMPOWER-SATELLITE-DEPOT-NORD-0001",
        name="Dépôt de maintenance des véhicules utilitaires, quai de déchargement numéro 12",
        vendor="Kempower",
        model="Satellite S-Series 2xCCS DC",
    )
    Station.objects.filter(pk=station.pk).update(
        connection_state=ConnectionState.CONNECTED, last_heartbeat_at=timezone.now()
    )
    for connector_id in (1, 2):
        Connector.objects.create(
            station=station, connector_id=connector_id, status="Charging", error_code="NoError"
        )
    vehicle = VehicleFactory(company=station.company, license_plate="FT-123-ER")
    badge = BadgeFactory(company=station.company, vehicle=vehicle, rfid="VID:A014310E004E")
    session, _ = session_start(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        meter_start=1_000,
        started_at=timezone.now() - timedelta(minutes=15),
    )
    meter_values_record(
        station=station,
        connector_id=1,
        transaction_id=session.transaction_id,
        samples=[SampledValue(timestamp=timezone.now(), value="8500", unit="Wh")],
    )
    for mac in ("A014310E0ABC", "02AABBCCDDEE", "001A2B3C4D5E"):
        authorization_request(id_tag=f"VID:{mac}", station=station, connector_id=2)
    for number in range(5):
        OcppMessage.objects.create(
            station=station,
            charge_point_id=station.charge_point_id,
            direction=Direction.IN,
            message_type=MessageType.CALL,
            action="Authorize",
            status=LogStatus.REJECTED,
            id_tag=f"VID:A014310E0A{number:02}",
            reason="unknown_badge",
            payload={"idTag": f"VID:A014310E0A{number:02}"},
            created_at=timezone.now(),
        )
    user = make_staff("phone-manager", station.company)
    user.set_password(PASSWORD)
    user.save()
    return station


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_no_page_scrolls_sideways_at_390_px(browser, server_url, busy_depot, locale, screenshot):
    context = browser.new_context(
        base_url=server_url.replace("ws://", "http://"),
        viewport=PHONE,
        locale=locale,
        extra_http_headers={"Accept-Language": locale[:2]},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("#id_username").fill("phone-manager")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/")
        pages = {
            "dashboard": "/",
            "stations": "/stations/",
            "station": f"/stations/{busy_depot.pk}/",
            "sessions": "/sessions/",
            "refusals": "/refusals/",
            "vehicles": "/vehicles/",
        }
        for name, path in pages.items():
            page.goto(path)
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                screenshot(page, f"phone-{name}-{locale}")
            assert width <= PHONE["width"], (
                f"{path} in {locale} is {width} px wide: {page.evaluate(WIDER_THAN_THE_SCREEN)}"
            )
    finally:
        context.close()
