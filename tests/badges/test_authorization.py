"""The authorization decision: ``decide`` without a database, ``authorize`` with one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges.authorization import (
    AuthorizationFacts,
    AuthorizationStatus,
    Decision,
    Reason,
    authorize,
    decide,
    load_facts,
)
from badges.models import BadgeMode, BadgeState
from stations.models import AuthMode, ChargingSession
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

NOW = timezone.now()
TAG = "VID:A014310E004E"


# --- decide(): pure, on built (unsaved) objects -------------------------------------------


@pytest.fixture
def owner():
    return CompanyFactory.build(id=1)


@pytest.fixture
def other_company():
    return CompanyFactory.build(id=2)


@pytest.fixture
def station(owner):
    return StationFactory.build(company=owner)


@pytest.fixture
def open_station(owner):
    return StationFactory.build(company=owner, auth_mode=AuthMode.OPEN)


def vehicle_badge(company, **kwargs):
    vehicle_kwargs = kwargs.pop("vehicle_kwargs", {})
    return BadgeFactory.build(
        company=company,
        vehicle=VehicleFactory.build(company=company, **vehicle_kwargs),
        rfid=kwargs.pop("rfid", TAG),
        **kwargs,
    )


def facts(
    station,
    badge=None,
    *,
    id_tag=TAG,
    malformed=False,
    in_groups=False,
    elsewhere=False,
    now=NOW,
    unsupported=False,
):
    return AuthorizationFacts(
        station=station,
        id_tag=id_tag,
        id_tag_malformed=malformed,
        badge=badge,
        station_in_badge_groups=in_groups,
        active_session_elsewhere=elsewhere,
        now=now,
        identifier_unsupported=unsupported,
    )


def test_an_enabled_badge_of_the_station_owner_is_accepted(station, owner):
    badge = vehicle_badge(owner)
    decision = decide(facts(station, badge))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.reason == Reason.ACCEPTED
    assert decision.accepted
    assert decision.badge is badge
    assert decision.vehicle is badge.vehicle
    assert decision.company is owner
    assert decision.id_tag == TAG
    assert decision.expires_at is None


def test_an_accepted_decision_carries_the_badge_expiry(station, owner):
    expires_at = NOW + timedelta(days=30)
    decision = decide(facts(station, vehicle_badge(owner, expires_at=expires_at)))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.expires_at == expires_at


def test_statuses_are_the_ocpp_1_6_strings():
    assert {status.value for status in AuthorizationStatus} == {
        "Accepted",
        "Blocked",
        "Expired",
        "Invalid",
        "ConcurrentTx",
    }


# Open-charge.


def test_an_open_station_accepts_an_unknown_tag_anonymously(open_station):
    decision = decide(facts(open_station, None, id_tag="04A1B2C3"))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.reason == Reason.OPEN_CHARGE
    assert decision.badge is None
    assert decision.vehicle is None
    assert decision.company is None
    assert decision.auth_method == "open"


def test_an_open_station_attributes_the_session_of_a_known_badge(open_station, other_company):
    badge = vehicle_badge(other_company)
    decision = decide(facts(open_station, badge))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.reason == Reason.OPEN_CHARGE
    assert decision.badge is badge
    assert decision.vehicle is badge.vehicle
    assert decision.company is other_company
    assert decision.auth_method == "open"


@pytest.mark.parametrize(
    "refusal",
    [
        {"malformed": True},
        {"badge": None},
        {"state": BadgeState.DISABLED},
        {"expires_at": NOW - timedelta(seconds=1)},
        {"vehicle_kwargs": {"active": False}},
        {"foreign": True},
        {"elsewhere": True},
    ],
    ids=["malformed", "unknown", "disabled", "expired", "inactive", "foreign", "concurrent"],
)
def test_an_open_station_accepts_what_a_badge_station_would_refuse(
    open_station, owner, other_company, refusal
):
    refusal = dict(refusal)
    malformed = refusal.pop("malformed", False)
    elsewhere = refusal.pop("elsewhere", False)
    company = other_company if refusal.pop("foreign", False) else owner
    badge = None if "badge" in refusal else vehicle_badge(company, **refusal)
    decision = decide(
        facts(
            open_station,
            badge,
            id_tag="VID:" if malformed else TAG,
            malformed=malformed,
            elsewhere=elsewhere,
        )
    )
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.reason == Reason.OPEN_CHARGE
    assert decision.auth_method == "open"
    assert decision.expires_at is None


# Each refusal, alone.


def test_a_malformed_vid_tag_is_invalid(station):
    decision = decide(facts(station, None, id_tag="VID:FFFFFFFFFFFF", malformed=True))
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.MALFORMED_ID_TAG
    assert not decision.accepted
    assert decision.id_tag == "VID:FFFFFFFFFFFF"
    assert decision.auth_method == "autocharge"


def test_an_identifier_of_a_kind_no_badge_can_be_is_invalid_with_its_reason(station, owner):
    decision = decide(facts(station, vehicle_badge(owner), unsupported=True))
    assert (decision.status, decision.reason) == (
        AuthorizationStatus.INVALID,
        Reason.UNSUPPORTED_IDENTIFIER,
    )


def test_an_open_station_accepts_an_identifier_of_any_kind(open_station):
    decision = decide(facts(open_station, None, unsupported=True))
    assert (decision.accepted, decision.reason) == (True, Reason.OPEN_CHARGE)


def test_an_unknown_badge_is_invalid(station):
    decision = decide(facts(station, None))
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.UNKNOWN_BADGE
    assert decision.badge is None
    assert decision.vehicle is None
    assert decision.company is None


def test_a_disabled_badge_is_blocked(station, owner):
    badge = vehicle_badge(owner, state=BadgeState.DISABLED)
    decision = decide(facts(station, badge))
    assert decision.status == AuthorizationStatus.BLOCKED
    assert decision.reason == Reason.BADGE_DISABLED
    assert decision.badge is badge
    assert decision.expires_at is None


def test_a_badge_of_an_archived_company_is_blocked(station, owner):
    owner.archived_at = NOW - timedelta(days=1)
    decision = decide(facts(station, vehicle_badge(owner)))
    assert decision.status == AuthorizationStatus.BLOCKED
    assert decision.reason == Reason.COMPANY_ARCHIVED


@pytest.mark.parametrize(
    "expires_in",
    [timedelta(0), -timedelta(seconds=1), -timedelta(days=365)],
    ids=["expiring-now", "a-second-ago", "a-year-ago"],
)
def test_a_badge_expired_at_or_before_now_is_expired(station, owner, expires_in):
    badge = vehicle_badge(owner, expires_at=NOW + expires_in)
    decision = decide(facts(station, badge))
    assert decision.status == AuthorizationStatus.EXPIRED
    assert decision.reason == Reason.BADGE_EXPIRED


def test_a_badge_expiring_after_now_is_not_expired(station, owner):
    badge = vehicle_badge(owner, expires_at=NOW + timedelta(seconds=1))
    assert decide(facts(station, badge)).status == AuthorizationStatus.ACCEPTED


def test_expiry_is_judged_at_the_facts_time_not_the_wall_clock(station, owner):
    badge = vehicle_badge(owner, expires_at=NOW + timedelta(hours=1))
    later = facts(station, badge, now=NOW + timedelta(hours=2))
    assert decide(later).status == AuthorizationStatus.EXPIRED


def test_the_badge_of_an_inactive_vehicle_is_invalid(station, owner):
    badge = vehicle_badge(owner, vehicle_kwargs={"active": False})
    decision = decide(facts(station, badge))
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.VEHICLE_INACTIVE


def test_a_company_badge_without_vehicle_is_not_refused_for_an_inactive_vehicle(station, owner):
    badge = BadgeFactory.build(company=owner, mode=BadgeMode.COMPANY, vehicle=None, rfid="04A1B2C3")
    decision = decide(facts(station, badge, id_tag="04A1B2C3"))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.vehicle is None
    assert decision.company is owner
    assert decision.auth_method == "rfid"


def test_a_badge_of_another_company_is_not_permitted_at_the_station(station, other_company):
    decision = decide(facts(station, vehicle_badge(other_company)))
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.NOT_PERMITTED_AT_STATION


def test_a_badge_of_another_company_is_permitted_through_its_groups(station, other_company):
    badge = vehicle_badge(other_company, expires_at=NOW + timedelta(days=1))
    decision = decide(facts(station, badge, in_groups=True))
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.reason == Reason.ACCEPTED
    assert decision.company is other_company
    assert decision.expires_at == badge.expires_at


def test_a_badge_charging_elsewhere_is_refused_as_concurrent(station, owner):
    decision = decide(facts(station, vehicle_badge(owner), elsewhere=True))
    assert decision.status == AuthorizationStatus.CONCURRENT_TX
    assert decision.reason == Reason.CONCURRENT_SESSION
    assert decision.expires_at is None


def test_a_badge_permitted_through_groups_and_charging_elsewhere_is_concurrent(
    station, other_company
):
    badge = vehicle_badge(other_company)
    decision = decide(facts(station, badge, in_groups=True, elsewhere=True))
    assert decision.status == AuthorizationStatus.CONCURRENT_TX


# Order: the first refusal wins.

ALL_WRONG = {
    "malformed": True,
    "unknown": True,
    "disabled": True,
    "expired": True,
    "inactive": True,
    "foreign": True,
    "concurrent": True,
}
RULES_IN_ORDER = [
    ("malformed", AuthorizationStatus.INVALID, Reason.MALFORMED_ID_TAG),
    ("unknown", AuthorizationStatus.INVALID, Reason.UNKNOWN_BADGE),
    ("disabled", AuthorizationStatus.BLOCKED, Reason.BADGE_DISABLED),
    ("expired", AuthorizationStatus.EXPIRED, Reason.BADGE_EXPIRED),
    ("inactive", AuthorizationStatus.INVALID, Reason.VEHICLE_INACTIVE),
    ("foreign", AuthorizationStatus.INVALID, Reason.NOT_PERMITTED_AT_STATION),
    ("concurrent", AuthorizationStatus.CONCURRENT_TX, Reason.CONCURRENT_SESSION),
]


def facts_with(station, owner, other_company, wrong: set[str]) -> AuthorizationFacts:
    badge = None
    if "unknown" not in wrong:
        badge = vehicle_badge(
            other_company if "foreign" in wrong else owner,
            state=BadgeState.DISABLED if "disabled" in wrong else BadgeState.ENABLED,
            expires_at=NOW - timedelta(minutes=1) if "expired" in wrong else None,
            vehicle_kwargs={"active": "inactive" not in wrong},
        )
    return facts(
        station,
        badge,
        malformed="malformed" in wrong,
        elsewhere="concurrent" in wrong,
    )


@pytest.mark.parametrize(
    ("index", "status", "reason"),
    [(index, status, reason) for index, (_, status, reason) in enumerate(RULES_IN_ORDER)],
    ids=[name for name, _, _ in RULES_IN_ORDER],
)
def test_each_rule_wins_over_every_later_rule(station, owner, other_company, index, status, reason):
    """Everything from this rule on is wrong: this rule's refusal is the one given."""
    wrong = {name for name, _, _ in RULES_IN_ORDER[index:]}
    decision = decide(facts_with(station, owner, other_company, wrong))
    assert (decision.status, decision.reason) == (status, reason)


