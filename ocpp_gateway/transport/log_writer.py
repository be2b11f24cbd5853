"""The message log's writer: one per server process, off the connections' path.

Connections hand it their rows and go on answering; a thread of its own writes them in batches
(one ``bulk_create`` every ``OCPP_LOG_FLUSH_SECONDS`` or ``OCPP_LOG_BATCH_ROWS`` rows), so a
frame costs a station no database round trip. The queue is bounded (``OCPP_LOG_QUEUE_ROWS``):
when the database falls behind, connections wait for room rather than lose rows. A connection
that closes waits until its rows are written; the process writes what is left when it exits
(uvicorn stops on SIGTERM by closing every connection, then exiting normally).

Rows carry their ids (UUIDv7, made in the process), so what refers to a row (a vehicle
sighting) may be written before it.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    models,
    transaction,
)

from ocpp_gateway.models import OcppMessage
from ocpp_gateway.transport.message_log import LogRow

logger = logging.getLogger(__name__)


class MessageLogWriter:
    def __init__(self, *, flush_seconds: float, batch_rows: int, queue_rows: int) -> None:
        self.flush_seconds, self.batch_rows, self.queue_rows = flush_seconds, batch_rows, queue_rows
        self._rows: list[LogRow] = []
        self._condition = threading.Condition()
        self._queued = 0  # rows ever queued: a row's number is the count when it was queued
        self._written = 0  # rows ever written (or given up on)
        self._urgent = False  # someone waits: write now rather than at the next tick
        self._thread: threading.Thread | None = None
        self._stopping = False
        # Coroutines waiting for rows to be written: (row number, their loop, their future).
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future]] = []
        # When each queued batch of rows arrived (its last row's number, monotonic time): how
        # far behind the writer is, for the health check and the metrics.
        self._arrivals: deque[tuple[int, float]] = deque()

    def start(self) -> None:
        """Start the writing thread (the ASGI lifespan, at the process's startup)."""
        with self._condition:
            if self._thread is None:
                self._stopping = False
                self._start()

    def put_nowait(self, rows: list[LogRow]) -> int | None:
        """Queue ``rows``; the number of the last one, or None when the queue is full."""
        with self._condition:
            # Started by the lifespan; here too for what runs without one (the test client,
            # a process served with ``--lifespan off``).
            if self._thread is None:
                self._stopping = False
                self._start()
            if len(self._rows) + len(rows) > self.queue_rows and self._rows:
                self._urgent = True
                self._condition.notify()
                return None
            self._rows.extend(rows)
            self._queued += len(rows)
            self._arrivals.append((self._queued, time.monotonic()))
            if len(self._rows) >= self.batch_rows:
                self._condition.notify()
            return self._queued

    async def put(self, rows: list[LogRow]) -> int:
        """Queue ``rows``, waiting for room if the database is behind."""
        while (number := self.put_nowait(rows)) is None:
            await self.written(self._queued - self.queue_rows // 2)
        return number

    async def written(self, number: int) -> None:
        """Return once row ``number`` (and every row before it) is written."""
        loop = asyncio.get_running_loop()
        with self._condition:
            if self._written >= number:
                return
            future = loop.create_future()
            self._waiters.append((number, loop, future))
            self._urgent = True
            self._condition.notify()
        await future

    def flush(self, timeout: float = 30) -> None:
        """Write every row queued so far, now (blocking: for the process's exit and tests);
        give up after ``timeout`` seconds (a database that stays away)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            number = self._queued
            self._urgent = True
            self._condition.notify()
            while self._written < number and self._thread is not None and self._thread.is_alive():
                if time.monotonic() > deadline:
                    logger.error("message log: %d rows not written", number - self._written)
                    return
                self._condition.wait(timeout=0.1)

    def backlog(self) -> tuple[int, float]:
        """Rows queued and not yet written, and how many seconds the oldest has waited."""
        with self._condition:
            waited = time.monotonic() - self._arrivals[0][1] if self._arrivals else 0.0
            return len(self._rows), waited

    def stop(self) -> None:
        """Write what is queued, then stop the thread (it closes its database connection)."""
        self.flush()
        with self._condition:
            self._stopping = True
            self._condition.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="message-log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while not self._stopping:
            with self._condition:
                deadline = time.monotonic() + self.flush_seconds
                while (
                    not self._urgent
                    and not self._stopping
                    and len(self._rows) < self.batch_rows
                    and (remaining := deadline - time.monotonic()) > 0
                ):
                    self._condition.wait(timeout=remaining)
                self._urgent = False
                batch = self._rows[: self.batch_rows]
            if batch:
                self._write(batch)
                with self._condition:
                    del self._rows[: len(batch)]
                    self._written += len(batch)
                    while self._arrivals and self._arrivals[0][0] <= self._written:
                        self._arrivals.popleft()
                    self._urgent = self._urgent or bool(self._rows)
                    self._condition.notify_all()
                    waiting, self._waiters = self._waiters, []
                    for number, loop, future in waiting:
                        if number <= self._written:
                            loop.call_soon_threadsafe(_resolve, future)
                        else:
                            self._waiters.append((number, loop, future))
        connection.close()

    def _write(self, batch: list[LogRow]) -> None:
        """Write ``batch``; a database that is down is retried until it is back, a row it
        refuses is logged as an error and given up on (the others are written)."""
        while True:
            close_old_connections()
            try:
                _insert(batch)
                return
            except (OperationalError, InterfaceError):  # the database is away: wait for it
                logger.exception("message log: writing %d rows failed, retrying", len(batch))
                connection.close()
                time.sleep(1)
            except DatabaseError:
                break  # a row the database refuses: find it below
        for row in batch:
            try:
                row.as_model().save(force_insert=True)
            except DatabaseError:
                logger.exception("message log: row %s refused: %r", row.pk, row.payload)
                connection.close()


_FIELDS = OcppMessage._meta.concrete_fields
_ATTNAMES = tuple(field.attname for field in _FIELDS)


def _as_it_is(value: Any) -> Any:
    return value


def _sqlite_uuid(value: Any) -> Any:
    return value.hex if value is not None else None


def _sqlite_datetime(value: Any) -> Any:
    # What Django stores on SQLite with USE_TZ: the time in UTC, naive, as str() writes it.
    return str(value.astimezone(UTC).replace(tzinfo=None)) if value is not None else None


def _sqlite_json(value: Any) -> Any:
    return json.dumps(value) if value is not None else None  # None: SQL NULL, as the ORM does


def _as_the_orm_does(field: models.Field, value: Any) -> Any:
    # The calling thread's connection, looked up at each call: the preparers are cached for
    # the process, and a connection belongs to the thread that opened it.
    return field.get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])


@functools.cache
def _preparers(vendor: str, timezone_name: str) -> tuple[Callable[[Any], Any], ...]:
    """How each column's value is given to the database: as the ORM prepares it
    (``get_db_prep_save``), by a shortcut where the ORM's way took most of the writer's time
    (a uuid, a date and a JSON document a row: 45 µs where the shortcut takes 10, timeit).
    ``test_log_writer`` checks each shortcut against the ORM, on SQLite and PostgreSQL."""
    sqlite = vendor == "sqlite" and timezone_name == "UTC"
    preparers = []
    for field in _FIELDS:
        if isinstance(field, models.CharField | models.IntegerField | models.ForeignKey):
            preparer = _as_it_is  # text and integers go as they are
        elif sqlite and isinstance(field, models.UUIDField):
            preparer = _sqlite_uuid
        elif sqlite and isinstance(field, models.DateTimeField):
            preparer = _sqlite_datetime
        elif sqlite and isinstance(field, models.JSONField):
            preparer = _sqlite_json
        elif vendor == "postgresql" and isinstance(field, models.UUIDField | models.DateTimeField):
            preparer = _as_it_is  # psycopg adapts uuids and aware dates itself
        else:
            preparer = functools.partial(_as_the_orm_does, field)
        preparers.append(preparer)
    return tuple(preparers)


def _insert(rows: list[LogRow]) -> None:
    """Multi-row INSERTs (as many rows each as the database takes parameters), values prepared
    as the ORM prepares them (``_preparers``). ``bulk_create`` builds its SQL field by field and
    row by row in Python: a tenth of a boot storm's time (py-spy). Not ``executemany``: SQLite's
    lets go of the GIL and takes it back for every row, and each taking back waited for the
    event loop's thread, whose turn then waited for this one (a quarter of an Authorize's time,
    py-spy)."""
    # The thread's own connection, once: ``django.db.connection`` is a proxy that looks it up
    # in a context-local storage at every attribute (a fifth of this function's time).
    database = connections[DEFAULT_DB_ALIAS]
    columns = tuple(
        zip(_ATTNAMES, _preparers(database.vendor, database.timezone_name), strict=True)
    )
    values = [prepare(getattr(row, name)) for row in rows for name, prepare in columns]
    per_statement = max(1, min(database.ops.bulk_batch_size(_FIELDS, rows), _ROWS_PER_STATEMENT))
    width = len(_FIELDS)
    with transaction.atomic(), database.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            count = min(per_statement, len(rows) - start)
            cursor.execute(
                _insert_sql(database.vendor, count),
                values[start * width : (start + count) * width],
            )


# Enough for one GIL hand-over per hundred rows; fewer on SQLite (999 parameters). The texts of
# at most this many statements are kept.
_ROWS_PER_STATEMENT = 100


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    database = connections[DEFAULT_DB_ALIAS]
    quote = database.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _FIELDS)
    row = f"({', '.join(['%s'] * len(_FIELDS))})"
    # Only the model's own table and column names go into the text; values are parameters.
    table = quote(OcppMessage._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608


def _resolve(future: asyncio.Future) -> None:
    if not future.done():  # a waiter may have been cancelled (its connection dropped)
        future.set_result(None)


writer = MessageLogWriter(
    flush_seconds=settings.OCPP_LOG_FLUSH_SECONDS,
    batch_rows=settings.OCPP_LOG_BATCH_ROWS,
    queue_rows=settings.OCPP_LOG_QUEUE_ROWS,
)
