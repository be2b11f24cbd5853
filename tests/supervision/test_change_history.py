"""``supervision.history``: the source and user each change is recorded with, outside HTTP
requests (OCPP pairing, services, commands), and a station's password restored by the
gateway."""

from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from badges.models import Badge
from stations.enrolment import authorization_request, badge_enrol, pairing_open
from stations.services import station_password_push_outcome, station_set_password
from supervision.history import (
    ChangeSource,
    change_source,
    changes_of,
    current_source,
    record_existing_objects,
)
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E004E"


def latest(obj):
    return obj.history.order_by("-history_date", "-history_id").first()


@pytest.fixture
def vehicle():
    return VehicleFactory(license_plate="FT-123-ER")


@pytest.fixture
def user():
    return get_user_model().objects.create_user(username="martin", is_staff=True)


def test_a_badge_made_by_ocpp_pairing_is_recorded_through_pairing_for_who_armed_the_station(
    vehicle, user
):
    station = StationFactory(company=vehicle.company)
    pairing_open(station=station, vehicle=vehicle, opened_by=user)

    authorization_request(id_tag=TAG, station=station)

    record = latest(Badge.objects.get(rfid=TAG))
    assert (record.history_type, record.history_source, record.history_user) == (
        "+",
        "pairing",
        user,
    )
    assert current_source() == ChangeSource.SYSTEM  # the pairing's context ended with it


def test_an_enrolment_by_a_service_is_recorded_through_enrolment_for_the_enroller(vehicle, user):
    badge = badge_enrol(id_tag=TAG, vehicle=vehicle, enrolled_by=user).badge

    record = latest(badge)
    assert (record.history_source, record.history_user) == ("enrolment", user)


def test_a_change_outside_any_request_is_the_system_s_without_a_user():
    badge = BadgeFactory()
    badge.state = "disabled"
    badge.save()

    record = latest(badge)
    assert (record.history_source, record.history_user) == ("system", None)
    assert [change.field for change in changes_of(record, record.prev_record)] == ["state"]


def test_an_inner_source_keeps_the_outer_user_and_ends_with_its_block(user):
    with change_source(ChangeSource.API, user=user):
        with change_source(ChangeSource.ENROLMENT):
            badge = BadgeFactory()
        assert current_source() == ChangeSource.API

    assert (latest(badge).history_source, latest(badge).history_user) == ("enrolment", user)


def test_a_password_the_station_refused_is_recorded_as_restored_without_a_value():
    station = StationFactory()
    station_set_password(station=station, password="the-first-password-1")
    station_set_password(station=station, password="the-second-password-2")

    station_password_push_outcome(
        station=station, taken=False, pushed_at=timezone.now() + timedelta(seconds=1)
    )

    record = latest(station)
    assert (record.history_change_reason, record.history_source) == ("password_restored", "system")
    assert changes_of(record, record.prev_record)[-1].new_display == (
        "password restored: the station refused the new one"
    )


def test_groups_changed_from_the_station_s_side_record_their_stations():
    station = StationFactory()
    kept, left = (AuthorizationGroupFactory(company=station.company) for _ in range(2))
    kept.stations.add(station)
    left.stations.add(station)

    station.authorization_groups.remove(kept)
    station.authorization_groups.clear()
    station.authorization_groups.add(kept)

    for group, stations in ((kept, [[station.pk], [], [station.pk]]), (left, [[station.pk], []])):
        records = list(group.history.order_by("history_date", "history_id"))[1:]
        assert [
            sorted(r.stations.values_list("station_id", flat=True)) for r in records
        ] == stations


@pytest.fixture
def api_client():
    return APIClient()


def test_objects_that_existed_before_the_history_start_it_with_their_values(api_client):
    group = AuthorizationGroupFactory()
    badge = BadgeFactory(company=group.company)
    badge.groups.add(group)
    badge.history.all().delete()  # as before the history existed
    start_history = record_existing_objects("badges", ("Badge", ("groups",)))

    start_history(django_apps, None)
    badge.state = "disabled"
    badge.save()

    api_client.force_authenticate(get_user_model().objects.create_superuser("auditor"))
    changed, started = api_client.get(f"/api/v1/badges/{badge.pk}/history/").json()["results"]
    assert [change["field"] for change in changed["changes"]] == ["state"]
    assert (started["type"], started["source"], started["user"]) == ("started", "system", None)
    assert {"rfid": (None, badge.rfid), "groups": ([], [group.pk])}.items() <= {
        change["field"]: (change["old"], change["new"]) for change in started["changes"]
    }.items()