@pytest.mark.parametrize(
    ("name", "status", "reason"), RULES_IN_ORDER, ids=[name for name, _, _ in RULES_IN_ORDER]
)
def test_each_rule_alone_gives_its_own_refusal(station, owner, other_company, name, status, reason):
    decision = decide(facts_with(station, owner, other_company, {name}))
    assert (decision.status, decision.reason) == (status, reason)


def test_nothing_wrong_is_accepted(station, owner, other_company):
    decision = decide(facts_with(station, owner, other_company, set()))
    assert decision.status == AuthorizationStatus.ACCEPTED


def test_a_badge_both_disabled_and_expired_is_blocked(station, owner):
    badge = vehicle_badge(owner, state=BadgeState.DISABLED, expires_at=NOW - timedelta(days=1))
    decision = decide(facts(station, badge))
    assert decision.status == AuthorizationStatus.BLOCKED
    assert decision.reason == Reason.BADGE_DISABLED


def test_an_expired_badge_of_an_inactive_vehicle_is_expired(station, owner):
    badge = vehicle_badge(
        owner, expires_at=NOW - timedelta(days=1), vehicle_kwargs={"active": False}
    )
    assert decide(facts(station, badge)).status == AuthorizationStatus.EXPIRED


def test_groups_do_not_save_a_disabled_badge(station, other_company):
    badge = vehicle_badge(other_company, state=BadgeState.DISABLED)
    decision = decide(facts(station, badge, in_groups=True))
    assert decision.status == AuthorizationStatus.BLOCKED


