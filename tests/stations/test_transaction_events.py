"""OCPP 2.0.1 transactions in the domain: one session per station transactionId, built from its
events whatever order they come in, never refusing any."""

from datetime import UTC, datetime, timedelta

import pytest

from badges.models import AuthorizationChange
from stations.models import AnomalyKind, ChargingSession, TransactionAnomaly
from stations.services import (
    PresentedToken,
    SampledValue,
    station_record_boot,
    transaction_event_record,
)
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def register(minutes: int, value: str, unit: str = "Wh", **fields) -> SampledValue:
    return SampledValue(timestamp=T0 + timedelta(minutes=minutes), value=value, unit=unit, **fields)


def record(station, event, seq_no, minutes=0, **options):
    return transaction_event_record(
        station=station,
        station_transaction_id="tx-1",
        event=event,
        seq_no=seq_no,
        timestamp=T0 + timedelta(minutes=minutes),
        trigger_reason="MeterValuePeriodic",
        **options,
    )


@pytest.fixture
def station():
    return StationFactory()


def test_kwh_readings_count_in_wh_and_phase_readings_do_not(station):
    record(station, "Started", 0, samples=[register(0, "10.5", "kWh")])
    session, _ = record(
        station,
        "Ended",
        1,
        30,
        samples=[register(30, "12.0", "kWh"), register(30, "9999", phase="L1")],
    )

    assert (session.meter_start, session.meter_stop, session.energy_wh) == (10_500, 12_000, 1_500)


def test_an_event_before_its_start_opens_the_session_and_is_flagged(station):
    session, decision = record(station, "Updated", 3, 10)

    assert decision is None
    assert (session.station_transaction_id, session.started_at) == (
        "tx-1",
        T0 + timedelta(minutes=10),
    )
    anomaly = TransactionAnomaly.objects.get()
    assert (anomaly.kind, anomaly.session) == (AnomalyKind.UNKNOWN_TRANSACTION, session)

    record(station, "Started", 0)

    assert ChargingSession.objects.get().started_at == T0


def test_a_second_end_is_flagged_and_the_first_kept(station):
    record(station, "Started", 0, samples=[register(0, "100")])
    record(station, "Ended", 1, 10, stopped_reason="Local", samples=[register(10, "600")])

    session, _ = record(station, "Ended", 2, 20, stopped_reason="Other")

    assert (session.stop_reason, session.energy_wh) == ("Local", 500)
    assert TransactionAnomaly.objects.get().kind == AnomalyKind.DUPLICATE_STOP


def test_a_meter_going_backwards_gives_no_energy_and_is_flagged(station):
    record(station, "Started", 0, samples=[register(0, "900")])
    session, _ = record(station, "Ended", 1, 10, samples=[register(10, "100")])

    assert session.energy_wh is None
    assert TransactionAnomaly.objects.get().kind == AnomalyKind.METER_BACKWARDS


def test_a_session_open_at_a_reboot_is_resolved_by_its_end(station):
    BadgeFactory(rfid="04AABBCC", company=station.company)
    record(station, "Started", 0, token=PresentedToken(id_tag="04AABBCC"))
    station_record_boot(station=station, vendor="V", model="M", reason="PowerUp")

    record(station, "Ended", 1, 5, stopped_reason="PowerLoss")

    anomaly = TransactionAnomaly.objects.get(kind=AnomalyKind.OPEN_AT_REBOOT)
    assert anomaly.resolved_at is not None


def test_an_unsupported_identifier_is_refused_and_the_session_kept(station):
    session, decision = record(
        station, "Started", 0, token=PresentedToken(id_tag="FR-X-1", unsupported=True)
    )

    assert (decision.status, session.authorization_reason) == ("Invalid", "unsupported_identifier")


def test_meter_value_events_do_not_count_as_changes_of_who_charges(station):
    badge = BadgeFactory(company=station.company)
    record(station, "Started", 0, token=PresentedToken(id_tag=badge.rfid))
    attributed = AuthorizationChange.objects.count()

    for seq_no in (1, 2, 3):
        record(station, "Updated", seq_no, seq_no, samples=[register(seq_no, str(seq_no * 100))])
    session, _ = record(station, "Ended", 4, 4)

    assert attributed >= 1  # the start named the badge: caches hear of it
    assert AuthorizationChange.objects.count() == attributed + 1  # the end only
    assert (session.badge, session.energy_wh) == (badge, 200)
