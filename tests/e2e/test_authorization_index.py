"""Each server process answers Authorize from its authorization index (every badge and station
in memory), refusals included; a change made through any process reaches every process's index
within a second; a vehicle refused from memory is recorded all the same."""

import time

from django.db import transaction
from ocpp.v16 import call

from badges import access
from badges.models import Badge, BadgeState, UnknownVehicle, VehicleSighting
from ocpp_gateway.models import OcppMessage
from tests.e2e.stations import Api, staff_token, station_online, wait_for
from tests.factories import BadgeFactory, StationFactory

MAC_TAG = "VID:A014310E004E"
UNKNOWN_TAG = "VID:0A1B2C3D4E5F"


def indexed() -> None:
    """Rows the factories wrote behind the services' back: announced as the services do, and
    given the servers' indexes the second they take to read them."""
    with transaction.atomic():
        access.authorization_changed()
    time.sleep(1)


def test_a_badge_disabled_through_one_process_is_refused_within_a_second_by_another(
    server_url, second_server_url, transactional_db
):
    station = StationFactory(charge_point_id="E2E-INDEX")
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)
    indexed()
    api = Api(server_url, staff_token())
    with station_online(second_server_url, station.charge_point_id) as (online, thread):

        def authorize(tag: str = MAC_TAG) -> str:
            return thread.run(online.call(call.Authorize(id_tag=tag))).id_tag_info["status"]

        assert authorize() == "Accepted"
        # Behind the services' back (a raw UPDATE): the process answers from its memory.
        Badge.objects.filter(pk=badge.pk).update(state=BadgeState.DISABLED)
        assert authorize() == "Accepted"
        Badge.objects.filter(pk=badge.pk).update(state=BadgeState.ENABLED)

        status, _ = api.patch(f"/badges/{badge.pk}/", {"state": "disabled"})  # the first process
        assert status == 200
        time.sleep(1)
        assert authorize() == "Blocked"

        # A badge created through the first process is accepted by the second within a second.
        status, created = api.post(
            "/badges/",
            {"rfid": "RFID-0042", "company": station.company_id, "mode": "company"},
        )
        assert status == 201, created
        time.sleep(1)
        assert authorize("RFID-0042") == "Accepted"

    # Decisions from memory are logged like the others, with their reasons.
    def logged() -> list[OcppMessage] | None:
        rows = OcppMessage.objects.filter(direction="in", action="Authorize").order_by("created_at")
        return list(rows) if len(rows) == 4 else None

    rows = wait_for(logged)
    assert [(row.status, row.reason) for row in rows] == [
        ("Accepted", "accepted"),
        ("Accepted", "accepted"),
        ("Rejected", "badge_disabled"),
        ("Accepted", "accepted"),
    ]


def test_an_unknown_vehicle_refused_from_memory_is_in_the_inbox_with_each_sighting(
    server_url, transactional_db
):
    station = StationFactory(charge_point_id="E2E-INDEX-UNKNOWN")
    indexed()
    with station_online(server_url, station.charge_point_id) as (online, thread):
        for _plug_in in range(2):
            answer = thread.run(online.call(call.Authorize(id_tag=UNKNOWN_TAG)))
            assert answer.id_tag_info["status"] == "Invalid"

    entry = wait_for(lambda: UnknownVehicle.objects.filter(mac="0A1B2C3D4E5F", attempts=2).first())
    assert entry.company_id == station.company_id
    sightings = wait_for(lambda: list(VehicleSighting.objects.filter(unknown_vehicle=entry)))
    assert len(sightings) == 2
    logged = set(
        OcppMessage.objects.filter(direction="in", action="Authorize").values_list("id", flat=True)
    )
    assert {sighting.log_entry_id for sighting in sightings} == logged
    assert {(s.station_id, s.reason) for s in sightings} == {(station.pk, "unknown_badge")}