# How the session was authorized.


@pytest.mark.parametrize(
    ("id_tag", "reason", "expected"),
    [
        ("VID:A014310E004E", Reason.ACCEPTED, "autocharge"),
        ("VID:A014310E004E", Reason.UNKNOWN_BADGE, "autocharge"),
        ("VID:", Reason.MALFORMED_ID_TAG, "autocharge"),
        ("04A1B2C3D4E5F6", Reason.ACCEPTED, "rfid"),
        ("A014310E004E", Reason.ACCEPTED, "rfid"),
        ("A014310E004E", Reason.NOT_PERMITTED_AT_STATION, "rfid"),
        ("VID:A014310E004E", Reason.OPEN_CHARGE, "open"),
        ("04A1B2C3D4E5F6", Reason.OPEN_CHARGE, "open"),
    ],
)
def test_auth_method_is_autocharge_for_vid_tags_rfid_otherwise_open_on_open_stations(
    id_tag, reason, expected
):
    decision = Decision(status=AuthorizationStatus.ACCEPTED, reason=reason, id_tag=id_tag)
    assert decision.auth_method == expected


def test_an_accepted_rfid_badge_is_authorized_by_rfid(station, owner):
    badge = vehicle_badge(owner, rfid="04A1B2C3D4E5F6")
    decision = decide(facts(station, badge, id_tag="04A1B2C3D4E5F6"))
    assert decision.accepted
    assert decision.auth_method == "rfid"


