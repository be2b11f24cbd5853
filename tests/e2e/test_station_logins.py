"""End to end, against a real server process in production settings (station passwords
required, the lockout's default limits): station logins that cost nothing to check, resist
guessing without locking the real station out, say nothing about which ids exist, and are
recorded as one security event per station, not one per attempt."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.contrib.auth.hashers import make_password

from ocpp_gateway.models import Command
from stations.models import SecurityEvent, Station
from tests.e2e.stations import (
    PASSWORD,
    Api,
    basic,
    call,
    connect,
    make_station,
    staff_token,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

FAILURE_SECONDS = 1.0  # OCPP_AUTH_FAILURE_SECONDS, the default


async def attempt(url: str, charge_point_id: str, password: str, *, source: str = "127.0.0.1"):
    """``(HTTP status, body, headers, seconds)`` of one handshake from ``source``."""
    started = time.monotonic()
    try:
        ws = await websockets.connect(
            f"{url}/ocpp/{charge_point_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(charge_point_id, password),
            local_addr=(source, 0),
        )
    except websockets.InvalidStatus as refused:
        response = refused.response
        return response.status_code, response.body, response.headers, time.monotonic() - started
    await ws.close()
    return 101, b"", {}, time.monotonic() - started


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=60))


def test_an_unknown_id_and_a_wrong_password_get_the_same_answer_at_the_same_time(own_server):
    make_station("E2E-LOGIN-1")

    async def both():
        return await asyncio.gather(
            attempt(own_server.url, "E2E-LOGIN-1", "wrong-password-000"),
            attempt(own_server.url, "E2E-NOBODY", "wrong-password-000"),
        )

    (wrong, unknown) = run(both())

    assert (wrong[0], wrong[1]) == (unknown[0], unknown[1]) == (401, b"invalid credentials")
    assert wrong[2]["WWW-Authenticate"] == unknown[2]["WWW-Authenticate"]
    # Answered after the constant delay, whichever failed.
    assert wrong[3] >= FAILURE_SECONDS and unknown[3] >= FAILURE_SECONDS


def test_five_failures_lock_the_station_out_for_others_but_not_from_its_own_address(
    own_server,
):
    station = make_station("E2E-LOGIN-2")
    # The station connects from 127.0.0.1 with its password: that address is its own.
    assert run(attempt(own_server.url, station.charge_point_id, PASSWORD))[0] == 101

    async def guessing():
        guesses = [
            attempt(own_server.url, station.charge_point_id, f"guess-{n:012d}", source="127.0.0.2")
            for n in range(5)
        ]
        return [result[0] for result in await asyncio.gather(*guesses)]

    assert run(guessing()) == [401] * 5
    locked = run(attempt(own_server.url, station.charge_point_id, PASSWORD, source="127.0.0.2"))
    own = run(attempt(own_server.url, station.charge_point_id, PASSWORD, source="127.0.0.1"))

    assert locked[0] == 429  # even the right password, from the guesser's side
    assert 0 < int(locked[2]["Retry-After"]) <= 61
    assert own[0] == 101  # the real station is not locked out by someone else's guesses
    event = wait_for(lambda: SecurityEvent.objects.filter(kind="station_login_failed").first())
    wait_for(lambda: SecurityEvent.objects.get(pk=event.pk).details["attempts"] == 6)
    assert SecurityEvent.objects.filter(kind="station_login_failed").count() == 1
    details = SecurityEvent.objects.get(pk=event.pk).details
    assert event.station_id == station.pk
    assert details["addresses"] == {"127.0.0.2": 6}
    assert details["refused_while_locked_out"] == 1
    assert details["locked_out_until"]


def test_a_flood_of_wrong_passwords_leaves_a_connected_station_answered(own_server):
    station = make_station("E2E-LOGIN-3")

    async def flood_while_charging():
        ws = await websockets.connect(
            f"{own_server.url}/ocpp/{station.charge_point_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(station.charge_point_id),
        )
        flood = [
            attempt(own_server.url, station.charge_point_id, f"flood-{n:012d}", source="127.0.0.3")
            for n in range(40)
        ]
        flooding = asyncio.gather(*flood)
        answers = [await call(ws, f"hb{n}", "Heartbeat", {}) for n in range(10)]
        statuses = [result[0] for result in await flooding]
        await ws.close()
        return answers, statuses

    answers, statuses = run(flood_while_charging())

    assert [answer[0] for answer in answers] == [3] * 10
    assert set(statuses) <= {401, 429} and statuses.count(401) <= 5
    assert not SecurityEvent.objects.filter(kind="station_takeover").exists()


def test_a_password_hashed_by_an_earlier_version_opens_and_is_made_fast(own_server):
    station = make_station("E2E-LOGIN-4")
    Station.objects.filter(pk=station.pk).update(basic_auth_password_hash=make_password(PASSWORD))

    assert run(attempt(own_server.url, station.charge_point_id, PASSWORD))[0] == 101

    upgraded = wait_for(
        lambda: Station.objects.get(pk=station.pk).basic_auth_password_hash.startswith("hmac")
    )
    assert upgraded
    assert run(attempt(own_server.url, station.charge_point_id, PASSWORD))[0] == 101


def test_a_new_password_the_station_never_confirmed_leaves_the_old_one_working_until_used(
    own_server,
):
    station = make_station("E2E-LOGIN-5")
    api = Api(own_server.url, staff_token())
    new_password = "Rotated-Password-99"

    async def rotate_without_answering():
        ws = await connect(own_server.url, station.charge_point_id)
        await asyncio.to_thread(
            wait_for, lambda: Station.objects.get(pk=station.pk).connection_state == "connected"
        )
        status, body = await asyncio.to_thread(
            api.patch,
            f"/stations/{station.pk}/",
            {"basic_auth_password": new_password, "push_authorization_key": True},
        )
        assert status == 200, body
        request = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        assert request[2] == "ChangeConfiguration"
        ws.transport.abort()  # the station never answers
        await asyncio.to_thread(
            wait_for, lambda: Command.objects.filter(action="ChangeConfiguration", state="failed")
        )
        return [
            (await attempt(own_server.url, station.charge_point_id, PASSWORD))[0],
            (await attempt(own_server.url, station.charge_point_id, new_password))[0],
            (await attempt(own_server.url, station.charge_point_id, PASSWORD))[0],
        ]

    old, new, old_again = run(rotate_without_answering())

    assert (old, new) == (101, 101)  # either may be the one the station has
    assert old_again == 401  # once the station used the new one, the old one is retired
    assert Station.objects.get(pk=station.pk).previous_password_hash == ""
