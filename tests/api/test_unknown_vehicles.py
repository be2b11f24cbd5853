"""The unknown-vehicle inbox: list, filters, enrol and dismiss; the shared-MAC model lines and
the acknowledgement they ask of badge writes."""

from uuid import UUID, uuid4

import pytest

from badges.models import Badge, InboxStatus, SharedMacModel, UnknownVehicle
from stations.enrolment import authorization_request
from tests.factories import BadgeFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/unknown-vehicles/"
BADGES = "/api/v1/badges/"
SHARED = "/api/v1/shared-mac-models/"
ENTRY_FIELDS = {
    "id",
    "company",
    "mac",
    "id_tag",
    "first_seen_at",
    "last_seen_at",
    "attempts",
    "last_reason",
    "stations",
    "status",
    "vendor_hint",
    "locally_administered",
    "badge",
    "dismissed_reason",
    "log_entries",
}
VID = "VID:A014310E004E"
APPLE_VID = "VID:3C2EFF000001"  # an OUI registered to Apple, Inc.


def present(id_tag: str, station, *, log_entry_id: UUID | None = None):
    """What the gateway does when a station sends Authorize: decide, and record the refusal."""
    return authorization_request(id_tag=id_tag, station=station, log_entry_id=log_entry_id)


def entry_of(id_tag: str = VID) -> UnknownVehicle:
    return UnknownVehicle.objects.get(id_tag=id_tag)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def station():
    return StationFactory(charge_point_id="CP-DEPOT-1")


@pytest.fixture
def vehicle(station):
    """A vehicle of the station's company: enrolled, it may charge there."""
    return VehicleFactory(company=station.company, license_plate="FT-123-ER")


class TestList:
    def test_an_unknown_vid_presented_at_stations_is_listed_with_every_field(self, api, station):
        other = StationFactory(company=station.company, charge_point_id="CP-OTHER-9")
        first, second, third = uuid4(), uuid4(), uuid4()
        present("vid:a0:14:31:0e:00:4e", station, log_entry_id=first)
        present(VID, other, log_entry_id=second)
        present(VID, station, log_entry_id=third)

        response = api.get(URL)

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert set(row) == ENTRY_FIELDS
        entry = entry_of()
        assert (row["id"], row["company"]) == (entry.pk, station.company_id)
        assert (row["mac"], row["id_tag"]) == ("A014310E004E", VID)
        assert row["attempts"] == 3
        assert row["last_reason"] == "unknown_badge"
        assert row["status"] == "open"
        assert row["vendor_hint"] == ""
        assert row["locally_administered"] is False
        assert (row["badge"], row["dismissed_reason"]) == (None, "")
        # Distinct, the most recently seen first.
        assert row["stations"] == ["CP-DEPOT-1", "CP-OTHER-9"]
        assert row["log_entries"] == [str(third), str(second), str(first)]
        assert row["first_seen_at"] < row["last_seen_at"]

    def test_the_vendor_hint_names_the_registered_organisation(self, api, station):
        present(APPLE_VID, station)

        [row] = api.get(URL).json()["results"]

        assert row["vendor_hint"] == "Apple, Inc."

    def test_a_randomised_mac_is_flagged_locally_administered(self, api, station):
        present("VID:0A14310E004E", station)

        [row] = api.get(URL).json()["results"]

        assert row["locally_administered"] is True

    def test_log_entries_are_the_newest_twenty_and_skip_unlogged_sightings(self, api, station):
        logged = [uuid4() for _ in range(22)]
        for log_entry_id in logged:
            present(VID, station, log_entry_id=log_entry_id)
        present(VID, station)  # no log entry (a test, or the log row was not written)

        [row] = api.get(URL).json()["results"]

        assert row["attempts"] == 23
        assert row["log_entries"] == [str(uuid) for uuid in reversed(logged[-20:])]
        assert row["stations"] == ["CP-DEPOT-1"]

    def test_entries_are_listed_most_recently_seen_first(self, api, station):
        present(VID, station)
        present(APPLE_VID, station)

        response = api.get(URL)

        assert ids(response) == [entry_of(APPLE_VID).pk, entry_of(VID).pk]

    def test_a_known_badge_refused_elsewhere_is_not_in_the_inbox(self, api, station):
        BadgeFactory(rfid=VID)  # of another company: not permitted at this station

        assert not present(VID, station).accepted

        assert api.get(URL).json()["results"] == []

    def test_retrieving_an_entry(self, api, station):
        present(VID, station, log_entry_id=(logged := uuid4()))

        response = api.get(f"{URL}{entry_of().pk}/")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == ENTRY_FIELDS
        assert (body["stations"], body["log_entries"]) == (["CP-DEPOT-1"], [str(logged)])

    def test_a_page_of_twenty_entries_costs_a_bounded_number_of_queries(
        self, api, station, django_assert_max_num_queries
    ):
        other = StationFactory(company=station.company)
        for n in range(20):
            id_tag = f"VID:A01431{n + 1:06X}"
            present(id_tag, station, log_entry_id=uuid4())
            present(id_tag, other, log_entry_id=uuid4())
            present(id_tag, station)

        # Token and user, count, page, latest sighting per station, newest logged sightings.
        with django_assert_max_num_queries(5):
            response = api.get(URL)

        rows = response.json()["results"]
        assert len(rows) == 20
        assert all(len(row["stations"]) == 2 for row in rows)
        assert all(len(row["log_entries"]) == 2 for row in rows)

    def test_the_inbox_is_read_only_through_the_list(self, api):
        response = api.post(URL, {"mac": "A014310E004E", "id_tag": VID}, format="json")

        assert response.status_code == 405
        assert not UnknownVehicle.objects.exists()


