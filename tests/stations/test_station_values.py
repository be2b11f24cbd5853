"""Values from stations: stored as sent where they fit, flagged, never counted when absurd;
stuck sessions closed by staff; refused starts closed; old records purged."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from ocpp_gateway.models import Direction, OcppMessage
from ocpp_gateway.transport.services import old_records_purge
from stations.models import (
    AnomalyKind,
    ChargingSession,
    CorrectionKind,
    MeterValue,
    TransactionAnomaly,
)
from stations.plausibility import INT64_MAX
from stations.services import (
    REFUSED_STOP_REASON,
    STAFF_STOP_REASON,
    SampledValue,
    connector_update_status,
    meter_values_record,
    session_close_by_staff,
    session_correct_energy,
    session_start,
    session_stop,
    station_record_boot,
    transaction_event_record,
)
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E0D02"
YEAR_9999 = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
YEAR_1970 = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def station():
    return StationFactory()


@pytest.fixture
def badge(station):
    return BadgeFactory(rfid=TAG, company=station.company)


def an_hour_ago() -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


def start(station, *, started_at=None, meter_start=1_000, id_tag=TAG, connector_id=1):
    session, _decision = session_start(
        station=station,
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=meter_start,
        started_at=started_at or an_hour_ago(),
    )
    return session


def flags(session) -> dict[str, dict]:
    return {anomaly.kind: anomaly.details for anomaly in session.anomalies.all()}


def test_a_start_dated_year_9999_gets_the_receive_time_and_the_sent_time_is_flagged(station, badge):
    before = timezone.now()
    session = start(station, started_at=YEAR_9999)

    session.refresh_from_db()
    assert before <= session.started_at <= timezone.now()
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_TIMESTAMP] == {
        "StartTransaction": YEAR_9999.isoformat()
    }
    assert AnomalyKind.FUTURE_TIMESTAMP not in flags(session)


def test_an_absurd_start_and_an_absurd_stop_are_both_kept_on_the_session(station, badge):
    session = start(station, started_at=YEAR_9999, meter_start=-1)
    session_stop(station=station, transaction_id=session.pk, meter_stop=2**64, stopped_at=YEAR_1970)

    recorded = flags(session)
    assert recorded[AnomalyKind.IMPLAUSIBLE_TIMESTAMP] == {
        "StartTransaction": YEAR_9999.isoformat(),
        "StopTransaction": YEAR_1970.isoformat(),
    }
    assert recorded[AnomalyKind.IMPLAUSIBLE_METER]["StopTransaction"]["meter_stop"] == str(2**64)


def test_a_start_dated_1970_replayed_finds_its_first_session(station, badge):
    first = start(station, started_at=YEAR_1970)
    again = start(station, started_at=YEAR_1970)

    assert again.pk == first.pk
    assert ChargingSession.objects.count() == 1
    assert AnomalyKind.REPLAYED_START in flags(first)


def test_a_meter_stop_of_int64_max_closes_the_session_without_energy(station, badge):
    session = start(station, meter_start=1_000)

    session_stop(
        station=station,
        transaction_id=session.pk,
        meter_stop=INT64_MAX,
        stopped_at=timezone.now(),
        reason="Local",
    )

    session.refresh_from_db()
    assert not session.is_active
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (1_000, INT64_MAX, None)
    flagged = flags(session)[AnomalyKind.IMPLAUSIBLE_METER]["StopTransaction"]
    assert (flagged["problem"], flagged["meter_stop"]) == ("beyond_power", INT64_MAX)


def test_a_meter_stop_beyond_int64_closes_the_session_and_keeps_the_value_as_text(station, badge):
    session = start(station)

    session_stop(
        station=station, transaction_id=session.pk, meter_stop=2**64, stopped_at=timezone.now()
    )

    session.refresh_from_db()
    assert (session.meter_stop, session.energy_wh, session.is_active) == (None, None, False)
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_METER]["StopTransaction"] == {
        "problem": "out_of_range",
        "transaction_id": session.pk,
        "meter_stop": str(2**64),
        "reason": "",
    }


def test_a_negative_meter_start_counts_no_energy(station, badge):
    session = start(station, meter_start=-500)
    session_stop(
        station=station, transaction_id=session.pk, meter_stop=2_000, stopped_at=timezone.now()
    )

    session.refresh_from_db()
    assert (session.meter_start, session.energy_wh) == (-500, None)
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_METER]["StopTransaction"]["problem"] == (
        "negative"
    )


def test_a_stop_dated_1970_gets_the_receive_time(station, badge):
    session = start(station)
    session_stop(station=station, transaction_id=session.pk, meter_stop=5_000, stopped_at=YEAR_1970)

    session.refresh_from_db()
    assert session.stopped_at >= session.started_at
    assert session.energy_wh == 4_000
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_TIMESTAMP] == {
        "StopTransaction": YEAR_1970.isoformat()
    }


def test_meter_values_with_absurd_timestamps_and_readings_are_kept_and_flagged(station, badge):
    session = start(station)
    meter_values_record(
        station=station,
        connector_id=1,
        transaction_id=session.pk,
        samples=[
            SampledValue(timestamp=YEAR_9999, value="1200"),
            SampledValue(timestamp=an_hour_ago(), value="-7"),
        ],
    )

    stored = list(session.meter_values.order_by("id").values_list("value", "timestamp"))
    assert [value for value, _ in stored] == ["1200", "-7"]
    assert stored[0][1].year == timezone.now().year
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_METER]["meter value"]["value"] == "-7"
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_TIMESTAMP] == {
        "meter value": {"timestamp": YEAR_9999.isoformat(), "count": 1}
    }


def test_a_frame_of_many_absurd_samples_is_flagged_once_with_a_count(station, badge):
    session = start(station)
    meter_values_record(
        station=station,
        connector_id=1,
        transaction_id=session.pk,
        samples=[SampledValue(timestamp=YEAR_1970, value="NaN") for _ in range(500)],
    )

    assert session.meter_values.count() == 500
    flagged = sorted(
        (anomaly.kind, anomaly.occurrences, anomaly.details["meter value"]["count"])
        for anomaly in session.anomalies.all()
    )
    assert flagged == [
        (AnomalyKind.IMPLAUSIBLE_METER, 1, 500),
        (AnomalyKind.IMPLAUSIBLE_TIMESTAMP, 1, 500),
    ]


def event(station, kind, seq_no, *, timestamp=None, samples=(), **options):
    return transaction_event_record(
        station=station,
        station_transaction_id="tx-values",
        event=kind,
        seq_no=seq_no,
        timestamp=timestamp or an_hour_ago(),
        trigger_reason="MeterValuePeriodic",
        samples=samples,
        **options,
    )


def register(value: str, timestamp=None) -> SampledValue:
    return SampledValue(timestamp=timestamp or an_hour_ago(), value=value, unit="Wh")


@pytest.mark.parametrize("reading", ["1000000000000000000000000000000", "Infinity", "NaN"])
def test_an_ended_event_with_an_absurd_reading_closes_the_session_without_energy(station, reading):
    event(station, "Started", 0, samples=[register("1000")])
    session, _ = event(
        station, "Ended", 1, timestamp=timezone.now(), samples=[register(reading, timezone.now())]
    )

    session.refresh_from_db()
    assert not session.is_active
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (1000, None, None)
    assert flags(session)[AnomalyKind.IMPLAUSIBLE_METER]["meter value"]["value"] == reading
    assert session.meter_values.filter(value=reading).exists()


def test_an_updated_event_after_ended_is_kept_and_flagged_and_changes_nothing(station):
    event(station, "Started", 0, samples=[register("1000")])
    session, _ = event(station, "Ended", 1, samples=[register("3000")])
    energy = session.energy_wh

    event(station, "Updated", 2, samples=[register("9000")])

    session.refresh_from_db()
    assert (session.energy_wh, session.meter_stop) == (energy, 3000)
    assert session.events.filter(seq_no=2, event_type="Updated").exists()
    assert session.meter_values.filter(value="9000").exists()
    assert flags(session)[AnomalyKind.EVENT_AFTER_END]["seq_no"] == 2


def test_a_started_event_dated_year_9999_gets_the_receive_time(station):
    session, _ = event(station, "Started", 0, timestamp=YEAR_9999)

    session.refresh_from_db()
    assert session.started_at.year == timezone.now().year
    assert session.events.get().timestamp == session.started_at
    assert AnomalyKind.IMPLAUSIBLE_TIMESTAMP in flags(session)


def test_a_connector_status_dated_1970_gets_the_receive_time(station):
    connector_update_status(station=station, connector_id=1, status="Charging", timestamp=YEAR_1970)

    connector = station.connectors.get()
    assert connector.updated_at.year == timezone.now().year
    assert TransactionAnomaly.objects.get().kind == AnomalyKind.IMPLAUSIBLE_TIMESTAMP


def refused_start(station) -> ChargingSession:
    return start(station, id_tag="UNKNOWN-TAG")


def test_a_refused_start_is_closed_as_refused_once_its_connector_is_available(station):
    refused = refused_start(station)
    other_connector = start(station, id_tag="UNKNOWN-2", connector_id=2)

    connector_update_status(station=station, connector_id=1, status="Available")

    refused.refresh_from_db()
    other_connector.refresh_from_db()
    assert (refused.is_active, refused.stop_reason, refused.energy_wh) == (
        False,
        REFUSED_STOP_REASON,
        None,
    )
    assert other_connector.is_active


def test_an_accepted_session_stays_open_when_its_connector_says_available(station, badge):
    session = start(station)
    connector_update_status(station=station, connector_id=1, status="Available")
    session.refresh_from_db()
    assert session.is_active


def test_a_refused_start_is_closed_at_reboot_and_never_flagged_open_at_reboot(station, badge):
    refused = refused_start(station)
    accepted = start(station, connector_id=2)

    for _ in range(2):
        station_record_boot(station=station, vendor="V", model="M")

    refused.refresh_from_db()
    assert (refused.is_active, refused.stop_reason) == (False, REFUSED_STOP_REASON)
    assert AnomalyKind.OPEN_AT_REBOOT not in flags(refused)
    assert flags(accepted).keys() == {AnomalyKind.OPEN_AT_REBOOT}


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(username="operator", is_staff=True)


def test_staff_close_a_stuck_session_with_who_when_and_why_and_the_originals_stay(
    station, badge, staff
):
    session = start(station, meter_start=1_000)
    station_record_boot(station=station, vendor="V", model="M")
    ended = timezone.now() - timedelta(minutes=10)

    correction = session_close_by_staff(
        session=session, user=staff, reason="Station replaced", energy_wh=7_000, stopped_at=ended
    )

    session.refresh_from_db()
    assert (session.stopped_at, session.stop_reason, session.energy_wh) == (
        ended,
        STAFF_STOP_REASON,
        7_000,
    )
    assert (session.meter_start, session.meter_stop) == (1_000, None)
    assert (correction.kind, correction.corrected_by, correction.reason) == (
        CorrectionKind.CLOSE,
        staff,
        "Station replaced",
    )
    assert (correction.energy_wh_before, correction.energy_wh_after) == (None, 7_000)
    assert session.anomalies.get(kind=AnomalyKind.OPEN_AT_REBOOT).resolved_at is not None


def test_a_station_stop_after_a_staff_close_is_kept_as_a_duplicate_stop(station, badge, staff):
    session = start(station)
    session_close_by_staff(session=session, user=staff, reason="Stuck")

    session_stop(
        station=station, transaction_id=session.pk, meter_stop=9_000, stopped_at=timezone.now()
    )

    session.refresh_from_db()
    assert (session.stop_reason, session.energy_wh) == (STAFF_STOP_REASON, None)
    assert flags(session)[AnomalyKind.DUPLICATE_STOP]["meter_stop"] == 9_000


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"reason": "  "}, "required"),
        ({"reason": "x", "energy_wh": -1}, "energy_range"),
        ({"reason": "x", "stopped_at": datetime(2000, 1, 1, tzinfo=UTC)}, "stopped_at_range"),
    ],
)
def test_a_staff_close_needs_a_reason_and_possible_values(station, badge, staff, fields, code):
    session = start(station)
    with pytest.raises(ValidationError) as raised:
        session_close_by_staff(session=session, user=staff, **fields)
    [[error]] = raised.value.error_dict.values()
    assert error.code == code
    session.refresh_from_db()
    assert session.is_active and not session.corrections.exists()


def test_a_closed_session_cannot_be_closed_again_but_its_energy_can_be_corrected(
    station, badge, staff
):
    session = start(station)
    session_stop(
        station=station, transaction_id=session.pk, meter_stop=INT64_MAX, stopped_at=timezone.now()
    )
    with pytest.raises(ValidationError) as raised:
        session_close_by_staff(session=session, user=staff, reason="again")
    assert raised.value.code == "closed"

    correction = session_correct_energy(
        session=session, user=staff, reason="Meter read on site", energy_wh=12_345
    )

    session.refresh_from_db()
    assert (session.energy_wh, session.meter_stop) == (12_345, INT64_MAX)
    assert (correction.kind, correction.energy_wh_before, correction.energy_wh_after) == (
        CorrectionKind.ENERGY,
        None,
        12_345,
    )


def test_an_open_session_energy_cannot_be_corrected(station, badge, staff):
    session = start(station)
    with pytest.raises(ValidationError) as raised:
        session_correct_energy(session=session, user=staff, reason="x", energy_wh=1)
    assert raised.value.code == "active"


def log(station, created_at):
    return OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction=Direction.IN,
        payload={},
        created_at=created_at,
    )


def test_the_purge_deletes_old_log_frames_and_old_closed_sessions_meter_values_only(
    station, badge, settings
):
    settings.OCPP_LOG_RETENTION_DAYS = 90
    settings.METER_VALUE_RETENTION_DAYS = 400
    now = timezone.now()
    old_frame, recent_frame = log(station, now - timedelta(days=91)), log(station, now)
    closed_long_ago = start(station, started_at=now - timedelta(days=500))
    session_stop(
        station=station,
        transaction_id=closed_long_ago.pk,
        meter_stop=2_000,
        stopped_at=now - timedelta(days=500),
    )
    ChargingSession.objects.filter(pk=closed_long_ago.pk).update(
        stopped_at=now - timedelta(days=401)
    )
    still_open = start(station, connector_id=2, started_at=now - timedelta(hours=2))
    for session in (closed_long_ago, still_open):
        meter_values_record(
            station=station,
            connector_id=session.connector_id,
            transaction_id=session.pk,
            samples=[SampledValue(timestamp=now - timedelta(hours=1), value="1500")],
        )
    MeterValue.objects.create(
        station=station,
        connector_id=1,
        timestamp=now,
        received_at=now - timedelta(days=401),
        value="1",
    )

    purged = old_records_purge(now=now)

    assert purged == {"messages": 1, "connections": 0, "meter_values": 2}
    assert list(OcppMessage.objects.all()) == [recent_frame]
    assert not OcppMessage.objects.filter(pk=old_frame.pk).exists()
    assert list(MeterValue.objects.values_list("session", flat=True)) == [still_open.pk]
    assert ChargingSession.objects.count() == 2


def test_the_stations_own_stop_of_a_refused_start_closed_before_is_not_a_duplicate(station):
    refused = refused_start(station)
    connector_update_status(station=station, connector_id=1, status="Available")

    session_stop(
        station=station, transaction_id=refused.pk, meter_stop=1_000, stopped_at=timezone.now()
    )

    refused.refresh_from_db()
    assert (refused.stop_reason, refused.meter_stop) == (REFUSED_STOP_REASON, None)
    assert not refused.anomalies.exists()
