"""The facts the stations layer announces to webhooks and alerts: each sent once, with what
was just written, by the service that recorded it."""

import pytest
from django.utils import timezone

from stations import events
from stations.enrolment import authorization_request
from stations.models import CloseReason, SecurityEventKind, Severity
from stations.security import security_event_record
from stations.services import (
    connector_update_status,
    session_start,
    session_stop,
    station_connection_close,
    station_connection_open,
    stations_release,
)
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db

TAG = "VID:A014310E0D01"


@pytest.fixture
def heard():
    """Every announcement made during the test, as (signal name, keyword arguments)."""
    names = [
        "session_started",
        "session_stopped",
        "vehicle_refused",
        "station_connected",
        "station_disconnected",
        "connector_status_changed",
        "security_event_recorded",
    ]
    heard: list[tuple[str, dict]] = []
    receivers = {}
    for name in names:

        def receiver(sender, signal=None, _name=name, **kwargs):
            heard.append((_name, kwargs))

        receivers[name] = receiver
        getattr(events, name).connect(receiver)
    yield heard
    for name, receiver in receivers.items():
        getattr(events, name).disconnect(receiver)


def test_a_session_s_start_and_stop_are_announced_with_the_session(heard):
    station = StationFactory()
    BadgeFactory(rfid=TAG, company=station.company)
    session, _ = session_start(
        station=station, connector_id=1, id_tag=TAG, meter_start=0, started_at=timezone.now()
    )
    session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=12_000,
        stopped_at=timezone.now(),
        reason="EVDisconnected",
    )

    assert [name for name, _ in heard] == ["session_started", "session_stopped"]
    assert heard[0][1]["session"].pk == session.pk
    assert heard[1][1]["session"].energy_wh == 12_000


def test_a_refused_start_is_no_session_started(heard):
    station = StationFactory()
    session_start(
        station=station, connector_id=1, id_tag=TAG, meter_start=0, started_at=timezone.now()
    )
    assert "session_started" not in [name for name, _ in heard]


def test_an_unknown_vehicle_refused_is_announced_with_its_sighting_and_inbox_entry(heard):
    station = StationFactory()
    authorization_request(id_tag=TAG, station=station, connector_id=1)

    [(_name, kwargs)] = [entry for entry in heard if entry[0] == "vehicle_refused"]
    sighting = kwargs["sighting"]
    assert (sighting.station_id, sighting.id_tag, sighting.reason) == (
        station.pk,
        TAG,
        "unknown_badge",
    )
    assert sighting.unknown_vehicle.mac == "A014310E0D01"


def test_connections_and_statuses_are_announced(heard):
    station = StationFactory()
    other = StationFactory()
    for each, connection_id in ((station, "c1"), (other, "c2")):
        station_connection_open(
            station=each,
            connection_id=connection_id,
            server_process="p1",
            protocol="1.6",
            remote_address="127.0.0.1",
            opened_at=timezone.now(),
        )
    connector_update_status(
        station=station, connector_id=1, status="Faulted", error_code="GroundFailure"
    )
    station_connection_close(station=station, connection_id="c1", reason=CloseReason.STATION)
    station_connection_close(station=station, connection_id="c1", reason=CloseReason.STATION)
    stations_release(server_process="p1", reason=CloseReason.SERVER_STOPPED)

    assert [(name, kwargs.get("station").pk) for name, kwargs in heard] == [
        ("station_connected", station.pk),
        ("station_connected", other.pk),
        ("connector_status_changed", station.pk),
        ("station_disconnected", station.pk),  # once: the second close was not its live one
        ("station_disconnected", other.pk),
    ]
    assert heard[2][1] | {"station": None} == {
        "station": None,
        "connector_id": 1,
        "status": "Faulted",
        "error_code": "GroundFailure",
    }


def test_a_security_event_is_announced(heard):
    station = StationFactory()
    event = security_event_record(
        kind=SecurityEventKind.MAC_PROBING, severity=Severity.WARNING, station=station
    )
    assert heard == [("security_event_recorded", {"event": event})]