class TestFilters:
    def test_filtering_by_status(self, api, station, vehicle):
        present(VID, station)
        present(APPLE_VID, station)
        api.post(f"{URL}{entry_of(APPLE_VID).pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert ids(api.get(URL, {"status": "open"})) == [entry_of(VID).pk]
        assert ids(api.get(URL, {"status": "enrolled"})) == [entry_of(APPLE_VID).pk]
        assert ids(api.get(URL, {"status": "dismissed"})) == []

    def test_filtering_by_station_lists_entries_seen_there_once_each(self, api, station):
        other = StationFactory()
        present(VID, station)
        present(VID, station)
        present(APPLE_VID, other)

        assert ids(api.get(URL, {"station": station.pk})) == [entry_of(VID).pk]
        assert ids(api.get(URL, {"station": other.pk})) == [entry_of(APPLE_VID).pk]

    def test_an_invalid_status_or_station_is_a_400(self, api):
        assert api.get(URL, {"status": "lost"}).status_code == 400
        assert api.get(URL, {"station": 999_999}).status_code == 400


class TestEnrol:
    def test_enrolling_creates_the_badge_and_the_vehicle_is_accepted_next_time(
        self, api, superuser, station, vehicle
    ):
        present(VID, station)
        entry = entry_of()

        response = api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 201, response.json()
        body = response.json()
        badge = Badge.objects.get()
        assert body["id"] == badge.pk
        assert body["warnings"] == []
        assert (body["rfid"], body["vehicle"], body["company"]) == (
            VID,
            vehicle.pk,
            vehicle.company_id,
        )
        assert (body["enrolled_via"], body["enrolled_by"]) == ("inbox", "admin")
        assert "acknowledge_shared_mac" not in body
        assert (badge.rfid, badge.vehicle, badge.enrolled_via) == (VID, vehicle, "inbox")
        assert badge.enrolled_by == superuser
        entry.refresh_from_db()
        assert (entry.status, entry.badge, entry.resolved_by) == ("enrolled", badge, superuser)
        decision = present(VID, station)
        assert (decision.status, decision.reason) == ("Accepted", "accepted")
        assert decision.vehicle == vehicle

    def test_a_second_mac_for_the_vehicle_comes_with_a_warning(self, api, station, vehicle):
        BadgeFactory(rfid="VID:A0143100AAAA", company=vehicle.company, vehicle=vehicle)
        present(VID, station)

        response = api.post(f"{URL}{entry_of().pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 201, response.json()
        [warning] = response.json()["warnings"]
        assert "FT-123-ER" in warning
        assert "VID:A0143100AAAA" in warning
        assert Badge.objects.filter(vehicle=vehicle).count() == 2

    def test_a_shared_mac_model_is_refused_without_acknowledgement(self, api, station, vehicle):
        SharedMacModel.objects.create(make="renault", model="kangoo")
        present(VID, station)
        entry = entry_of()

        response = api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 400
        [message] = response.json()["acknowledge_shared_mac"]
        assert "renault kangoo vehicles are known to send a shared" in message
        assert not Badge.objects.exists()
        entry.refresh_from_db()
        assert entry.status == "open"

    def test_a_shared_mac_model_is_enrolled_once_acknowledged(self, api, station, vehicle):
        SharedMacModel.objects.create(make="Renault")
        present(VID, station)

        response = api.post(
            f"{URL}{entry_of().pk}/enrol/",
            {"vehicle": vehicle.pk, "acknowledge_shared_mac": True},
            format="json",
        )

        assert response.status_code == 201, response.json()
        assert Badge.objects.get().vehicle == vehicle

    def test_an_entry_already_enrolled_is_a_409(self, api, station, vehicle):
        present(VID, station)
        entry = entry_of()
        api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json")
        another = VehicleFactory(company=vehicle.company)

        response = api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": another.pk}, format="json")

        assert response.status_code == 409
        assert response.json() == {"detail": f"{VID} is already enrolled."}
        assert Badge.objects.get().vehicle == vehicle

    def test_an_unknown_vehicle_id_is_a_400(self, api, station):
        present(VID, station)

        response = api.post(f"{URL}{entry_of().pk}/enrol/", {"vehicle": 999_999}, format="json")

        assert response.status_code == 400
        assert "vehicle" in response.json()
        assert not Badge.objects.exists()

    def test_a_missing_vehicle_is_a_400(self, api, station):
        present(VID, station)

        response = api.post(f"{URL}{entry_of().pk}/enrol/", {}, format="json")

        assert response.status_code == 400
        assert response.json()["vehicle"] == ["This field is required."]

    def test_enrolling_a_missing_entry_is_a_404(self, api, vehicle):
        response = api.post(f"{URL}999999/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 404

    def test_a_dismissed_entry_may_still_be_enrolled(self, api, station, vehicle):
        present(VID, station)
        entry = entry_of()
        api.post(f"{URL}{entry.pk}/dismiss/", {"reason": "visitor"}, format="json")

        response = api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        assert response.status_code == 201, response.json()
        entry.refresh_from_db()
        assert entry.status == "enrolled"


class TestDismiss:
    def test_dismissing_records_the_reason_and_returns_the_entry(self, api, superuser, station):
        present(VID, station)
        entry = entry_of()

        response = api.post(f"{URL}{entry.pk}/dismiss/", {"reason": " A visitor "}, format="json")

        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == ENTRY_FIELDS
        assert (body["id"], body["status"], body["dismissed_reason"]) == (
            entry.pk,
            "dismissed",
            "A visitor",
        )
        assert body["stations"] == ["CP-DEPOT-1"]
        entry.refresh_from_db()
        assert (entry.status, entry.dismissed_reason) == ("dismissed", "A visitor")
        assert entry.resolved_by == superuser
        assert entry.resolved_at is not None

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_an_empty_reason_is_a_400(self, api, station, reason):
        present(VID, station)
        entry = entry_of()

        response = api.post(f"{URL}{entry.pk}/dismiss/", {"reason": reason}, format="json")

        assert response.status_code == 400
        assert response.json() == {"reason": ["Say why this vehicle is dismissed."]}
        entry.refresh_from_db()
        assert (entry.status, entry.dismissed_reason) == ("open", "")

    def test_a_missing_reason_is_a_400(self, api, station):
        present(VID, station)

        response = api.post(f"{URL}{entry_of().pk}/dismiss/", {}, format="json")

        assert response.status_code == 400
        assert "reason" in response.json()
        assert entry_of().status == "open"

    def test_dismissing_an_enrolled_entry_is_a_409(self, api, station, vehicle):
        present(VID, station)
        entry = entry_of()
        api.post(f"{URL}{entry.pk}/enrol/", {"vehicle": vehicle.pk}, format="json")

        response = api.post(f"{URL}{entry.pk}/dismiss/", {"reason": "visitor"}, format="json")

        assert response.status_code == 409
        entry.refresh_from_db()
        assert (entry.status, entry.dismissed_reason) == ("enrolled", "")

    def test_a_dismissed_vehicle_seen_again_stays_dismissed_and_counts(self, api, station):
        present(VID, station)
        api.post(f"{URL}{entry_of().pk}/dismiss/", {"reason": "visitor"}, format="json")

        present(VID, station)

        assert api.get(URL, {"status": "open"}).json()["results"] == []
        [row] = api.get(URL, {"status": "dismissed"}).json()["results"]
        assert (row["mac"], row["attempts"]) == ("A014310E004E", 2)


class TestPermissions:
    def test_the_view_permission_lists_the_inbox(self, staff_client, station):
        present(VID, station)
        client = staff_client("badges.view_unknownvehicle")

        assert client.get(URL).status_code == 200

    def test_listing_without_the_view_permission_is_a_403(self, staff_client):
        assert staff_client().get(URL).status_code == 403

    def test_enrolling_needs_the_change_and_the_add_badge_permissions(
        self, staff_client, station, vehicle
    ):
        present(VID, station)
        url = f"{URL}{entry_of().pk}/enrol/"
        company = station.company
        only_change = staff_client(
            "badges.change_unknownvehicle", username="change", company=company
        )
        only_add = staff_client("badges.add_badge", username="add", company=company)
        both = staff_client(
            "badges.change_unknownvehicle", "badges.add_badge", username="both", company=company
        )

        assert only_change.post(url, {"vehicle": vehicle.pk}, format="json").status_code == 403
        assert only_add.post(url, {"vehicle": vehicle.pk}, format="json").status_code == 403
        assert not Badge.objects.exists()
        assert both.post(url, {"vehicle": vehicle.pk}, format="json").status_code == 201
        assert Badge.objects.get().enrolled_by.username == "both"

    def test_dismissing_needs_the_change_permission(self, staff_client, station):
        present(VID, station)
        url = f"{URL}{entry_of().pk}/dismiss/"
        company = station.company
        viewer = staff_client(
            "badges.view_unknownvehicle", "badges.add_badge", username="v", company=company
        )
        changer = staff_client("badges.change_unknownvehicle", username="c", company=company)

        assert viewer.post(url, {"reason": "visitor"}, format="json").status_code == 403
        assert entry_of().status == InboxStatus.OPEN
        assert changer.post(url, {"reason": "visitor"}, format="json").status_code == 200
        assert entry_of().status == InboxStatus.DISMISSED

    def test_anonymous_actions_get_401(self, anonymous_client, station):
        present(VID, station)

        response = anonymous_client.post(
            f"{URL}{entry_of().pk}/dismiss/", {"reason": "visitor"}, format="json"
        )

        assert response.status_code == 401
        assert entry_of().status == "open"


class TestBadgeSharedMacAcknowledgement:
    @pytest.fixture(autouse=True)
    def shared_line(self):
        return SharedMacModel.objects.create(make="Renault", model="Kangoo")

    def badge_data(self, vehicle, **overrides) -> dict:
        return {"rfid": VID, "company": vehicle.company_id, "vehicle": vehicle.pk, **overrides}

    def test_a_vid_badge_for_a_shared_mac_model_is_refused_without_acknowledgement(
        self, api, vehicle
    ):
        response = api.post(BADGES, self.badge_data(vehicle), format="json")

        assert response.status_code == 400
        [message] = response.json()["acknowledge_shared_mac"]
        assert message.startswith("Renault Kangoo vehicles are known to send a shared")
        assert not Badge.objects.exists()

    def test_it_is_created_once_acknowledged_and_the_flag_is_not_echoed(self, api, vehicle):
        response = api.post(
            BADGES, self.badge_data(vehicle, acknowledge_shared_mac=True), format="json"
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert "acknowledge_shared_mac" not in body
        assert (body["enrolled_via"], body["enrolled_by"]) == ("manual", None)
        assert Badge.objects.get().vehicle == vehicle

    def test_an_rfid_card_for_a_shared_mac_model_needs_no_acknowledgement(self, api, vehicle):
        response = api.post(BADGES, self.badge_data(vehicle, rfid="04A1B2C3D4"), format="json")

        assert response.status_code == 201, response.json()

    def test_a_vehicle_of_another_model_needs_no_acknowledgement(self, api):
        zoe = VehicleFactory(make="Renault", model="Zoe")

        response = api.post(BADGES, self.badge_data(zoe), format="json")

        assert response.status_code == 201, response.json()

    def test_moving_a_vid_badge_to_a_shared_mac_vehicle_needs_acknowledgement(self, api):
        zoe = VehicleFactory(make="Renault", model="Zoe")
        kangoo = VehicleFactory(company=zoe.company)
        badge = BadgeFactory(rfid=VID, company=zoe.company, vehicle=zoe)

        refused = api.patch(f"{BADGES}{badge.pk}/", {"vehicle": kangoo.pk}, format="json")
        badge.refresh_from_db()
        assert refused.status_code == 400
        assert "acknowledge_shared_mac" in refused.json()
        assert badge.vehicle == zoe

        accepted = api.patch(
            f"{BADGES}{badge.pk}/",
            {"vehicle": kangoo.pk, "acknowledge_shared_mac": True},
            format="json",
        )
        badge.refresh_from_db()
        assert accepted.status_code == 200, accepted.json()
        assert badge.vehicle == kangoo

    def test_changing_the_mac_of_a_shared_mac_vehicle_badge_needs_acknowledgement(
        self, api, vehicle
    ):
        badge = BadgeFactory(rfid=VID, company=vehicle.company, vehicle=vehicle)

        response = api.patch(f"{BADGES}{badge.pk}/", {"rfid": APPLE_VID}, format="json")

        assert response.status_code == 400
        assert "acknowledge_shared_mac" in response.json()
        badge.refresh_from_db()
        assert badge.rfid == VID

    def test_disabling_an_existing_shared_mac_badge_needs_no_acknowledgement(self, api, vehicle):
        badge = BadgeFactory(rfid=VID, company=vehicle.company, vehicle=vehicle)

        response = api.patch(f"{BADGES}{badge.pk}/", {"state": "disabled"}, format="json")

        assert response.status_code == 200, response.json()
        badge.refresh_from_db()
        assert badge.state == "disabled"

    def test_badges_show_how_and_by_whom_they_were_enrolled(self, api, superuser, station):
        kangoo = VehicleFactory(company=station.company)
        present(VID, station)
        api.post(
            f"{URL}{entry_of().pk}/enrol/",
            {"vehicle": kangoo.pk, "acknowledge_shared_mac": True},
            format="json",
        )
        BadgeFactory(rfid=APPLE_VID)

        rows = {row["rfid"]: row for row in api.get(BADGES).json()["results"]}

        assert (rows[VID]["enrolled_via"], rows[VID]["enrolled_by"]) == ("inbox", "admin")
        assert (rows[APPLE_VID]["enrolled_via"], rows[APPLE_VID]["enrolled_by"]) == (
            "manual",
            None,
        )

    def test_enrolled_via_and_enrolled_by_are_read_only(self, api, vehicle, superuser):
        response = api.post(
            BADGES,
            self.badge_data(
                vehicle,
                rfid="04A1B2C3D4",
                enrolled_via="pairing",
                enrolled_by=superuser.pk,
            ),
            format="json",
        )

        assert response.status_code == 201, response.json()
        badge = Badge.objects.get()
        assert (badge.enrolled_via, badge.enrolled_by) == ("manual", None)


class TestSharedMacModels:
    def test_the_migrations_seed_the_public_list(self, api):
        rows = api.get(SHARED).json()["results"]

        assert {"make": "Volkswagen", "model": "ID.3"} in [
            {"make": row["make"], "model": row["model"]} for row in rows
        ]
        assert len(rows) == SharedMacModel.objects.count() > 0

    def test_creating_listing_updating_and_deleting_a_model_line(self, api):
        created = api.post(SHARED, {"make": "Renault", "model": "Kangoo"}, format="json")

        assert created.status_code == 201, created.json()
        line = SharedMacModel.objects.get(make="Renault")
        assert created.json() == {"id": line.pk, "make": "Renault", "model": "Kangoo", "note": ""}
        assert created.json() in api.get(SHARED).json()["results"]

        updated = api.patch(f"{SHARED}{line.pk}/", {"note": "same EVCCID"}, format="json")

        assert updated.status_code == 200
        line.refresh_from_db()
        assert line.note == "same EVCCID"
        assert api.delete(f"{SHARED}{line.pk}/").status_code == 204
        assert not SharedMacModel.objects.filter(make="Renault").exists()

    def test_a_make_alone_covers_every_model(self, api, vehicle):
        response = api.post(SHARED, {"make": "renault"}, format="json")

        assert response.status_code == 201, response.json()
        assert SharedMacModel.objects.get(make="renault").model == ""
        refused = api.post(
            BADGES,
            {"rfid": VID, "company": vehicle.company_id, "vehicle": vehicle.pk},
            format="json",
        )
        assert refused.status_code == 400
        assert "acknowledge_shared_mac" in refused.json()

    def test_a_duplicate_line_is_refused(self, api):
        before = SharedMacModel.objects.count()

        response = api.post(SHARED, {"make": "Cupra", "model": "Born"}, format="json")

        assert response.status_code == 400
        assert SharedMacModel.objects.count() == before

    def test_a_line_needs_a_make(self, api):
        before = SharedMacModel.objects.count()

        response = api.post(SHARED, {"model": "Kangoo"}, format="json")

        assert response.status_code == 400
        assert "make" in response.json()
        assert SharedMacModel.objects.count() == before

    def test_writing_needs_the_add_permission(self, staff_client):
        viewer = staff_client("badges.view_sharedmacmodel")

        assert viewer.get(SHARED).status_code == 200
        assert viewer.post(SHARED, {"make": "Renault"}, format="json").status_code == 403
        assert not SharedMacModel.objects.filter(make="Renault").exists()
