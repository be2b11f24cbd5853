"""Reservations in the authorization decision: ``reserved_for_another`` over loaded facts, and
``authorize`` loading them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges.authorization import (
    AuthorizationFacts,
    AuthorizationStatus,
    HeldConnector,
    Reason,
    authorize,
    decide,
    reserved_for_another,
)
from badges.models import Reservation, ReservationStatus
from stations.models import AuthMode, Connector
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory

NOW = timezone.now()
LATER = NOW + timedelta(minutes=30)
RESERVED = 7  # the badge a reservation is for
OTHER = 8  # another badge of the same company


@pytest.fixture
def station():
    return StationFactory.build(company=CompanyFactory.build(id=1))


def badge(station, pk):
    company = station.company
    return BadgeFactory.build(pk=pk, company=company, vehicle=VehicleFactory.build(company=company))


def facts(station, badge_pk, *held, connector=None, connectors=1, now=NOW, anyone=False):
    return AuthorizationFacts(
        station=station,
        id_tag="04A1B2C3",
        id_tag_malformed=False,
        badge=None if anyone else badge(station, badge_pk),
        station_in_badge_groups=False,
        active_session_elsewhere=False,
        now=now,
        connector_id=connector,
        reservations=tuple(held),
        connector_count=connectors,
    )


def held(connector, badge_pk=RESERVED, expires_at=LATER):
    return HeldConnector(connector_id=connector, badge_id=badge_pk, expires_at=expires_at)


def test_another_badge_is_refused_on_the_reserved_connector(station):
    decision = decide(facts(station, OTHER, held(1), connector=1, connectors=2))
    assert decision.status == AuthorizationStatus.INVALID
    assert decision.reason == Reason.RESERVED_FOR_ANOTHER


def test_the_reserved_badge_is_accepted_on_its_connector(station):
    decision = decide(facts(station, RESERVED, held(1), connector=1, connectors=2))
    assert decision.accepted


def test_another_badge_may_use_a_connector_nobody_reserved(station):
    assert decide(facts(station, OTHER, held(1), connector=2, connectors=2)).accepted


def test_a_reservation_past_its_expiry_no_longer_refuses(station):
    past = held(1, expires_at=NOW - timedelta(seconds=1))
    assert decide(facts(station, OTHER, past, connector=1)).accepted
    # The same facts, decided again later (the cache does so): refused, then not.
    early = facts(station, OTHER, held(1, expires_at=NOW + timedelta(seconds=5)), connector=1)
    assert not decide(early).accepted
    assert decide(facts(station, OTHER, *early.reservations, connector=1, now=LATER)).accepted


@pytest.mark.parametrize(
    ("reservations", "connector", "connectors", "refused"),
    [
        # Authorize names no connector: refused only when none is left.
        ([held(1)], None, 1, True),
        ([held(1)], None, 2, False),
        ([held(1), held(2, badge_pk=9)], None, 2, True),
        # "Any connector" reservations each take one of the free connectors.
        ([held(0)], None, 1, True),
        ([held(0)], 1, 2, False),
        ([held(0), held(0, badge_pk=9)], 2, 2, True),
        ([held(0), held(2, badge_pk=9)], 1, 2, True),
        # A reserved connector the station never reported still counts as one.
        ([held(3)], 1, 1, False),
        ([held(3)], 3, 1, True),
    ],
)
def test_what_others_reserved_leaves_this_badge(
    station, reservations, connector, connectors, refused
):
    checked = facts(station, OTHER, *reservations, connector=connector, connectors=connectors)
    assert reserved_for_another(checked) is refused


def test_the_reserved_badge_uses_its_any_connector_reservation_anywhere(station):
    assert decide(facts(station, RESERVED, held(0), connector=1)).accepted
    assert decide(facts(station, RESERVED, held(0))).accepted


def test_the_reserved_badge_is_refused_on_another_s_reserved_connector(station):
    mine, theirs = held(2, badge_pk=OTHER), held(1)
    assert not decide(facts(station, OTHER, mine, theirs, connector=1, connectors=2)).accepted
    assert decide(facts(station, OTHER, mine, theirs, connector=2, connectors=2)).accepted


def test_an_open_station_refuses_anyone_on_a_reserved_connector(station):
    station.auth_mode = AuthMode.OPEN
    decision = decide(facts(station, None, held(1), connector=1, anyone=True))
    assert decision.reason == Reason.RESERVED_FOR_ANOTHER
    assert decide(facts(station, RESERVED, held(1), connector=1)).reason == Reason.OPEN_CHARGE


def test_the_reason_is_told_in_french():
    from django.utils import translation

    with translation.override("fr"):
        assert str(Reason.RESERVED_FOR_ANOTHER.label) == "Connecteur réservé pour un autre badge"


# --- authorize(): the reservations loaded with the other facts -----------------------------


@pytest.mark.django_db
def test_authorize_loads_the_reservations_that_hold(django_assert_max_num_queries):
    station = StationFactory()
    Connector.objects.create(station=station, connector_id=1)
    reserved, other = BadgeFactory(company=station.company), BadgeFactory(company=station.company)
    Reservation.objects.create(
        station=station, badge=reserved, connector_id=1, reservation_id=1, expires_at=LATER
    )
    with django_assert_max_num_queries(5):
        refused = authorize(id_tag=other.rfid, station=station, connector_id=1)
    assert refused.reason == Reason.RESERVED_FOR_ANOTHER
    assert authorize(id_tag=other.rfid, station=station).reason == Reason.RESERVED_FOR_ANOTHER
    assert authorize(id_tag=reserved.rfid, station=station, connector_id=1).accepted


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "expires_at"),
    [
        (ReservationStatus.CANCELLED, LATER),
        (ReservationStatus.USED, LATER),
        (ReservationStatus.REJECTED, LATER),
        (ReservationStatus.ACCEPTED, NOW - timedelta(minutes=1)),
    ],
)
def test_reservations_that_ended_do_not_refuse(status, expires_at):
    station = StationFactory()
    reserved, other = BadgeFactory(company=station.company), BadgeFactory(company=station.company)
    Reservation.objects.create(
        station=station,
        badge=reserved,
        connector_id=1,
        reservation_id=1,
        expires_at=expires_at,
        status=status,
    )
    assert authorize(id_tag=other.rfid, station=station, connector_id=1).accepted
