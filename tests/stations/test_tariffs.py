"""Tariffs and session costs: computed at the stop from the most specific valid tariff, kept
with the session whatever happens to the tariff later, validated so that two tariffs of one
scope never overlap."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from stations import tariffs
from stations.models import ChargingSession, Tariff
from stations.services import (
    PresentedToken,
    SampledValue,
    session_close_by_staff,
    session_correct_energy,
    session_start,
    session_stop,
    transaction_event_record,
)
from tests.factories import AuthorizationGroupFactory, BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def badge():
    return BadgeFactory()


@pytest.fixture
def station(badge):
    return StationFactory(company=badge.company)


def tariff(company, *, price="0.2500", fee="0", valid_from=T0 - timedelta(days=30), **fields):
    return tariffs.tariff_save(
        tariff=Tariff(
            company=company,
            price_per_kwh=Decimal(price),
            session_fee=Decimal(fee),
            valid_from=valid_from,
            **fields,
        )
    )


def charge(station, badge, *, energy_wh=12_345, started_at=T0) -> ChargingSession:
    session, decision = session_start(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        meter_start=1_000,
        started_at=started_at,
    )
    assert decision.status == "Accepted"
    return session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=1_000 + energy_wh,
        stopped_at=started_at + timedelta(minutes=40),
        reason="Local",
    )


def test_cost_at_stop_is_kwh_times_price_plus_fee_rounded_to_the_cent(station, badge):
    applied = tariff(badge.company, price="0.3333", fee="1.50", currency="EUR")

    session = charge(station, badge, energy_wh=12_345)

    stored = ChargingSession.objects.get(pk=session.pk)
    # 12.345 kWh x 0.3333 = 4.1145885, + 1.50 = 5.6145885 -> 5.61
    assert stored.cost == Decimal("5.61")
    assert stored.cost_currency == "EUR"
    assert stored.tariff == applied
    assert (stored.tariff_price_per_kwh, stored.tariff_session_fee) == (
        Decimal("0.3333"),
        Decimal("1.50"),
    )


def test_half_a_cent_rounds_up():
    assert tariffs.cost_of(
        energy_wh=1_000, price_per_kwh=Decimal("0.125"), session_fee=Decimal("0")
    ) == Decimal("0.13")
    assert (
        tariffs.cost_of(energy_wh=None, price_per_kwh=Decimal("1"), session_fee=Decimal("1"))
        is None
    )


def test_a_tariff_changed_or_deleted_afterwards_does_not_move_the_cost(station, badge):
    applied = tariff(badge.company, price="0.20")
    session = charge(station, badge, energy_wh=10_000)

    applied.price_per_kwh = Decimal("0.90")
    tariffs.tariff_save(tariff=applied)
    assert ChargingSession.objects.get(pk=session.pk).cost == Decimal("2.00")

    tariffs.tariff_delete(tariff=applied)
    stored = ChargingSession.objects.get(pk=session.pk)
    assert (stored.cost, stored.tariff_id, stored.tariff_price_per_kwh) == (
        Decimal("2.00"),
        None,
        Decimal("0.2000"),
    )


def test_a_staff_energy_correction_recomputes_from_the_recorded_prices(station, badge):
    applied = tariff(badge.company, price="0.20", fee="1.00")
    session = charge(station, badge, energy_wh=10_000)
    applied.price_per_kwh = Decimal("5")
    tariffs.tariff_save(tariff=applied)
    staff = get_user_model().objects.create_user(username="ops", is_staff=True)

    session_correct_energy(session=session, user=staff, reason="meter replaced", energy_wh=20_000)

    assert ChargingSession.objects.get(pk=session.pk).cost == Decimal("5.00")  # 20 x 0.20 + 1


def test_a_staff_close_prices_the_session(station, badge):
    tariff(badge.company, price="0.50")
    session, _ = session_start(
        station=station, connector_id=1, id_tag=badge.rfid, meter_start=0, started_at=T0
    )
    staff = get_user_model().objects.create_user(username="ops", is_staff=True)

    session_close_by_staff(session=session, user=staff, reason="lost", energy_wh=4_000)

    stored = ChargingSession.objects.get(pk=session.pk)
    assert (stored.cost, stored.cost_currency) == (Decimal("2.00"), "EUR")


def test_an_ocpp_201_transaction_ended_is_priced(station, badge):
    tariff(badge.company, price="0.40", currency="chf")

    def event(kind, seq_no, minutes, wh, **options):
        return transaction_event_record(
            station=station,
            station_transaction_id="tx-cost",
            event=kind,
            seq_no=seq_no,
            timestamp=T0 + timedelta(minutes=minutes),
            trigger_reason="EVDetected",
            samples=[SampledValue(timestamp=T0 + timedelta(minutes=minutes), value=str(wh))],
            **options,
        )

    event("Started", 0, 0, 1_000, token=PresentedToken(id_tag=badge.rfid))
    session, _ = event("Ended", 1, 30, 6_000)

    stored = ChargingSession.objects.get(pk=session.pk)
    assert (stored.energy_wh, stored.cost, stored.cost_currency) == (5_000, Decimal("2.00"), "CHF")


def test_the_most_specific_tariff_wins(station, badge):
    company = badge.company
    group = AuthorizationGroupFactory(company=company)
    group.stations.add(station)
    other_station = StationFactory(company=company)
    tariff(company, price="0.10")
    tariff(company, price="0.20", group=group)
    tariff(company, price="0.30", station=station)

    at_station = charge(station, badge, energy_wh=10_000)
    assert at_station.cost == Decimal("3.00")

    Tariff.objects.filter(station=station).delete()
    in_group = charge(station, badge, energy_wh=10_000, started_at=T0 + timedelta(hours=2))
    assert in_group.cost == Decimal("2.00")

    elsewhere = charge(other_station, badge, energy_wh=10_000, started_at=T0 + timedelta(hours=4))
    assert elsewhere.cost == Decimal("1.00")


def test_another_companys_tariff_never_prices_a_session(station, badge):
    tariff(StationFactory().company, price="9")
    session = charge(station, badge)
    stored = ChargingSession.objects.get(pk=session.pk)
    assert (stored.cost, stored.cost_currency, stored.tariff_id) == (None, "", None)


def test_validity_starts_included_and_ends_excluded(station, badge):
    boundary = T0 + timedelta(days=1)
    tariff(badge.company, price="0.10", valid_from=T0 - timedelta(days=1), valid_until=boundary)
    tariff(badge.company, price="0.20", valid_from=boundary)

    before = charge(station, badge, energy_wh=10_000, started_at=boundary - timedelta(seconds=1))
    at = charge(station, badge, energy_wh=10_000, started_at=boundary)

    assert (before.cost, at.cost) == (Decimal("1.00"), Decimal("2.00"))


def test_a_session_before_any_tariff_or_with_unknown_energy_has_no_cost(station, badge):
    tariff(badge.company, price="0.10", valid_from=T0 + timedelta(days=1))
    early = charge(station, badge, started_at=T0)
    assert early.cost is None

    tariff(badge.company, price="0.10", valid_from=T0 - timedelta(days=5), valid_until=T0)
    session, _ = session_start(
        station=station, connector_id=1, id_tag=badge.rfid, meter_start=5_000, started_at=T0
    )
    backwards = session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=10,  # a meter that went backwards: no energy, so no cost
        stopped_at=T0 + timedelta(minutes=5),
    )
    assert (backwards.energy_wh, backwards.cost) == (None, None)


def test_overlapping_tariffs_of_one_scope_are_refused_with_a_clear_message(badge):
    company = badge.company
    tariff(company, valid_from=T0, valid_until=T0 + timedelta(days=10))

    with pytest.raises(ValidationError) as refused:
        tariff(company, valid_from=T0 + timedelta(days=9))
    assert "Another tariff of the same scope" in str(refused.value)

    # Touching periods do not overlap, nor do tariffs of another scope.
    tariff(company, valid_from=T0 + timedelta(days=10))
    tariff(company, station=StationFactory(company=company), valid_from=T0)
    assert Tariff.objects.count() == 3


def test_an_open_tariff_overlaps_every_later_one(badge):
    tariff(badge.company, valid_from=T0)
    with pytest.raises(ValidationError):
        tariff(badge.company, valid_from=T0 - timedelta(days=5), valid_until=T0 + timedelta(days=1))


def test_negative_prices_bad_currency_and_foreign_scope_are_refused_in_french(badge):
    foreign_group = AuthorizationGroupFactory()
    with translation.override("fr"):
        with pytest.raises(ValidationError) as refused:
            tariff(badge.company, price="-1", currency="euro", group=foreign_group)
        errors = {
            field: " ".join(map(str, messages))
            for field, messages in refused.value.message_dict.items()
        }
    assert set(errors) >= {"price_per_kwh", "currency", "group"}
    assert "trois lettres majuscules" in errors["currency"]
    assert "autre entreprise" in errors["group"]
    assert not Tariff.objects.exists()


def test_a_station_of_a_partner_in_one_of_the_companys_groups_may_have_a_tariff(badge):
    partner_station = StationFactory()
    with pytest.raises(ValidationError) as refused:
        tariff(badge.company, station=partner_station)
    assert "station" in refused.value.message_dict

    AuthorizationGroupFactory(company=badge.company).stations.add(partner_station)
    assert tariff(badge.company, station=partner_station).pk


def test_the_demo_data_prices_the_demo_fleet_once():
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")

    assert sorted(
        Tariff.objects.filter(company__name="Demo Fleet").values_list("price_per_kwh", "group")
    )[0][0] == Decimal("0.25")
    assert Tariff.objects.count() == 2
