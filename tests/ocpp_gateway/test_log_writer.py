"""The message log's writer writes every row it is given, as the ORM would, in multi-row
statements; a row the database refuses costs only that row."""

import logging

import pytest

from ocpp_gateway.models import Direction, OcppMessage
from ocpp_gateway.transport.log_writer import MessageLogWriter
from ocpp_gateway.transport.message_log import log_entry
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = [field.attname for field in OcppMessage._meta.concrete_fields]


def frames(station, count: int) -> list[OcppMessage]:
    """Rows of every kind of value a column holds: JSON with text beyond ASCII, no station."""
    rows = []
    for number in range(count):
        text = (
            f'[2,"m-{number}","Authorize",{{"idTag":"VID:{number:012X}","note":"é€{number}"}}]'
            if number % 3
            else f'[3,"m-{number}",{{"idTagInfo":{{"status":"Invalid"}},"n":{number}.5}}]'
        )
        rows.append(
            log_entry(
                text=text,
                direction=Direction.IN if number % 2 else Direction.OUT,
                station_id=station.pk if number % 5 else None,
                charge_point_id=station.charge_point_id,
            )
        )
    return rows


def written_as_given(rows: list[OcppMessage]) -> None:
    stored = OcppMessage.objects.in_bulk([row.pk for row in rows])
    assert len(stored) == len(rows)
    for row in rows:
        assert [getattr(stored[row.pk], name) for name in FIELDS] == [
            getattr(row, name) for name in FIELDS
        ]


def test_a_batch_of_more_rows_than_one_statement_holds_is_written_whole_and_as_given():
    writer = MessageLogWriter(flush_seconds=0.05, batch_rows=1000, queue_rows=10_000)
    rows = frames(StationFactory(), 250)  # three statements (two on SQLite's 999 parameters)
    try:
        writer.put_nowait(rows)
        writer.flush()
    finally:
        writer.stop()

    written_as_given(rows)


def test_a_row_the_database_refuses_is_given_up_on_alone(caplog):
    writer = MessageLogWriter(flush_seconds=0.05, batch_rows=1000, queue_rows=10_000)
    rows = frames(StationFactory(), 120)
    try:
        writer.put_nowait(rows[:1])
        writer.flush()
        # The same row again (its id is taken) in the middle of the next batch.
        with caplog.at_level(logging.ERROR, logger="ocpp_gateway.transport.log_writer"):
            writer.put_nowait([*rows[1:60], rows[0], *rows[60:]])
            writer.flush()
    finally:
        writer.stop()

    written_as_given(rows)
    assert OcppMessage.objects.count() == 120
    refused = [record.getMessage() for record in caplog.records if "refused" in record.message]
    assert [message.partition(" refused")[0] for message in refused] == [
        f"message log: row {rows[0].pk}"
    ]


def test_each_column_is_given_to_the_database_as_the_orm_gives_it():
    from datetime import UTC, datetime, timedelta, timezone

    from django.db import connection

    from ocpp_gateway.transport.log_writer import _FIELDS, _preparers

    rows = frames(StationFactory(), 12)
    rows[0].payload = None  # SQL NULL, not JSON null
    rows[1].payload = "[2,'not json'"  # an unreadable frame is kept as its text
    rows[2].created_at = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    rows[3].created_at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # no microseconds
    preparers = _preparers(connection.vendor, connection.timezone_name)
    for row in rows:
        for field, prepare in zip(_FIELDS, preparers, strict=True):
            value = getattr(row, field.attname)
            fast, orm = prepare(value), field.get_db_prep_save(value, connection)
            # psycopg's JSON wrapper compares by what it wraps.
            assert getattr(fast, "obj", fast) == getattr(orm, "obj", orm), field.name
            # Of the same type, or one the ORM narrows (psycopg's Int2 for a small integer).
            assert isinstance(orm, type(fast)), field.name
