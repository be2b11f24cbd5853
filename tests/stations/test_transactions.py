"""Transactions never lost nor duplicated: replays, repeated and orphan stops, late offline
data and reboots are stored and flagged, never refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges.models import BadgeState
from stations.models import AnomalyKind, ChargingSession, MeterValue, TransactionAnomaly
from stations.services import (
    SampledValue,
    meter_values_record,
    session_start,
    session_stop,
    station_record_boot,
)
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E0D01"


@pytest.fixture
def station():
    return StationFactory()


@pytest.fixture
def badge(station):
    return BadgeFactory(rfid=TAG, company=station.company)


def start(station, started_at=None, meter_start=1_000):
    return session_start(
        station=station,
        connector_id=1,
        id_tag=TAG,
        meter_start=meter_start,
        started_at=started_at or timezone.now().replace(microsecond=0),
    )


def kinds(station) -> list[tuple[str, int]]:
    return list(station.anomalies.order_by("created_at").values_list("kind", "occurrences"))


def test_a_replayed_start_gets_the_same_transaction_and_answer_and_one_session(station, badge):
    moment = timezone.now().replace(microsecond=0)
    first, _ = start(station, moment)
    badge.state = BadgeState.DISABLED  # changed since: the replay still gets the first answer
    badge.save()

    again, again_decision = start(station, moment)

    assert again.transaction_id == first.transaction_id
    assert (again_decision.status, again_decision.reason) == ("Accepted", "accepted")
    assert ChargingSession.objects.count() == 1
    assert kinds(station) == [("replayed_start", 1)]


def test_a_start_with_other_content_is_a_new_session(station, badge):
    moment = timezone.now().replace(microsecond=0)
    start(station, moment)
    start(station, moment + timedelta(seconds=1))
    assert ChargingSession.objects.count() == 2


def test_a_second_stop_never_overwrites_the_first(station, badge):
    session, _ = start(station)
    stopped_at = timezone.now()
    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=5_000,
        stopped_at=stopped_at,
        reason="Local",
    )

    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=9_999,
        stopped_at=stopped_at + timedelta(minutes=5),
        reason="Remote",
        samples=[SampledValue(timestamp=stopped_at, value="9999")],
    )

    session.refresh_from_db()
    assert (session.meter_stop, session.energy_wh, session.stop_reason) == (5_000, 4_000, "Local")
    assert not MeterValue.objects.exists()
    anomaly = station.anomalies.get()
    assert (anomaly.kind, anomaly.session, anomaly.details["meter_stop"]) == (
        "duplicate_stop",
        session,
        9_999,
    )


@pytest.mark.parametrize("transaction_id", [-1, 0, 424242, 2**70])
def test_a_stop_for_a_transaction_nobody_started_is_kept_and_flagged(station, transaction_id):
    result = session_stop(
        station=station,
        transaction_id=transaction_id,
        meter_stop=1,
        stopped_at=timezone.now(),
        samples=[SampledValue(timestamp=timezone.now(), value="1")],
    )

    assert result is None
    anomaly = station.anomalies.get()
    assert anomaly.kind == "unknown_transaction"
    assert anomaly.details["transaction_id"] == transaction_id
    assert anomaly.transaction_id == (transaction_id if 0 < transaction_id < 2**63 else None)
    assert MeterValue.objects.get().session is None


def test_meter_values_of_an_unknown_transaction_are_kept_and_counted_once(station):
    for _ in range(3):
        meter_values_record(
            station=station,
            connector_id=1,
            transaction_id=777,
            samples=[SampledValue(timestamp=timezone.now(), value="10")],
        )
    assert MeterValue.objects.filter(session=None).count() == 3
    assert kinds(station) == [("unknown_transaction", 3)]


def test_late_offline_messages_are_stored_with_both_clocks_and_the_right_energy(station, badge):
    hours_ago = timezone.now().replace(microsecond=0) - timedelta(hours=6)
    session, decision = start(station, hours_ago, meter_start=10_000)
    meter_values_record(
        station=station,
        connector_id=1,
        transaction_id=session.transaction_id,
        samples=[SampledValue(timestamp=hours_ago + timedelta(minutes=30), value="20000")],
    )
    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=34_500,
        stopped_at=hours_ago + timedelta(hours=1),
    )

    session.refresh_from_db()
    assert decision.accepted
    assert (session.started_at, session.stopped_at) == (hours_ago, hours_ago + timedelta(hours=1))
    assert session.created_at > session.started_at + timedelta(hours=5)
    assert session.stop_received_at > session.stopped_at + timedelta(hours=4)
    assert session.energy_wh == 24_500
    reading = session.meter_values.get()
    assert reading.received_at > reading.timestamp + timedelta(hours=5)
    assert not TransactionAnomaly.objects.exists()


def test_a_meter_going_backwards_and_a_future_timestamp_are_flagged_not_refused(station, badge):
    future = timezone.now() + timedelta(hours=2)
    session, decision = start(station, future, meter_start=50_000)
    session_stop(
        station=station, transaction_id=session.transaction_id, meter_stop=10, stopped_at=future
    )

    session.refresh_from_db()
    assert decision.accepted and session.meter_stop == 10 and session.energy_wh is None
    assert sorted(kind for kind, _ in kinds(station)) == ["future_timestamp", "meter_backwards"]
    assert station.anomalies.get(kind="future_timestamp").occurrences == 2


def test_a_reboot_flags_open_sessions_until_their_stop_reports_the_interruption(station, badge):
    session, _ = start(station)
    station_record_boot(station=station, vendor="Kempower", model="S")

    anomaly = TransactionAnomaly.objects.get()
    assert (anomaly.kind, anomaly.session, anomaly.resolved_at) == (
        AnomalyKind.OPEN_AT_REBOOT,
        session,
        None,
    )

    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=2_000,
        stopped_at=timezone.now(),
        reason="PowerLoss",
    )

    anomaly.refresh_from_db()
    session.refresh_from_db()
    assert anomaly.resolved_at is not None
    assert (session.stop_reason, session.energy_wh) == ("PowerLoss", 1_000)


def test_a_reboot_with_no_open_session_flags_nothing(station, badge):
    session, _ = start(station)
    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=1_500,
        stopped_at=timezone.now(),
    )
    station_record_boot(station=station, vendor="Kempower", model="S")
    assert not TransactionAnomaly.objects.exists()
