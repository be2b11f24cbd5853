"""Each server process answers a tag it accepted a moment ago from memory; a change to the badge
made through any process reaches every process's memory within a second."""

import time

from ocpp.v16 import call

from badges.models import Badge, BadgeState
from ocpp_gateway.models import OcppMessage
from tests.e2e.stations import Api, staff_token, station_online, wait_for
from tests.factories import BadgeFactory, StationFactory

MAC_TAG = "VID:A014310E004E"


def test_a_badge_disabled_through_one_process_is_refused_within_a_second_by_another(
    server_url, second_server_url, transactional_db
):
    station = StationFactory(charge_point_id="E2E-CACHE")
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)
    api = Api(server_url, staff_token())
    with station_online(second_server_url, station.charge_point_id) as (online, thread):

        def authorize() -> str:
            return thread.run(online.call(call.Authorize(id_tag=MAC_TAG))).id_tag_info["status"]

        assert authorize() == "Accepted"
        time.sleep(0.5)  # the process's cache starts with its first Authorize, live in 0.2 s
        assert authorize() == "Accepted"
        # Behind the services' back (a raw UPDATE): the process answers from its memory.
        Badge.objects.filter(pk=badge.pk).update(state=BadgeState.DISABLED)
        assert authorize() == "Accepted"
        Badge.objects.filter(pk=badge.pk).update(state=BadgeState.ENABLED)

        status, _ = api.patch(f"/badges/{badge.pk}/", {"state": "disabled"})  # the first process
        assert status == 200
        time.sleep(1)
        assert authorize() == "Blocked"

    # Acceptances from memory are logged like the others; the refusal keeps its reason.
    def logged() -> list[OcppMessage] | None:
        rows = OcppMessage.objects.filter(direction="in", action="Authorize").order_by("created_at")
        return list(rows) if len(rows) == 4 else None

    rows = wait_for(logged)
    assert [(row.status, row.reason) for row in rows] == [
        ("Accepted", "accepted"),
        ("Accepted", "accepted"),
        ("Accepted", "accepted"),
        ("Rejected", "badge_disabled"),
    ]