def test_an_accepted_vid_badge_is_authorized_by_autocharge(station, owner):
    decision = decide(facts(station, vehicle_badge(owner)))
    assert decision.accepted
    assert decision.auth_method == "autocharge"


# --- authorize(): with the database ------------------------------------------------------


@pytest.fixture
def db_owner(db):
    return CompanyFactory()


@pytest.fixture
def db_station(db_owner):
    return StationFactory(company=db_owner)


def open_session(badge, station, **kwargs):
    return ChargingSession.objects.create(
        station=station,
        connector_id=kwargs.pop("connector_id", 1),
        id_tag=badge.rfid,
        badge=badge,
        vehicle=badge.vehicle,
        company=badge.company,
        auth_method="autocharge",
        authorization_status=kwargs.pop("authorization_status", "Accepted"),
        authorization_reason="accepted",
        meter_start=0,
        started_at=timezone.now(),
        **kwargs,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent",
    ["vid:a0:14:31:0e:00:4e", "VID:A0-14-31-0E-00-4E", " VID:0000A014310E004E ", TAG],
)
def test_authorize_finds_the_badge_whatever_form_the_station_sends(db_station, db_owner, sent):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    decision = authorize(id_tag=sent, station=db_station)
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.badge == badge
    assert decision.vehicle == badge.vehicle
    assert decision.company == db_owner
    assert decision.id_tag == TAG
    assert decision.auth_method == "autocharge"


@pytest.mark.django_db
def test_authorize_reports_a_malformed_tag_without_looking_for_a_badge(
    db_station, django_assert_num_queries
):
    with django_assert_num_queries(0):
        decision = authorize(id_tag="vid:ff:ff:ff:ff:ff:ff", station=db_station)
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.MALFORMED_ID_TAG
    assert decision.id_tag == "VID:FF:FF:FF:FF:FF:FF"


@pytest.mark.django_db
def test_authorize_reports_an_unknown_badge(db_station):
    decision = authorize(id_tag="VID:0214310E004E", station=db_station)
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.UNKNOWN_BADGE


@pytest.mark.django_db
def test_authorize_finds_an_rfid_badge_in_any_case(db_station, db_owner):
    badge = BadgeFactory(company=db_owner, rfid="04A1B2C3D4E5F6")
    decision = authorize(id_tag="04a1b2c3d4e5f6", station=db_station)
    assert decision.accepted
    assert decision.badge == badge
    assert decision.auth_method == "rfid"


@pytest.mark.django_db
def test_authorize_refuses_a_badge_of_another_company_outside_its_groups(db_station):
    other = CompanyFactory()
    badge = BadgeFactory(company=other, rfid=TAG)
    AuthorizationGroupFactory(company=other).badges.add(badge)  # a group without this station
    decision = authorize(id_tag=TAG, station=db_station)
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.NOT_PERMITTED_AT_STATION


