"""Writes that many connections ask of the database thread at once, made in shared transactions.

Every database call of the gateway runs in the process's one database thread. In a boot storm,
thousands of stations each ask it for a few small writes (their connection, their boot, their
status): one trip to the thread and one transaction each, every commit writing the same pages
again, and on SQLite the write lock taken in turn with the message log's writer, which sleeps
while it waits. Here, the calls that arrive while the thread is busy wait for it together and
are made in one trip and one transaction when it is free (a group commit); a call that arrives
alone is made at once, alone. Each caller gets its own result once its transaction is
committed: what a station is answered is in the database before the answer leaves.

A call that fails makes its shared transaction roll back; the calls are then made again one by
one, exactly as a lone call would be, so that it fails alone. A function run here must
therefore have no effect but its writes and its ``on_commit`` hooks (which a rollback
discards), or effects it may repeat (the connection's copy of its station).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from ocpp_gateway.transport import metrics

# At most this many calls in one transaction: a hundred stations' small writes hold SQLite's
# write lock for a few milliseconds (the log writer and the portal wait that long), and the
# boot storm's gain is made by then (bench/README.md, fifth round).
CALLS_AT_ONCE = 100


@dataclass
class _Call:
    function: Callable[..., Any]
    arguments: dict[str, Any]
    future: asyncio.Future
    value: Any = None
    error: Exception | None = None

    def run(self) -> None:
        self.value = self.function(**self.arguments)

    def run_alone(self) -> None:
        try:
            self.run()
        except Exception as error:  # the caller's to handle, as if it had made the call itself
            self.error = error

    def answer(self) -> None:
        if self.future.done():  # its caller stopped waiting (its connection closed)
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.value)


def _run(calls: list[_Call]) -> None:
    """On the database thread: the calls in one transaction, or one by one if one fails."""
    metrics.shared_transaction_calls.observe(len(calls))
    if len(calls) > 1:
        try:
            with transaction.atomic():
                for call in calls:
                    call.run()
            return
        except Exception:  # noqa: S110
            pass  # rolled back: each call is made again below, the failing one failing alone
    for call in calls:
        call.run_alone()


class SharedTransactions:
    def __init__(self, *, calls_at_once: int) -> None:
        self.calls_at_once = calls_at_once
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[_Call] = []
        self._drainer: asyncio.Task | None = None

    async def run(self, function: Callable[..., Any], /, **arguments: Any) -> Any:
        """``function(**arguments)`` on the database thread; committed when this returns."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # tests run several event loops, one after the other
            self._loop, self._waiting, self._drainer = loop, [], None
        call = _Call(function, arguments, loop.create_future())
        self._waiting.append(call)
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await call.future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                calls = self._waiting[: self.calls_at_once]
                del self._waiting[: self.calls_at_once]
                try:
                    await database_sync_to_async(_run)(calls)
                except Exception as error:  # the trip itself failed, so every call did
                    for call in calls:
                        call.error = error
                except BaseException:  # the event loop is closing
                    for call in (*calls, *self._waiting):
                        call.future.cancel()
                    self._waiting.clear()
                    raise
                for call in calls:
                    call.answer()
        finally:
            self._drainer = None


shared_transactions = SharedTransactions(calls_at_once=CALLS_AT_ONCE)
