"""ORM statements compiled into SQL once per process, then run with their parameters alone.

Building and compiling a queryset costs the ORM several times what a small indexed statement
costs the database (0.4 to 1.8 ms against some 0.07 ms on SQLite, timed on the bench's machine),
and the hot paths of a boot storm run thousands of them on the one database thread. Written
with the ORM and compiled by it, such a statement keeps what the ORM knows (columns, lookups,
the database's dialect, its converters) without paying for it on every run::

    _CONNECTED = select(lambda: Station.objects.filter(pk=Param("station")).values_list("x"))
    _CONNECTED.rows(station=station.pk)

A ``Param`` stands where the queryset would hold a value; the values given to ``rows`` or
``rowcount`` are adapted by their type, as for raw SQL (a datetime for the database's
datetimes): give them as the column holds them (a primary key, not a model). The values
written in the queryset itself are compiled in once. No model signals are sent, as with
``QuerySet.update``.
"""

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Expression, Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery, Query, UpdateQuery


class Param(Expression):
    """A value given each time the statement runs, by its name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        return "%s", [self]


class Compiled:
    """A statement compiled by the ORM the first time it runs on a database connection alias."""

    def __init__(self, build: Callable[[], Query]) -> None:
        self._build = build
        self._by_alias: dict[str, tuple[str, tuple, list]] = {}
        self._model: type[Model] | None = None

    def _compiled(self) -> tuple[str, tuple, list]:
        compiled = self._by_alias.get(connection.alias)
        if compiled is None:
            query = self._build()
            self._model = query.model
            compiler = query.get_compiler(connection=connection)
            converters = []
            if isinstance(query, InsertQuery):  # one statement per row: one row
                ((sql, params),) = compiler.as_sql()
            else:
                sql, params = compiler.as_sql()
            if not isinstance(query, InsertQuery | UpdateQuery):  # a SELECT
                columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
                converters = list(compiler.get_converters(columns).items())
            compiled = self._by_alias[connection.alias] = (sql, tuple(params), converters)
        return compiled

    def _execute(self, cursor, values: dict[str, Any]) -> None:
        sql, params, _ = self._compiled()
        adapt = connection.ops.adapt_unknown_value
        cursor.execute(sql, [adapt(values[p.name]) if isinstance(p, Param) else p for p in params])

    def rows(self, **values: Any) -> list[tuple]:
        """The rows a SELECT returns, each column converted as the ORM would."""
        with connection.cursor() as cursor:
            self._execute(cursor, values)
            rows = cursor.fetchall()
        _, _, converters = self._compiled()
        if not converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            converted.append(tuple(row))
        return converted

    def instances(self, **values: Any) -> list[Model]:
        """The model instances a SELECT of whole rows returns (``select`` of a queryset without
        ``values_list``), made as the ORM makes them, without signals."""
        rows = self.rows(**values)
        names = [field.attname for field in self._model._meta.concrete_fields]
        return [self._model.from_db(connection.alias, names, row) for row in rows]

    def first(self, **values: Any) -> Model | None:
        """The first of ``instances``, or None."""
        found = self.instances(**values)
        return found[0] if found else None

    def rowcount(self, **values: Any) -> int:
        """Run an UPDATE (or an INSERT): how many rows it wrote."""
        # As QuerySet.update: a failure caught inside a transaction still rolls it back.
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            self._execute(cursor, values)
            return cursor.rowcount


def select(queryset: Callable[[], QuerySet]) -> Compiled:
    """The queryset's SELECT (``values_list`` says which columns, in which order; without it,
    every column of the model, for ``instances``)."""
    return Compiled(lambda: queryset().query)


def exists(queryset: Callable[[], QuerySet]) -> Compiled:
    """Whether the queryset has a row: its ``rows`` are one row, or none."""
    return Compiled(lambda: queryset().query.exists())


def update(queryset: Callable[[], QuerySet], **fields: Any) -> Compiled:
    """The queryset's ``update(**fields)``."""

    def build() -> Query:
        query = queryset().query.chain(UpdateQuery)
        query.add_update_values(fields)
        return query

    return Compiled(build)


def insert(model: type[Model], *, unique: tuple[str, ...] = (), **fields: Any) -> Compiled:
    """The INSERT of one row, as ``model.objects.create(**fields)`` without its signals; the
    fields not given take their defaults (callable ones called once, when compiled: give
    those). With ``unique`` fields, a row already holding the same values there gets the
    other fields given instead (an upsert, as ``bulk_create(update_conflicts=True)``)."""

    def build() -> Query:
        meta = model._meta
        query = InsertQuery(
            model,
            on_conflict=OnConflict.UPDATE if unique else None,
            update_fields=[meta.get_field(name) for name in fields if name not in unique],
            unique_fields=[meta.get_field(name) for name in unique],
        )
        columns = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        query.insert_values(columns, [model(**fields)])
        return query

    return Compiled(build)
