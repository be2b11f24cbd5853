"""authorization_request's side effects (inbox, pairing, security events) and the enrolment
services, against the database."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.core import mail
from django.utils import timezone

from badges import access
from badges.authorization import AuthorizationStatus, Reason
from badges.models import (
    Badge,
    BadgeState,
    EnrolledVia,
    InboxStatus,
    PairingWindow,
    UnknownVehicle,
    VehicleSighting,
)
from badges.services import EnrolmentError, unknown_vehicle_dismiss
from stations.enrolment import (
    authorization_request,
    badge_enrol,
    pairing_cancel,
    pairing_open,
    unknown_vehicle_enrol,
)
from stations.models import ChargingSession, SecurityEvent
from stations.services import connector_update_status
from supervision.outbox import emails_send
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E0C01"
MAC = "A014310E0C01"


@pytest.fixture
def station():
    return StationFactory()


@pytest.fixture
def vehicle(station):
    return VehicleFactory(company=station.company, license_plate="FT-123-ER")


# --- Inbox ----------------------------------------------------------------------------------


def test_an_unknown_vid_opens_an_inbox_entry_with_a_sighting_linked_to_its_log_entry(station):
    log_id = uuid4()

    decision = authorization_request(
        id_tag="vid:a0-14-31-0e-0c-01", station=station, log_entry_id=log_id
    )

    assert (decision.status, decision.reason) == (AuthorizationStatus.INVALID, Reason.UNKNOWN_BADGE)
    entry = UnknownVehicle.objects.get()
    assert (entry.mac, entry.id_tag, entry.attempts, entry.last_reason, entry.status) == (
        MAC,
        TAG,
        1,
        "unknown_badge",
        "open",
    )
    sighting = entry.sightings.get()
    assert (sighting.station, sighting.id_tag, sighting.log_entry_id) == (
        station,
        "vid:a0-14-31-0e-0c-01",
        log_id,
    )


def test_repeated_attempts_aggregate_into_one_entry(station):
    other = StationFactory(company=station.company)
    for where in (station, other, other):
        authorization_request(id_tag=TAG, station=where)

    entry = UnknownVehicle.objects.get()
    assert (entry.company, entry.attempts) == (station.company, 3)
    assert entry.last_seen_at >= entry.first_seen_at
    assert set(entry.sightings.values_list("station", flat=True)) == {station.pk, other.pk}


def test_attempts_at_two_companies_stations_make_one_entry_per_company(station):
    partner = StationFactory()
    for where in (station, partner, partner):
        authorization_request(id_tag=TAG, station=where)

    entries = {entry.company: entry for entry in UnknownVehicle.objects.all()}
    assert {company: entry.attempts for company, entry in entries.items()} == {
        station.company: 1,
        partner.company: 2,
    }
    assert list(entries[station.company].sightings.values_list("station", flat=True)) == [
        station.pk
    ]


def test_the_connector_comes_from_start_transaction_or_the_one_connector_preparing(station):
    connector_update_status(station=station, connector_id=2, status="Preparing")
    connector_update_status(station=station, connector_id=1, status="Available")
    authorization_request(id_tag=TAG, station=station)
    authorization_request(id_tag=TAG, station=station, connector_id=3)
    connector_update_status(station=station, connector_id=1, status="Preparing")
    authorization_request(id_tag=TAG, station=station)

    connectors = list(VehicleSighting.objects.order_by("pk").values_list("connector_id", flat=True))
    assert connectors == [2, 3, None]  # two plugged in: cannot tell


@pytest.mark.parametrize(
    "tag", ["VID:000000000000", "VID:FFFFFFFFFFFF", "VID:010000000001", "VID:12"]
)
def test_placeholder_multicast_and_malformed_macs_never_reach_the_inbox(station, tag):
    decision = authorization_request(id_tag=tag, station=station)
    assert decision.reason == Reason.MALFORMED_ID_TAG
    assert not UnknownVehicle.objects.exists()
    assert not VehicleSighting.objects.exists()


def test_rfid_cards_never_reach_the_inbox(station):
    authorization_request(id_tag="04A2B3C4D5E6F7", station=station)
    assert not UnknownVehicle.objects.exists()


def test_a_known_vid_refused_is_a_sighting_but_not_an_inbox_entry(station):
    BadgeFactory(rfid=TAG, company=station.company, state=BadgeState.DISABLED)
    authorization_request(id_tag=TAG, station=station)
    assert not UnknownVehicle.objects.exists()
    assert VehicleSighting.objects.get().reason == "badge_disabled"


def test_accepted_tags_record_nothing(station):
    BadgeFactory(rfid=TAG, company=station.company)
    assert authorization_request(id_tag=TAG, station=station).accepted
    assert not VehicleSighting.objects.exists()


def test_vendor_hint_comes_from_the_ieee_registry(station):
    authorization_request(id_tag="VID:001B638445E6", station=station)  # an Apple OUI
    authorization_request(id_tag=TAG, station=station)  # unregistered
    hints = dict(UnknownVehicle.objects.values_list("mac", "vendor_hint"))
    assert hints == {"001B638445E6": "Apple, Inc.", MAC: ""}


def test_a_locally_administered_mac_is_flagged(station):
    authorization_request(id_tag="VID:02AB00000001", station=station)
    authorization_request(id_tag=TAG, station=station)
    flags = {entry.mac: entry.locally_administered for entry in UnknownVehicle.objects.all()}
    assert flags == {"02AB00000001": True, MAC: False}


def test_enrolling_an_inbox_entry_creates_the_seed_s_badge(station, vehicle, admin_user):
    authorization_request(id_tag=TAG, station=station)
    entry = UnknownVehicle.objects.get()

    enrolment = unknown_vehicle_enrol(entry=entry, vehicle=vehicle, enrolled_by=admin_user)

    badge = enrolment.badge
    assert (badge.rfid, badge.visual_number, badge.type, badge.state, badge.usage, badge.mode) == (
        TAG,
        MAC,
        "physical",
        "enabled",
        "professional",
        "vehicle",
    )
    assert (badge.company, badge.vehicle, badge.description) == (
        vehicle.company,
        vehicle,
        "Autocharge badge, vehicle FT-123-ER",
    )
    assert (badge.enrolled_via, badge.enrolled_by) == (EnrolledVia.INBOX, admin_user)
    entry.refresh_from_db()
    assert (entry.status, entry.badge, entry.resolved_by) == (
        InboxStatus.ENROLLED,
        badge,
        admin_user,
    )
    assert enrolment.warnings == []
    assert authorization_request(id_tag=TAG, station=station).accepted


def test_an_enrolled_entry_cannot_be_enrolled_or_dismissed_again(station, vehicle):
    authorization_request(id_tag=TAG, station=station)
    entry = UnknownVehicle.objects.get()
    unknown_vehicle_enrol(entry=entry, vehicle=vehicle)
    entry.refresh_from_db()

    with pytest.raises(EnrolmentError):
        unknown_vehicle_enrol(entry=entry, vehicle=vehicle)
    with pytest.raises(EnrolmentError):
        unknown_vehicle_dismiss(entry=entry, reason="visitor")
    assert Badge.objects.count() == 1


def test_dismissing_needs_a_reason_and_a_dismissed_vehicle_seen_again_stays_dismissed(
    station, admin_user
):
    authorization_request(id_tag=TAG, station=station)
    entry = UnknownVehicle.objects.get()
    with pytest.raises(EnrolmentError):
        unknown_vehicle_dismiss(entry=entry, reason="  ")

    unknown_vehicle_dismiss(entry=entry, reason="A visitor's car", dismissed_by=admin_user)
    entry.refresh_from_db()
    assert (entry.status, entry.dismissed_reason, entry.resolved_by) == (
        InboxStatus.DISMISSED,
        "A visitor's car",
        admin_user,
    )

    authorization_request(id_tag=TAG, station=station)
    entry.refresh_from_db()
    assert (entry.status, entry.attempts) == (InboxStatus.DISMISSED, 2)


def test_a_badge_created_by_hand_closes_the_inbox_entry(station, vehicle):
    authorization_request(id_tag=TAG, station=station)
    badge = access.badge_save(
        badge=BadgeFactory.build(rfid=TAG, company=vehicle.company, vehicle=vehicle)
    )
    entry = UnknownVehicle.objects.get()
    assert (entry.status, entry.badge) == (InboxStatus.ENROLLED, badge)


def test_an_enrolled_vehicle_whose_badge_moved_to_another_mac_reopens(station, vehicle):
    authorization_request(id_tag=TAG, station=station)
    badge = unknown_vehicle_enrol(entry=UnknownVehicle.objects.get(), vehicle=vehicle).badge
    badge.rfid = "VID:A014310E0C02"
    access.badge_save(badge=badge)

    authorization_request(id_tag=TAG, station=station)

    entry = UnknownVehicle.objects.get(mac=MAC)
    assert (entry.status, entry.badge, entry.attempts) == (InboxStatus.OPEN, None, 2)
    assert unknown_vehicle_enrol(entry=entry, vehicle=vehicle).badge.rfid == TAG


def test_a_second_mac_for_a_vehicle_warns_and_keeps_both_badges(station, vehicle):
    first = BadgeFactory(rfid="VID:A014310E0C00", company=vehicle.company, vehicle=vehicle)

    enrolment = badge_enrol(id_tag=TAG, vehicle=vehicle)

    assert len(enrolment.warnings) == 1
    assert "may change its MAC address" in enrolment.warnings[0]
    assert set(vehicle.badges.values_list("rfid", flat=True)) == {first.rfid, TAG}
    assert SecurityEvent.objects.get().kind == "mac_changed"


def test_a_shared_evccid_model_needs_an_acknowledgement(station):
    enyaq = VehicleFactory(company=station.company, make="Škoda", model="Enyaq iV 80")

    with pytest.raises(EnrolmentError) as refused:
        badge_enrol(id_tag=TAG, vehicle=enyaq)
    assert refused.value.code == "shared_mac"
    assert not Badge.objects.exists()

    assert (
        badge_enrol(id_tag=TAG, vehicle=enyaq, acknowledge_shared_mac=True).badge.vehicle == enyaq
    )


def test_placeholder_macs_are_never_enrollable(vehicle):
    with pytest.raises(EnrolmentError):
        badge_enrol(id_tag="VID:FFFFFFFFFFFF", vehicle=vehicle)
    assert not Badge.objects.exists()


# --- Pairing --------------------------------------------------------------------------------


def test_an_armed_station_enrols_the_next_unknown_vid_and_accepts_it(station, vehicle, admin_user):
    window = pairing_open(station=station, vehicle=vehicle, opened_by=admin_user)
    assert window.expires_at - window.opened_at == timedelta(minutes=10)

    decision = authorization_request(id_tag=TAG, station=station)

    assert (decision.status, decision.reason) == (AuthorizationStatus.ACCEPTED, Reason.PAIRED)
    badge = Badge.objects.get(rfid=TAG)
    assert (badge.vehicle, badge.enrolled_via, badge.enrolled_by) == (
        vehicle,
        "pairing",
        admin_user,
    )
    window.refresh_from_db()
    assert (window.status, window.badge) == ("paired", badge)
    assert not UnknownVehicle.objects.exists()


def test_a_connector_window_pairs_only_on_that_connector(station, vehicle):
    pairing_open(station=station, vehicle=vehicle, connector_id=2)

    assert (
        authorization_request(id_tag=TAG, station=station, connector_id=1).reason == "unknown_badge"
    )
    connector_update_status(station=station, connector_id=2, status="Preparing")
    assert authorization_request(id_tag=TAG, station=station).reason == Reason.PAIRED


def test_at_start_transaction_a_paired_session_is_attributed_to_the_vehicle(station, vehicle):
    from stations.services import session_start

    pairing_open(station=station, vehicle=vehicle)
    session, decision = session_start(
        station=station, connector_id=1, id_tag=TAG, meter_start=0, started_at=timezone.now()
    )
    assert decision.accepted
    assert (session.vehicle, session.company, session.authorization_reason) == (
        vehicle,
        vehicle.company,
        "paired",
    )


def test_pairing_at_a_partner_station_gives_the_badge_the_group(vehicle):
    partner_station = StationFactory()
    group = AuthorizationGroupFactory(company=vehicle.company)
    group.stations.add(partner_station)
    pairing_open(station=partner_station, vehicle=vehicle)

    decision = authorization_request(id_tag=TAG, station=partner_station)

    assert decision.accepted
    assert list(Badge.objects.get(rfid=TAG).groups.all()) == [group]


def test_a_station_where_the_vehicle_may_not_charge_cannot_be_armed(vehicle):
    with pytest.raises(EnrolmentError):
        pairing_open(station=StationFactory(), vehicle=vehicle)
    assert not PairingWindow.objects.exists()


def test_one_open_window_per_station_and_an_expired_one_gives_way(station, vehicle):
    first = pairing_open(station=station, vehicle=vehicle)
    with pytest.raises(EnrolmentError) as refused:
        pairing_open(station=station, vehicle=VehicleFactory(company=station.company))
    assert refused.value.code == "armed"

    first.expires_at = timezone.now() - timedelta(seconds=1)
    first.save()
    second = pairing_open(station=station, vehicle=vehicle, minutes=5)
    first.refresh_from_db()
    assert (first.status, second.status) == ("expired", "open")


@pytest.mark.parametrize("minutes", [0, 61])
def test_a_window_lasts_one_to_sixty_minutes(station, vehicle, minutes):
    with pytest.raises(EnrolmentError):
        pairing_open(station=station, vehicle=vehicle, minutes=minutes)


def test_a_cancelled_window_enrols_nothing(station, vehicle):
    pairing_open(station=station, vehicle=vehicle)
    assert pairing_cancel(station=station).status == "cancelled"

    assert authorization_request(id_tag=TAG, station=station).reason == "unknown_badge"
    assert pairing_cancel(station=station) is None


def test_an_armed_shared_mac_vehicle_needs_the_acknowledgement_at_arming(station):
    id4 = VehicleFactory(company=station.company, make="Volkswagen", model="ID.4")
    with pytest.raises(EnrolmentError):
        pairing_open(station=station, vehicle=id4)
    pairing_open(station=station, vehicle=id4, acknowledge_shared_mac=True)
    assert authorization_request(id_tag=TAG, station=station).reason == Reason.PAIRED


# --- Security events ------------------------------------------------------------------------


def start_accepted_session(badge, station):
    return ChargingSession.objects.create(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        auth_method="autocharge",
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=0,
        started_at=timezone.now(),
    )


def test_a_vid_charging_elsewhere_is_concurrent_and_mailed_once_an_hour(station, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    badge = BadgeFactory(rfid=TAG, company=station.company)
    start_accepted_session(
        badge, StationFactory(company=station.company, charge_point_id="ELSEWHERE")
    )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **_: callback())
        for _attempt in range(2):
            decision = authorization_request(id_tag=TAG, station=station)

    assert decision.status == AuthorizationStatus.CONCURRENT_TX
    events = list(SecurityEvent.objects.order_by("created_at"))
    assert [(e.kind, e.severity, e.notified) for e in events] == [
        ("concurrent_vid", "critical", True),
        ("concurrent_vid", "critical", False),
    ]
    assert events[0].details["charging_at"] == ["ELSEWHERE"]
    # Queued with the event, sent by the job runner: not on the station's thread.
    assert mail.outbox == []
    assert emails_send() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [station.company.contact_email]
    assert TAG in mail.outbox[0].body


def test_a_mac_refused_at_three_companies_within_the_window_is_probing(settings):
    settings.AUTOCHARGE_PROBING_COMPANIES = 3
    stations = [StationFactory(company=CompanyFactory()) for _ in range(3)]

    authorization_request(id_tag=TAG, station=stations[0])
    authorization_request(id_tag=TAG, station=stations[1])
    assert not SecurityEvent.objects.exists()
    authorization_request(id_tag=TAG, station=stations[2])
    authorization_request(id_tag=TAG, station=stations[2])

    event = SecurityEvent.objects.get()  # once per window, not once per attempt
    assert (event.kind, event.id_tag, event.details["companies"]) == ("mac_probing", TAG, 3)


def test_enrolling_a_stale_entry_whose_mac_got_a_badge_meanwhile_is_an_enrolment_error(
    station, vehicle
):
    authorization_request(id_tag=TAG, station=station)
    stale = UnknownVehicle.objects.get()
    access.badge_save(badge=BadgeFactory.build(rfid=TAG, company=vehicle.company, vehicle=vehicle))

    with pytest.raises(EnrolmentError) as refused:
        unknown_vehicle_enrol(entry=stale, vehicle=vehicle)
    assert refused.value.code == "enrolled"
    assert Badge.objects.count() == 1
