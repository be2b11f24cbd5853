"""Connections are opened a bounded number at a time (OCPP_CONNECTING_AT_ONCE), and a refused
login waits for its answer out of the slots, so that wrong passwords keep no station waiting."""

import asyncio
import base64

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from ocpp_gateway.transport import consumer, handshake
from stations.services import station_set_password
from supervision.asgi import application
from tests.factories import StationFactory
from tests.ocpp_gateway.connections import until_recorded

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-station-password-0001"


@pytest.fixture
def passwords_required(settings, monkeypatch):
    settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD = False
    monkeypatch.setattr(handshake, "_schedule_report", lambda: None)  # written after the test


async def login(charge_point_id: str, password: str) -> tuple[WebsocketCommunicator, bool]:
    credentials = base64.b64encode(f"{charge_point_id}:{password}".encode())
    communicator = WebsocketCommunicator(
        application,
        f"/ocpp/{charge_point_id}",
        headers=[(b"authorization", b"Basic " + credentials)],
        subprotocols=["ocpp1.6"],
    )
    connected, _ = await communicator.connect(timeout=10)
    if connected:
        await until_recorded(charge_point_id)
    return communicator, connected


@database_sync_to_async
def stations_with_passwords(count: int) -> list[str]:
    identities = []
    for number in range(count):
        station = StationFactory(charge_point_id=f"CP-SLOT-{number}")
        station_set_password(station=station, password=PASSWORD)
        identities.append(station.charge_point_id)
    return identities


@pytest.mark.parametrize(("slots", "most_at_once"), [(2, 2), (100, 5)])
async def test_connections_are_opened_a_bounded_number_at_a_time(
    passwords_required, settings, monkeypatch, slots, most_at_once
):
    settings.OCPP_CONNECTING_AT_ONCE = slots
    identities = await stations_with_passwords(5)
    opening, seen = set(), []
    admit = consumer.admit

    async def admit_slowly(scope):
        opening.add(id(scope))
        seen.append(len(opening))
        await asyncio.sleep(0.1)
        try:
            return await admit(scope)
        finally:
            opening.discard(id(scope))

    monkeypatch.setattr(consumer, "admit", admit_slowly)

    logins = await asyncio.gather(*(login(identity, PASSWORD) for identity in identities))

    assert [connected for _, connected in logins] == [True] * 5
    assert max(seen) == most_at_once
    for communicator, _ in logins:
        await communicator.disconnect()


async def test_a_refused_login_waits_for_its_answer_out_of_the_slots(passwords_required, settings):
    settings.OCPP_CONNECTING_AT_ONCE = 1
    settings.OCPP_AUTH_FAILURE_SECONDS = 1.5
    [identity] = await stations_with_passwords(1)
    answered = []

    async def wrong_password():
        _, connected = await login(identity, "not-the-password")
        answered.append(("wrong", connected))

    async def right_password_a_moment_later():
        await asyncio.sleep(0.3)
        communicator, connected = await login(identity, PASSWORD)
        answered.append(("right", connected))
        await communicator.disconnect()

    await asyncio.gather(wrong_password(), right_password_a_moment_later())

    assert answered == [("right", True), ("wrong", False)]


async def test_a_station_that_gives_up_waiting_or_admitted_leaves_no_slot_taken(
    passwords_required, settings, monkeypatch
):
    """With one slot: a station that gives up while it is being admitted, then one that gives
    up while it waits for the slot; each leaves the slot free for the next station."""
    settings.OCPP_CONNECTING_AT_ONCE = 1
    holder, waiter, last = await stations_with_passwords(3)
    opening, seen = set(), []
    admit = consumer.admit

    async def admit_slowly(scope):
        opening.add(id(scope))
        seen.append(len(opening))
        try:
            await asyncio.sleep(0.5)
            return await admit(scope)
        finally:
            opening.discard(id(scope))

    monkeypatch.setattr(consumer, "admit", admit_slowly)

    async def give_up(identity: str, after: float) -> None:
        communicator = WebsocketCommunicator(
            application, f"/ocpp/{identity}", subprotocols=["ocpp1.6"]
        )
        with pytest.raises(asyncio.TimeoutError):
            await communicator.connect(timeout=after)  # the test client cancels the connection

    await give_up(holder, after=0.2)  # gone in the middle of its admission
    communicator, connected = await login(last, PASSWORD)
    assert connected
    await communicator.disconnect()

    seen.clear()
    admitted = asyncio.create_task(login(last, PASSWORD))
    await asyncio.sleep(0.05)  # ``last`` holds the slot
    await give_up(waiter, after=0.2)  # gone while it waited for the slot
    communicator, connected = await admitted
    assert connected
    await communicator.disconnect()
    communicator, connected = await login(holder, PASSWORD)  # the slot is free again
    assert connected
    await communicator.disconnect()
    assert max(seen) == 1