@pytest.mark.django_db
def test_authorize_permits_a_badge_through_a_group_containing_the_station(db_station):
    other = CompanyFactory()
    badge = BadgeFactory(company=other, rfid=TAG)
    group = AuthorizationGroupFactory(company=other)
    group.stations.add(db_station, StationFactory(company=other))
    badge.groups.add(group)
    decision = authorize(id_tag=TAG, station=db_station)
    assert decision.status == AuthorizationStatus.ACCEPTED
    assert decision.company == other


@pytest.mark.django_db
def test_authorize_does_not_permit_through_a_group_the_badge_is_not_in(db_station):
    other = CompanyFactory()
    BadgeFactory(company=other, rfid=TAG)
    AuthorizationGroupFactory(company=other).stations.add(db_station)
    decision = authorize(id_tag=TAG, station=db_station)
    assert decision.reason == Reason.NOT_PERMITTED_AT_STATION


@pytest.mark.django_db
def test_authorize_reports_concurrent_tx_for_an_active_session_on_another_station(
    db_station, db_owner
):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    open_session(badge, StationFactory(company=db_owner))
    decision = authorize(id_tag=TAG, station=db_station)
    assert decision.status == AuthorizationStatus.CONCURRENT_TX
    assert decision.reason == Reason.CONCURRENT_SESSION


@pytest.mark.django_db
def test_authorize_accepts_a_badge_whose_active_session_is_on_the_same_station(
    db_station, db_owner
):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    open_session(badge, db_station, connector_id=2)
    assert authorize(id_tag=TAG, station=db_station).status == AuthorizationStatus.ACCEPTED


@pytest.mark.django_db
def test_authorize_ignores_a_stopped_session_on_another_station(db_station, db_owner):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    open_session(badge, StationFactory(company=db_owner), stopped_at=timezone.now())
    assert authorize(id_tag=TAG, station=db_station).status == AuthorizationStatus.ACCEPTED


@pytest.mark.django_db
def test_authorize_ignores_a_refused_session_the_other_station_never_stopped(db_station, db_owner):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    open_session(badge, StationFactory(company=db_owner), authorization_status="Blocked")
    assert authorize(id_tag=TAG, station=db_station).status == AuthorizationStatus.ACCEPTED


@pytest.mark.django_db
def test_authorize_reads_the_current_state_of_the_badge(db_station, db_owner):
    badge = BadgeFactory(company=db_owner, rfid=TAG)
    assert authorize(id_tag=TAG, station=db_station).accepted
    badge.state = BadgeState.DISABLED
    badge.save()
    assert authorize(id_tag=TAG, station=db_station).status == AuthorizationStatus.BLOCKED


@pytest.mark.django_db
def test_authorize_runs_in_at_most_four_queries_in_the_worst_case_without_reservations(
    db_station, django_assert_max_num_queries
):
    other = CompanyFactory()
    badge = BadgeFactory(company=other, rfid=TAG)
    group = AuthorizationGroupFactory(company=other)
    group.stations.add(db_station)
    badge.groups.add(group)
    open_session(badge, StationFactory(company=other))
    with django_assert_max_num_queries(4):
        decision = authorize(id_tag="vid:a0:14:31:0e:00:4e", station=db_station)
        # The decision's vehicle and company were loaded with the badge.
        assert decision.vehicle.license_plate
        assert decision.company.name
    assert decision.status == AuthorizationStatus.CONCURRENT_TX


@pytest.mark.django_db
def test_load_facts_gathers_group_and_concurrency_facts(db_station):
    other = CompanyFactory()
    badge = BadgeFactory(company=other, rfid=TAG)
    group = AuthorizationGroupFactory(company=other)
    group.stations.add(db_station)
    badge.groups.add(group)
    open_session(badge, StationFactory(company=other))
    loaded = load_facts(id_tag="vid:a014310e004e", station=db_station, now=NOW)
    assert loaded.id_tag == TAG
    assert not loaded.id_tag_malformed
    assert loaded.badge == badge
    assert loaded.station_in_badge_groups
    assert loaded.active_session_elsewhere
    assert loaded.now == NOW
