"""The stations' small writes that arrive while the database thread is busy are made together,
in one transaction (a group commit), each caller answered once its write is committed; one that
fails fails alone; a boot storm through the consumer writes every station's rows that way."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import IntegrityError, connection, transaction

from ocpp_gateway.transport import metrics
from ocpp_gateway.transport.shared_transactions import SharedTransactions, shared_transactions
from stations.models import Connector, Station, StationConnection
from tests.factories import CompanyFactory, StationFactory
from tests.ocpp_gateway.connections import open_station

pytestmark = pytest.mark.django_db(transaction=True)


class BusyThread:
    """Holds the database thread until released: the calls made meanwhile wait together."""

    def __init__(self) -> None:
        self._release = threading.Event()

    async def __aenter__(self):
        self._held = asyncio.ensure_future(database_sync_to_async(self._release.wait)())
        await asyncio.sleep(0.05)  # the thread has taken it
        return self

    def release(self) -> None:
        self._release.set()

    async def __aexit__(self, *exc) -> None:
        self.release()
        await self._held


def station_made(*, company_id: int, charge_point_id: str, commits: list[str]) -> dict:
    """A write, with what it saw of its transaction."""
    Station.objects.create(company_id=company_id, charge_point_id=charge_point_id, name="x")
    transaction.on_commit(lambda: commits.append(charge_point_id))
    return {"in_transaction": connection.in_atomic_block, "hooks": len(connection.run_on_commit)}


async def test_calls_arriving_while_the_thread_is_busy_share_one_transaction_and_are_committed():
    company = await database_sync_to_async(CompanyFactory)()
    commits: list[str] = []
    shared = SharedTransactions(calls_at_once=3)

    def call(number: int):
        return shared.run(
            station_made, company_id=company.pk, charge_point_id=f"CP-{number}", commits=commits
        )

    alone = await call(0)  # nothing else waits: made at once, as a lone call always was
    async with BusyThread() as busy:
        calls = [asyncio.ensure_future(call(number)) for number in range(1, 6)]
        await asyncio.sleep(0.05)
        assert not any(c.done() for c in calls)
        busy.release()
        seen = await asyncio.gather(*calls)

    assert alone == {"in_transaction": False, "hooks": 0}
    # Three in one transaction (the third sees every hook of the three pending), then two.
    assert [s["hooks"] for s in seen] == [1, 2, 3, 1, 2]
    assert all(s["in_transaction"] for s in seen)
    # Each caller was answered once its write was committed: another connection reads them all.
    written = await asyncio.to_thread(
        lambda: set(Station.objects.values_list("charge_point_id", flat=True))
    )
    assert written == {f"CP-{n}" for n in range(6)}
    assert sorted(commits) == sorted(written)


async def test_a_call_that_fails_fails_alone_and_the_others_are_written_once():
    company = await database_sync_to_async(CompanyFactory)()
    await database_sync_to_async(StationFactory)(company=company, charge_point_id="CP-TAKEN")
    commits: list[str] = []

    def call(charge_point_id: str):
        return shared_transactions.run(
            station_made, company_id=company.pk, charge_point_id=charge_point_id, commits=commits
        )

    async with BusyThread() as busy:
        first, taken, last = (
            asyncio.ensure_future(call(charge_point_id))
            for charge_point_id in ("CP-FIRST", "CP-TAKEN", "CP-LAST")
        )
        await asyncio.sleep(0.05)
        busy.release()
        results = await asyncio.gather(first, taken, last, return_exceptions=True)

    assert isinstance(results[1], IntegrityError)  # to its caller, as if made alone
    assert not isinstance(results[0], BaseException)
    assert not isinstance(results[2], BaseException)
    identities = await asyncio.to_thread(
        lambda: sorted(Station.objects.values_list("charge_point_id", flat=True))
    )
    assert identities == ["CP-FIRST", "CP-LAST", "CP-TAKEN"]
    # The shared transaction rolled back with its hooks; made again alone, each hook ran once.
    assert sorted(commits) == ["CP-FIRST", "CP-LAST"]


async def test_a_caller_that_stops_waiting_leaves_the_others_answered():
    company = await database_sync_to_async(CompanyFactory)()
    commits: list[str] = []

    def call(charge_point_id: str):
        return shared_transactions.run(
            station_made, company_id=company.pk, charge_point_id=charge_point_id, commits=commits
        )

    async with BusyThread() as busy:
        gone, staying = asyncio.ensure_future(call("CP-GONE")), asyncio.ensure_future(call("CP-2"))
        await asyncio.sleep(0.05)
        gone.cancel()  # its connection closed: the write is made all the same, as any call's
        busy.release()
        assert (await staying)["in_transaction"]
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert sorted(commits) == ["CP-2", "CP-GONE"]


def shared_transaction_calls() -> tuple[float, float]:
    """How many shared transactions, and calls in them, the process counted so far."""
    samples = {
        sample.name: sample.value
        for metric in metrics.shared_transaction_calls.collect()
        for sample in metric.samples
    }
    return samples["ocpp_shared_transaction_calls_count"], samples[
        "ocpp_shared_transaction_calls_sum"
    ]


async def test_a_storm_of_boots_is_written_in_shared_transactions():
    stations = [
        await database_sync_to_async(StationFactory)(charge_point_id=f"CP-STORM-{n}")
        for n in range(12)
    ]
    transactions_before, calls_before = shared_transaction_calls()

    async def boot(station):
        communicator = await open_station(station.charge_point_id)
        await communicator.send_json_to(
            [2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
        )
        assert (await communicator.receive_json_from(timeout=10))[2]["status"] == "Accepted"
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        await communicator.send_json_to([2, "s", "StatusNotification", status])
        assert (await communicator.receive_json_from(timeout=10))[0] == 3
        return communicator

    communicators = await asyncio.gather(*(boot(station) for station in stations))
    # Answered, so written: every station's connection, boot and status are in the database.
    assert await database_sync_to_async(Station.objects.filter(model="M").count)() == 12
    assert await database_sync_to_async(StationConnection.objects.count)() == 12
    assert await database_sync_to_async(Connector.objects.filter(status="Available").count)() == 12
    transactions, calls = shared_transaction_calls()
    # Handshake read, connection, boot and status: 48 calls, in fewer transactions.
    assert calls - calls_before == 48
    assert transactions - transactions_before < 48
    for communicator in communicators:
        await communicator.disconnect()
