"""What the gateway writes about stations and their sessions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges.authorization import AuthorizationStatus, Reason
from badges.models import BadgeState
from stations.models import (
    ChargingSession,
    ConnectionState,
    Connector,
    MeterValue,
    StationConnection,
)
from stations.services import (
    SampledValue,
    connector_update_status,
    meter_values_record,
    session_start,
    session_stop,
    station_connection_close,
    station_connection_open,
    station_record_boot,
    station_record_heartbeat,
    stations_release,
)
from tests.factories import BadgeFactory, CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E004E"
T0 = timezone.now().replace(microsecond=0)


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def station(company):
    return StationFactory(company=company)


@pytest.fixture
def badge(company):
    return BadgeFactory(company=company, rfid=TAG)


def start(station, id_tag=TAG, connector_id=1, meter_start=1000):
    session, _ = session_start(
        station=station,
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=meter_start,
        started_at=T0,
    )
    return session


def sample(value, minutes=0, **kwargs):
    return SampledValue(timestamp=T0 + timedelta(minutes=minutes), value=str(value), **kwargs)


# session_start


def test_session_start_attributes_the_session_to_the_badge_vehicle_and_company(
    station, badge, company
):
    session, decision = session_start(
        station=station,
        connector_id=2,
        id_tag="vid:a0:14:31:0e:00:4e",
        meter_start=1500,
        started_at=T0,
    )
    assert decision.accepted
    session = ChargingSession.objects.get(pk=session.pk)
    assert session.badge == badge
    assert session.vehicle == badge.vehicle
    assert session.company == company
    assert session.station == station
    assert session.connector_id == 2
    assert session.auth_method == "autocharge"
    assert session.authorization_status == AuthorizationStatus.ACCEPTED
    assert session.authorization_reason == Reason.ACCEPTED
    assert session.id_tag == "vid:a0:14:31:0e:00:4e"  # as the station sent it
    assert session.meter_start == 1500
    assert session.started_at == T0
    assert session.is_active
    assert session.energy_wh is None


def test_session_start_of_an_rfid_badge_is_authorized_by_rfid(station, company):
    BadgeFactory(company=company, rfid="04A1B2C3")
    session = start(station, id_tag="04a1b2c3")
    assert session.auth_method == "rfid"
    assert session.authorization_status == AuthorizationStatus.ACCEPTED


def test_session_start_on_an_open_station_is_open_and_anonymous_for_an_unknown_tag(company):
    station = StationFactory(company=company, auth_mode="open")
    session = start(station, id_tag="04A1B2C3")
    assert session.auth_method == "open"
    assert session.authorization_status == AuthorizationStatus.ACCEPTED
    assert session.authorization_reason == Reason.OPEN_CHARGE
    assert session.badge is None
    assert session.vehicle is None
    assert session.company is None


def test_session_start_stores_the_refusal_of_a_disabled_badge(station, badge):
    badge.state = BadgeState.DISABLED
    badge.save()
    session, decision = session_start(
        station=station, connector_id=1, id_tag=TAG, meter_start=0, started_at=T0
    )
    assert decision.status == AuthorizationStatus.BLOCKED
    session = ChargingSession.objects.get(pk=session.pk)
    assert session.authorization_status == "Blocked"
    assert session.authorization_reason == "badge_disabled"
    assert session.badge == badge
    assert session.vehicle == badge.vehicle
    assert session.auth_method == "autocharge"


def test_session_start_stores_an_unknown_tag_without_attribution(station):
    session = start(station, id_tag="VID:0214310E004E")
    assert session.authorization_status == AuthorizationStatus.INVALID
    assert session.authorization_reason == Reason.UNKNOWN_BADGE
    assert session.badge is None
    assert session.company is None


def test_session_start_refuses_the_same_badge_starting_on_a_second_station(station, badge, company):
    start(station)
    session, decision = session_start(
        station=StationFactory(company=company),
        connector_id=1,
        id_tag=TAG,
        meter_start=0,
        started_at=T0,
    )
    assert decision.status == AuthorizationStatus.CONCURRENT_TX
    assert session.authorization_reason == Reason.CONCURRENT_SESSION
    assert ChargingSession.objects.count() == 2


def test_each_session_gets_its_own_transaction_id(station, badge):
    first = start(station, connector_id=1)
    second = start(station, connector_id=2)
    assert first.transaction_id != second.transaction_id


# session_stop


def test_session_stop_computes_the_energy_and_stores_the_transaction_data(station, badge):
    session = start(station, meter_start=1000)
    stopped_at = T0 + timedelta(minutes=30)
    result = session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=13_500,
        stopped_at=stopped_at,
        reason="EVDisconnected",
        samples=[
            sample(1000, context="Transaction.Begin", unit="Wh"),
            sample(13_500, minutes=30, context="Transaction.End", unit="Wh"),
        ],
    )
    assert result.pk == session.pk
    session.refresh_from_db()
    assert session.meter_stop == 13_500
    assert session.energy_wh == 12_500
    assert session.stopped_at == stopped_at
    assert session.stop_reason == "EVDisconnected"
    assert not session.is_active
    values = list(session.meter_values.all())
    assert [(v.value, v.context, v.unit) for v in values] == [
        ("1000", "Transaction.Begin", "Wh"),
        ("13500", "Transaction.End", "Wh"),
    ]
    assert all(v.station == station and v.connector_id == session.connector_id for v in values)


def test_session_stop_with_the_meter_unchanged_gives_zero_energy(station, badge):
    session = start(station, meter_start=1000)
    session_stop(
        station=station, transaction_id=session.transaction_id, meter_stop=1000, stopped_at=T0
    )
    session.refresh_from_db()
    assert session.energy_wh == 0


def test_a_meter_going_backwards_gives_no_energy(station, badge):
    session = start(station, meter_start=5000)
    session_stop(
        station=station, transaction_id=session.transaction_id, meter_stop=20, stopped_at=T0
    )
    session.refresh_from_db()
    assert session.meter_stop == 20
    assert session.energy_wh is None
    assert session.stopped_at == T0


def test_a_second_stop_changes_nothing_and_adds_no_meter_values(station, badge):
    session = start(station, meter_start=1000)
    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=2000,
        stopped_at=T0 + timedelta(minutes=10),
        reason="Local",
        samples=[sample(2000, minutes=10)],
    )
    again = session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=9000,
        stopped_at=T0 + timedelta(minutes=50),
        reason="Remote",
        samples=[sample(9000, minutes=50), sample(9100, minutes=51)],
    )
    assert again.pk == session.pk
    session.refresh_from_db()
    assert session.meter_stop == 2000
    assert session.energy_wh == 1000
    assert session.stopped_at == T0 + timedelta(minutes=10)
    assert session.stop_reason == "Local"
    assert MeterValue.objects.count() == 1


def test_session_stop_of_an_unknown_transaction_returns_none(station):
    assert (
        session_stop(station=station, transaction_id=987_654, meter_stop=10, stopped_at=T0) is None
    )
    assert not MeterValue.objects.exists()


def test_session_stop_of_another_stations_transaction_returns_none_and_changes_nothing(
    station, badge, company
):
    session = start(station)
    other = StationFactory(company=company)
    result = session_stop(
        station=other,
        transaction_id=session.transaction_id,
        meter_stop=99_999,
        stopped_at=T0,
        samples=[sample(99_999)],
    )
    assert result is None
    session.refresh_from_db()
    assert session.is_active
    assert session.meter_stop is None
    # Nothing is lost: the readings are kept, attached to no session, and the stop is flagged.
    assert list(MeterValue.objects.values_list("station", "session")) == [(other.pk, None)]
    anomaly = other.anomalies.get()
    assert (anomaly.kind, anomaly.transaction_id) == ("unknown_transaction", session.transaction_id)


# meter_values_record


def test_meter_values_are_attached_to_the_right_session(station, badge, company):
    BadgeFactory(company=company, rfid="04A1B2C3")
    first = start(station, connector_id=1)
    second = start(station, id_tag="04A1B2C3", connector_id=2)
    result = meter_values_record(
        station=station,
        connector_id=2,
        transaction_id=second.transaction_id,
        samples=[
            sample(1200, minutes=1, unit="Wh"),
            sample("7.4", minutes=1, measurand="Power.Active.Import", unit="kW", phase="L1"),
        ],
    )
    assert result.pk == second.pk
    assert not first.meter_values.exists()
    values = list(second.meter_values.order_by("measurand"))
    assert [(v.measurand, v.value, v.unit, v.phase) for v in values] == [
        ("Energy.Active.Import.Register", "1200", "Wh", ""),
        ("Power.Active.Import", "7.4", "kW", "L1"),
    ]
    assert all(v.connector_id == 2 and v.station == station for v in values)


def test_meter_values_of_an_unknown_transaction_are_kept_unattached(station):
    result = meter_values_record(
        station=station, connector_id=1, transaction_id=424_242, samples=[sample(10)]
    )
    assert result is None
    value = MeterValue.objects.get()
    assert value.session is None
    assert value.station == station
    assert value.value == "10"


def test_meter_values_without_transaction_are_kept_unattached(station):
    assert (
        meter_values_record(
            station=station, connector_id=0, transaction_id=None, samples=[sample(5)]
        )
        is None
    )
    assert MeterValue.objects.get().session is None


def test_meter_values_naming_another_stations_transaction_are_not_attached_to_it(
    station, badge, company
):
    session = start(station)
    other = StationFactory(company=company)
    result = meter_values_record(
        station=other, connector_id=1, transaction_id=session.transaction_id, samples=[sample(1)]
    )
    assert result is None
    value = MeterValue.objects.get()
    assert value.session is None
    assert value.station == other


# connector_update_status


def test_connector_update_status_creates_then_updates_one_row(station):
    first_at = T0
    connector_update_status(station=station, connector_id=1, status="Available", timestamp=first_at)
    created = Connector.objects.get()
    assert (created.status, created.updated_at) == ("Available", first_at)

    later = T0 + timedelta(minutes=5)
    connector_update_status(
        station=station,
        connector_id=1,
        status="Faulted",
        error_code="GroundFailure",
        info="RCD tripped",
        vendor_error_code="E42",
        timestamp=later,
    )
    row = Connector.objects.get()
    assert row.pk == created.pk
    assert (row.status, row.error_code, row.info, row.vendor_error_code, row.updated_at) == (
        "Faulted",
        "GroundFailure",
        "RCD tripped",
        "E42",
        later,
    )


def test_a_status_without_timestamp_is_dated_now_and_clears_the_previous_error(station):
    connector_update_status(station=station, connector_id=1, status="Faulted", error_code="X")
    before = timezone.now()
    connector_update_status(station=station, connector_id=1, status="Available")
    row = Connector.objects.get()
    assert row.error_code == ""
    assert row.updated_at >= before


def test_connectors_are_kept_per_station_and_connector_id(station, company):
    other = StationFactory(company=company)
    connector_update_status(station=station, connector_id=0, status="Available")
    connector_update_status(station=station, connector_id=1, status="Charging")
    connector_update_status(station=other, connector_id=1, status="Preparing")
    assert Connector.objects.count() == 3
    assert Connector.objects.get(station=station, connector_id=1).status == "Charging"
    assert Connector.objects.get(station=other, connector_id=1).status == "Preparing"


# station_record_boot and connection state


def test_station_record_boot_stores_identity_and_times(station):
    before = timezone.now()
    station_record_boot(
        station=station,
        vendor="Kempower",
        model="S-Series",
        serial_number="KP-0001",
        firmware_version="1.42.0",
    )
    station.refresh_from_db()
    assert (station.vendor, station.model, station.serial_number, station.firmware_version) == (
        "Kempower",
        "S-Series",
        "KP-0001",
        "1.42.0",
    )
    assert station.last_boot_at >= before
    assert station.last_heartbeat_at == station.last_boot_at
    assert station.connection_state == ConnectionState.CONNECTED


def test_a_later_boot_replaces_the_firmware_version(station):
    station_record_boot(station=station, vendor="Delta", model="DC Wallbox", firmware_version="1.0")
    station_record_boot(station=station, vendor="Delta", model="DC Wallbox", firmware_version="2.0")
    station.refresh_from_db()
    assert station.firmware_version == "2.0"
    assert station.serial_number == ""


def test_a_heartbeat_moves_only_the_heartbeat_time(station):
    station_record_boot(station=station, vendor="Alfen", model="Eve")
    station.refresh_from_db()
    boot_at = station.last_boot_at
    station_record_heartbeat(station=station)
    station.refresh_from_db()
    assert station.last_boot_at == boot_at
    assert station.last_heartbeat_at >= boot_at


def open_connection(station, connection_id: str, process: str = "p1"):
    return station_connection_open(
        station=station,
        connection_id=connection_id,
        server_process=process,
        protocol="1.6",
        remote_address="192.0.2.7",
        opened_at=timezone.now(),
    )


def test_a_connection_is_recorded_and_its_end_disconnects_the_station_once(station):
    previous = open_connection(station, "c1")
    station.refresh_from_db()
    assert not previous.connected
    assert (station.connection_state, station.connection_id, station.server_process) == (
        ConnectionState.CONNECTED,
        "c1",
        "p1",
    )
    assert station.last_address == "192.0.2.7"
    connected_at = station.connected_at

    assert station_connection_close(station=station, connection_id="c1", reason="station")
    assert not station_connection_close(station=station, connection_id="c1", reason="network")

    station.refresh_from_db()
    assert station.connection_state == ConnectionState.DISCONNECTED
    assert station.connected_at == connected_at
    history = StationConnection.objects.get(connection_id="c1")
    assert history.closed_at is not None
    assert history.close_reason == "station"  # the first end counts, not the second


def test_the_end_of_a_replaced_connection_leaves_the_newer_one_connected(station):
    open_connection(station, "old", process="p1")
    previous = open_connection(station, "new", process="p2")
    assert (previous.connected, previous.connection_id, previous.server_process) == (
        True,
        "old",
        "p1",
    )

    assert not station_connection_close(station=station, connection_id="old", reason="replaced")

    station.refresh_from_db()
    assert (station.connection_state, station.connection_id) == (ConnectionState.CONNECTED, "new")
    assert StationConnection.objects.get(connection_id="old").close_reason == "replaced"
    assert StationConnection.objects.get(connection_id="new").closed_at is None


def test_releasing_a_process_disconnects_only_its_stations(station):
    other = StationFactory()
    open_connection(station, "c1", process="dead")
    open_connection(other, "c2", process="alive")

    assert stations_release(server_process="dead", reason="server_died") == [station.pk]

    station.refresh_from_db()
    other.refresh_from_db()
    assert station.connection_state == ConnectionState.DISCONNECTED
    assert other.connection_state == ConnectionState.CONNECTED
    assert StationConnection.objects.get(connection_id="c1").close_reason == "server_died"
