"""The authorization index decides as the database does, from memory; it steps aside for what
it cannot know (a reservation, a pairing window, a badge being changed); refusals it answers
are recorded in batches as the database path records its own."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone

from badges import access
from badges.authorization import authorize
from badges.models import (
    BadgeState,
    Reservation,
    ReservationStatus,
    UnknownVehicle,
    VehicleSighting,
)
from fleet.models import AuthorizationGroup
from stations import authorization_index
from stations.authorization_index import AuthorizationIndex
from stations.enrolment import pairing_open, vehicle_refusal, vehicle_refusals_record
from stations.models import AuthMode, Connector, SecurityEvent, SecurityEventKind
from stations.services import session_start, session_stop, station_save
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    SiteFactory,
    StationFactory,
    VehicleFactory,
    accepted_session,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "VID:0A0B0C0D0E0F"  # a vehicle no badge names


def read(index: AuthorizationIndex) -> AuthorizationIndex:
    index.forget({None})
    index.read()
    return index


# Read by the tests when they say, and answering until then however slow the machine is.
@pytest.fixture
def index() -> AuthorizationIndex:
    return AuthorizationIndex(poll_seconds=0, stale_after=3600)


@pytest.fixture
def world():
    """Stations of two companies (one open to all) and badges in every state a decision
    tells apart."""
    company, other = CompanyFactory(), CompanyFactory()
    station = StationFactory(company=company)
    shared = StationFactory(company=other)  # company's badges enter through a group
    group = AuthorizationGroupFactory(company=company)
    group.stations.add(shared)
    open_station = StationFactory(company=other, auth_mode=AuthMode.OPEN)
    grouped = BadgeFactory(company=company)
    grouped.groups.add(group)
    charging = BadgeFactory(company=company)
    accepted_session(
        station=StationFactory(company=company),
        badge=charging,
        company=company,
        id_tag=charging.rfid,
        vehicle=charging.vehicle,
        started_at=timezone.now(),
    )
    archived = CompanyFactory(archived_at=timezone.now())
    badges = {
        "enabled": BadgeFactory(company=company, expires_at=timezone.now() + timedelta(days=9)),
        "disabled": BadgeFactory(company=company, state=BadgeState.DISABLED),
        "expired": BadgeFactory(company=company, expires_at=timezone.now() - timedelta(days=1)),
        "vehicle inactive": BadgeFactory(
            company=company, vehicle=VehicleFactory(company=company, active=False)
        ),
        "company archived": BadgeFactory(company=archived),
        "in a group": grouped,
        "charging elsewhere": charging,
        "rfid card": BadgeFactory(company=company, rfid="CARD-0001", vehicle=None, mode="company"),
    }
    tags = [badge.rfid for badge in badges.values()]
    tags += ["vid:a0-14-31-0e-00-99", "VID:NOT-A-MAC", "CARD-UNKNOWN", "card-0001"]
    return [station, shared, open_station], tags


def test_every_decision_from_memory_is_the_database_s(index, world):
    stations, tags = world
    read(index)
    for station in stations:
        for tag in tags:
            remembered = index.decision(id_tag=tag, station_id=station.pk)
            decided = authorize(id_tag=tag, station=station)
            assert remembered is not None, (tag, station)
            assert (remembered.status, remembered.reason, remembered.id_tag) == (
                decided.status,
                decided.reason,
                decided.id_tag,
            ), (tag, station.charge_point_id)
            assert remembered.expires_at == decided.expires_at
            assert getattr(remembered.badge, "pk", None) == getattr(decided.badge, "pk", None)


@pytest.fixture
def process_index(monkeypatch):
    """The process's own index, which this process's changes reach on commit; emptied after,
    so the other tests decide through the database."""
    monkeypatch.setattr(authorization_index.index, "stale_after", 3600)
    yield authorization_index.index
    authorization_index.index.stop()


def test_a_change_is_left_to_the_database_until_read_again(
    process_index, django_capture_on_commit_callbacks
):
    index = process_index
    station = StationFactory()
    badge = BadgeFactory(company=station.company)
    read(index)
    assert index.decision(id_tag=badge.rfid, station_id=station.pk).accepted

    badge.state = BadgeState.DISABLED
    with django_capture_on_commit_callbacks(execute=True):
        access.badge_save(badge=badge)
    assert index.decision(id_tag=badge.rfid, station_id=station.pk) is None
    # Any tag it does not know may be the badge just created: the database's too, meanwhile.
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is None

    index.read()
    assert index.decision(id_tag=badge.rfid, station_id=station.pk).reason == "badge_disabled"
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk).reason == (
        "unknown_badge"
    )


def test_sessions_coming_and_going_leave_unknown_tags_refused_from_memory(
    process_index, django_capture_on_commit_callbacks
):
    # A busy fleet starts and stops sessions all day: its unknown vehicles must not all go to
    # the database meanwhile (a start or a stop gives no badge a new tag).
    index = process_index
    station = StationFactory()
    badge = BadgeFactory(company=station.company)
    read(index)
    with django_capture_on_commit_callbacks(execute=True):
        session, _ = session_start(
            station=station,
            connector_id=1,
            id_tag=badge.rfid,
            meter_start=0,
            started_at=timezone.now(),
        )
    assert index.decision(id_tag=badge.rfid, station_id=station.pk) is None  # its sessions
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk).reason == "unknown_badge"

    # A badge edited meanwhile (perhaps renamed to that tag): unknown tags wait for its read.
    other = BadgeFactory(company=station.company)
    other.rfid = "VID:0A0B0C0D0E11"
    with django_capture_on_commit_callbacks(execute=True):
        access.badge_save(badge=other)
        session_stop(
            station=station,
            transaction_id=session.transaction_id,
            meter_stop=1000,
            stopped_at=timezone.now(),
        )
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk) is None
    index.read()
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk).reason == "unknown_badge"
    assert index.decision(id_tag=other.rfid, station_id=station.pk).accepted


def test_another_process_s_sessions_leave_unknown_tags_refused_from_memory(index):
    station = StationFactory()
    badge = BadgeFactory(company=station.company)
    read(index)
    # As written by another process, read from the changes.
    access.authorization_changed(badge_ids=[badge.pk], tags_unchanged=True)
    index._read_changes()
    assert index.decision(id_tag=badge.rfid, station_id=station.pk) is None
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk).reason == "unknown_badge"

    access.authorization_changed(badge_ids=[badge.pk])
    index._read_changes()
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk) is None
    index.read()
    assert index.decision(id_tag=UNKNOWN, station_id=station.pk).reason == "unknown_badge"
    assert index.decision(id_tag=badge.rfid, station_id=station.pk).accepted


def test_another_process_s_change_is_read_from_the_changes(index):
    station = StationFactory()
    badge = BadgeFactory(company=station.company)
    read(index)
    group = AuthorizationGroup.objects.create(name="Visitors", company=badge.company)
    foreign = StationFactory()
    group.stations.add(foreign)
    badge.groups.add(group)
    badge.rfid = "VID:0A0B0C0D0E10"
    badge.save()
    assert index.decision(id_tag=badge.rfid, station_id=foreign.pk) is None  # unknown station

    access.authorization_changed(badge_ids=[badge.pk])  # as written by another process
    index.read()
    assert index.decision(id_tag="VID:0A0B0C0D0E10", station_id=station.pk).accepted
    # Renamed: the old tag is no badge any more.
    assert not index.decision(id_tag=BadgeFactory.build().rfid, station_id=station.pk).accepted


def test_stations_with_a_reservation_or_a_pairing_window_are_left_to_the_database(index):
    station, armed, reserved = StationFactory(), StationFactory(), StationFactory()
    badge = BadgeFactory(company=station.company)
    Reservation.objects.create(
        station=reserved,
        connector_id=1,
        badge=badge,
        reservation_id=1,
        expires_at=timezone.now() + timedelta(minutes=5),
        status=ReservationStatus.ACCEPTED,
    )
    pairing_open(station=armed, vehicle=VehicleFactory(company=armed.company))
    read(index)
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is not None
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=armed.pk) is None
    assert index.decision(id_tag=badge.rfid, station_id=reserved.pk) is None


def test_an_index_never_read_stale_or_stopped_answers_nothing(index):
    station = StationFactory()
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is None
    index.stale_after = 0  # its last good read is already too old
    assert read(index).decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is None
    index.stale_after = 3600
    assert read(index).decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is not None
    index.stop()
    assert index.decision(id_tag="VID:0A0B0C0D0E0F", station_id=station.pk) is None


def refusal(index, tag, station):
    decision = index.decision(id_tag=tag, station_id=station.pk)
    return vehicle_refusal(decision, id_tag=tag, station_id=station.pk, log_entry_id=uuid4())


def test_refusals_from_memory_are_recorded_as_the_database_path_records_them(index):
    station = StationFactory()
    Connector.objects.create(station=station, connector_id=1, status="Preparing")
    Connector.objects.create(station=station, connector_id=2, status="Available")
    elsewhere = [StationFactory() for _ in range(3)]  # three other companies'
    not_permitted = BadgeFactory()
    charging = accepted_session(company=station.company, started_at=timezone.now()).badge
    read(index)
    unknown = "VID:0A1B2C3D4E5F"
    refusals = [
        refusal(index, unknown, station),
        refusal(index, "vid:0a:1b:2c:3d:4e:5f", station),
        refusal(index, not_permitted.rfid, station),
        refusal(index, charging.rfid, station),
        *(refusal(index, unknown, other) for other in elsewhere),
    ]
    assert refusal(index, "CARD-UNKNOWN", station) is None  # not a vehicle: nothing to record
    assert refusal(index, "VID:NOT-A-MAC", station) is None

    vehicle_refusals_record(refusals)

    entry = UnknownVehicle.objects.get(company=station.company, mac="0A1B2C3D4E5F")
    assert (entry.attempts, entry.status, entry.id_tag) == (2, "open", unknown)
    assert UnknownVehicle.objects.filter(mac="0A1B2C3D4E5F").count() == 4  # each company's
    sightings = VehicleSighting.objects.filter(station=station)
    assert sorted((s.reason, s.connector_id, s.unknown_vehicle_id) for s in sightings) == sorted(
        [
            ("unknown_badge", 1, entry.pk),
            ("unknown_badge", 1, entry.pk),
            ("not_permitted_at_station", 1, None),
            ("concurrent_session", 1, None),
        ]
    )
    assert {s.log_entry_id for s in VehicleSighting.objects.all()} == {
        r.log_entry_id for r in refusals
    }
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert kinds == {SecurityEventKind.CONCURRENT_VID, SecurityEventKind.MAC_PROBING}

    vehicle_refusals_record([refusal(index, unknown, station)])  # counted on the same entry
    entry.refresh_from_db()
    assert entry.attempts == 3


def test_what_staff_configured_for_a_station_is_known_until_it_changes(
    process_index, django_capture_on_commit_callbacks
):
    station = StationFactory()
    read(process_index)
    assert process_index.station(station.pk).auth_mode == AuthMode.BADGE

    station.auth_mode = AuthMode.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        station_save(station=station)
    assert process_index.station(station.pk) is None  # the database says, meanwhile
    process_index.read()
    assert process_index.station(station.pk).auth_mode == AuthMode.OPEN


def test_a_station_s_site_is_known_and_a_new_one_announced(
    process_index, django_capture_on_commit_callbacks
):
    station = StationFactory()
    read(process_index)
    assert process_index.station(station.pk).site_id is None

    site = SiteFactory(company=station.company)
    station.site = site
    with django_capture_on_commit_callbacks(execute=True):
        station_save(station=station)
    assert process_index.station(station.pk) is None  # the database says, meanwhile
    process_index.read()
    assert process_index.station(station.pk).site_id == site.pk
