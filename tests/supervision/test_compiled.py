"""Statements compiled once (``supervision.compiled``) do what the ORM's own would, with each
run's values, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.sql.compiler import SQLUpdateCompiler
from django.test.utils import CaptureQueriesContext

from stations.models import ConnectionState, Connector, Station, StationConnection
from supervision import compiled
from supervision.compiled import Param
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

_READ = compiled.select(
    lambda: Station.objects.filter(pk=Param("station")).values_list(
        "charge_point_id", "connected_at", "last_address"
    )
)
_CONNECTED_SINCE = compiled.exists(
    lambda: Station.objects.filter(pk=Param("station"), connected_at__gte=Param("since"))
)
_CONNECT = compiled.update(
    lambda: Station.objects.filter(pk=Param("station")),
    connection_state=ConnectionState.CONNECTED,
    connected_at=Param("at"),
    last_address=Param("address"),
)
_RECORD = compiled.insert(
    StationConnection,
    station_id=Param("station"),
    connection_id=Param("connection"),
    remote_address=Param("address"),
    opened_at=Param("at"),
)

AT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


def test_each_run_reads_its_own_values_converted_as_the_orm_would():
    first, second = StationFactory(), StationFactory()
    Station.objects.filter(pk=first.pk).update(connected_at=AT, last_address="10.0.0.1")

    assert _READ.rows(station=first.pk) == [(first.charge_point_id, AT, "10.0.0.1")]
    assert _READ.rows(station=second.pk) == [(second.charge_point_id, None, None)]
    assert _READ.rows(station=0) == []


def test_exists_compares_datetimes_as_the_orm_does():
    station = StationFactory()
    Station.objects.filter(pk=station.pk).update(connected_at=AT)

    assert _CONNECTED_SINCE.rows(station=station.pk, since=AT)
    assert not _CONNECTED_SINCE.rows(station=station.pk, since=AT + timedelta(microseconds=1))


def test_an_update_writes_its_values_and_counts_its_rows():
    station = StationFactory()

    assert _CONNECT.rowcount(station=station.pk, at=AT, address="2001:db8::1") == 1
    assert _CONNECT.rowcount(station=0, at=AT, address=None) == 0

    station.refresh_from_db()
    assert (station.connection_state, station.connected_at, station.last_address) == (
        ConnectionState.CONNECTED,
        AT,
        "2001:db8::1",
    )


def test_an_insert_writes_the_row_create_would_with_the_fields_defaults():
    station = StationFactory()

    _RECORD.rowcount(station=station.pk, connection="c1", address=None, at=AT)

    row = StationConnection.objects.get(connection_id="c1")
    assert (row.station, row.opened_at, row.remote_address) == (station, AT, None)
    assert (row.server_process, row.protocol, row.closed_at, row.close_reason) == ("", "", None, "")


def test_a_failed_statement_raises_the_orms_error_and_spoils_its_transaction():
    station = StationFactory()
    _RECORD.rowcount(station=station.pk, connection="c1", address=None, at=AT)

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            _RECORD.rowcount(station=station.pk, connection="c1", address=None, at=AT)
        assert transaction.get_rollback()  # rolled back at the block's end, as the ORM's


def test_the_orm_compiles_a_statement_once(monkeypatch):
    station = StationFactory()
    statement = compiled.update(
        lambda: Station.objects.filter(pk=Param("station")), vendor=Param("vendor")
    )
    compiles = []
    as_sql = SQLUpdateCompiler.as_sql
    monkeypatch.setattr(
        SQLUpdateCompiler, "as_sql", lambda self: compiles.append(self) or as_sql(self)
    )

    with CaptureQueriesContext(connection) as queries:
        statement.rowcount(station=station.pk, vendor="First")
        statement.rowcount(station=station.pk, vendor="Second")

    assert (len(compiles), len(queries)) == (1, 2)
    station.refresh_from_db()
    assert station.vendor == "Second"


def test_an_upsert_creates_the_row_then_updates_it():
    station = StationFactory()
    status = compiled.insert(
        Connector,
        unique=("station", "connector_id"),
        station_id=Param("station"),
        connector_id=Param("connector"),
        status=Param("status"),
        updated_at=Param("at"),
    )

    status.rowcount(station=station.pk, connector=1, status="Available", at=AT)
    status.rowcount(station=station.pk, connector=2, status="Faulted", at=AT)
    status.rowcount(station=station.pk, connector=1, status="Charging", at=AT + timedelta(1))

    assert list(station.connectors.values_list("connector_id", "status", "updated_at")) == [
        (1, "Charging", AT + timedelta(1)),
        (2, "Faulted", AT),
    ]


_STATION = compiled.select(lambda: Station.objects.filter(charge_point_id=Param("identity")))


def test_instances_are_the_models_the_orm_would_read():
    station = StationFactory()
    Station.objects.filter(pk=station.pk).update(connected_at=AT, last_address="10.0.0.1")

    [read] = _STATION.instances(identity=station.charge_point_id)

    expected = Station.objects.get(pk=station.pk)
    fields = [field.attname for field in Station._meta.concrete_fields]
    assert [getattr(read, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert not read._state.adding and read._state.db == "default"
    assert _STATION.instances(identity="nobody") == []


def test_first_is_the_first_instance_or_none():
    station = StationFactory()

    assert _STATION.first(identity=station.charge_point_id) == station
    assert _STATION.first(identity="nobody") is None
