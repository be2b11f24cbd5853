"""End to end: the change history of a real server process (uvicorn, ASGI), where the change
context crosses the server's threads: an API change is recorded for the token's user, and a
badge made by pairing at a real station for who armed it."""

import pytest

from badges.models import Badge
from stations.enrolment import pairing_open
from tests.e2e.stations import Api, staff_token
from tests.e2e.test_discovery import UNKNOWN_TAG, charge
from tests.factories import BadgeFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db(transaction=True)


def latest(badge: Badge):
    return badge.history.select_related("history_user").order_by("-history_id").first()


def test_an_api_change_over_http_is_recorded_with_the_token_s_user(server_url):
    badge = BadgeFactory()
    api = Api(server_url, staff_token())

    status, _ = api.patch(f"/badges/{badge.pk}/", {"state": "disabled"})
    assert status == 200
    status, history = api.request("GET", f"/badges/{badge.pk}/history/")

    assert status == 200
    record = latest(badge)
    assert (record.history_source, record.history_user.username) == ("api", "operator")
    assert history["results"][0]["changes"][0]["new"] == "disabled"


def test_a_badge_paired_at_a_real_station_is_recorded_through_pairing(server_url, admin_user):
    depot = StationFactory(charge_point_id="CP-HISTORY-1")
    vehicle = VehicleFactory(company=depot.company)
    pairing_open(station=depot, vehicle=vehicle, opened_by=admin_user)

    assert charge(server_url, depot, UNKNOWN_TAG).authorize_status == "Accepted"

    record = latest(Badge.objects.get(rfid=UNKNOWN_TAG))
    assert (record.history_source, record.history_user) == ("pairing", admin_user)
