"""The load generator: simulated stations speaking raw OCPP 1.6J frames over ``websockets``.

A :class:`Station` keeps one connection, sends one call at a time and answers the calls the
server makes (commands, configuration reads) so that no server waits on it. It counts every
frame it sends and receives: the message log must hold exactly as many rows.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BOOT = {"chargePointVendor": "Bench", "chargePointModel": "Load"}
# What a station answers to the server's calls it may receive during a run.
ANSWERS = {
    "GetLocalListVersion": {"listVersion": 0},
    "GetConfiguration": {"configurationKey": [], "unknownKey": []},
}
# Each station's own password (OCPP: 16 to 40 characters), seeded by bench/seed.py.
PASSWORD_FORMAT = "bench-station-password-{number:05d}"
_ids = itertools.count()


def require_loopback(url: str) -> None:
    if urlparse(url).hostname not in LOOPBACK:
        raise SystemExit(f"benchmarks only target this machine (127.0.0.1), not {url}")


def basic_authorization(username: str, password: str) -> dict[str, str]:
    """HTTP Basic credentials, as a station sends them in its handshake (OCPP security
    profile 1)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def station_password(number: int) -> str:
    return PASSWORD_FORMAT.format(number=number)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Counters:
    """Frames crossing the sockets of one server, both ways, over the whole run."""

    sent: int = 0
    received: int = 0
    # When each call the server made arrived: (time, station, action), in order.
    calls: list[tuple[float, str, str]] = field(default_factory=list)


class Station:
    def __init__(
        self,
        url: str,
        charge_point_id: str,
        id_tag: str,
        counters: Counters,
        password: str | None = None,
    ) -> None:
        self.url, self.charge_point_id, self.counters = url, charge_point_id, counters
        self.id_tag = id_tag  # the badge of the vehicle that plugs in here
        self.password = password  # sent with HTTP Basic authentication, if any
        self.ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None

    async def open(self) -> None:
        self.ws = await connect(
            f"{self.url}/{self.charge_point_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=(
                basic_authorization(self.charge_point_id, self.password)
                if self.password is not None
                else None
            ),
            open_timeout=60,
            ping_interval=None,  # stations' heartbeats are minutes apart; no pings in the way
            compression=None,
            max_queue=4,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.counters.received += 1
                frame = json.loads(text)
                if frame[0] == 2:  # the server's own call: answer it at once
                    arrival = (time.perf_counter(), self.charge_point_id, frame[2])
                    self.counters.calls.append(arrival)
                    self.counters.sent += 1
                    await self.ws.send(json.dumps([3, frame[1], ANSWERS.get(frame[2], {})]))
                    continue
                future = self._pending.pop(frame[1], None)
                if future is not None and not future.done():
                    future.set_result(frame)
        except ConnectionClosed:
            pass
        for future in self._pending.values():
            future.cancel()

    async def call(self, action: str, payload: dict, *, unique_id: str = "") -> list:
        """Send one call, wait for its answer (a CALLRESULT; a CALLERROR raises)."""
        unique_id = unique_id or f"b{next(_ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        self.counters.sent += 1
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        answer = await asyncio.wait_for(future, timeout=60)
        if answer[0] != 3:
            raise RuntimeError(f"{action} answered {answer}")
        return answer

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def station_id(number: int) -> str:
    return f"BENCH-{number:05d}"


def id_tag(number: int) -> str:
    """The Autocharge badge of the vehicle at station ``number`` (a locally administered MAC)."""
    return f"VID:0200{number:08X}"


async def boot_storm(
    url: str, numbers: range, counters: Counters, *, passwords: bool = False
) -> tuple[list[Station], float, int]:
    """All stations connect at once (each with its password, with ``passwords``), each sending
    BootNotification then StatusNotification. Returns the stations that made it, the time
    until the last was accepted, the failures."""

    async def one(number: int) -> Station:
        password = station_password(number) if passwords else None
        station = Station(url, station_id(number), id_tag(number), counters, password)
        try:
            await station.open()
            answer = await station.call("BootNotification", BOOT)
            if answer[2].get("status") != "Accepted":
                raise RuntimeError(f"boot {answer}")
            status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            await station.call("StatusNotification", {**status, "timestamp": now_iso()})
        except BaseException:
            await station.close()
            raise
        return station

    started = time.perf_counter()
    results = await asyncio.gather(*(one(n) for n in numbers), return_exceptions=True)
    elapsed = time.perf_counter() - started
    stations = [result for result in results if isinstance(result, Station)]
    return stations, elapsed, len(results) - len(stations)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


async def authorize_saturated(stations: list[Station], seconds: float) -> float:
    """Each station sends Authorize back to back for ``seconds``: answers a second, overall."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def loop(station: Station) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await station.call("Authorize", {"idTag": station.id_tag})
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(station) for station in stations))
    return done / (time.perf_counter() - started)


async def authorize_at_rate(
    stations: list[Station], rate: float, seconds: float, prefix: str = "b"
) -> tuple[list[float], dict[str, float]]:
    """An open loop: one Authorize every 1/rate s, on the stations in turn, whatever the
    answers do. Returns the latencies and the send time of each message id."""
    latencies: list[float] = []
    sent_at: dict[str, float] = {}
    tasks = []

    async def one(station: Station, unique_id: str) -> None:
        started = time.perf_counter()
        sent_at[unique_id] = time.time()
        await station.call("Authorize", {"idTag": station.id_tag}, unique_id=unique_id)
        latencies.append(time.perf_counter() - started)

    start = time.perf_counter()
    for number in range(int(rate * seconds)):
        delay = start + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        station = stations[number % len(stations)]
        tasks.append(asyncio.create_task(one(station, f"{prefix}{next(_ids)}")))
    await asyncio.gather(*tasks)
    return latencies, sent_at


async def sessions_saturated(stations: list[Station], seconds: float) -> float:
    """Each station runs whole sessions back to back: Authorize, StartTransaction, MeterValues,
    StopTransaction. Sessions a second, overall."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def loop(station: Station) -> None:
        nonlocal done
        meter = 0
        while time.perf_counter() < deadline:
            await station.call("Authorize", {"idTag": station.id_tag})
            start = {
                "connectorId": 1,
                "idTag": station.id_tag,
                "meterStart": meter,
                "timestamp": now_iso(),
            }
            answer = await station.call("StartTransaction", start)
            transaction_id = answer[2]["transactionId"]
            meter += 1000
            reading = {"value": str(meter), "measurand": "Energy.Active.Import.Register"}
            await station.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": transaction_id,
                    "meterValue": [{"timestamp": now_iso(), "sampledValue": [reading]}],
                },
            )
            await station.call(
                "StopTransaction",
                {"transactionId": transaction_id, "meterStop": meter, "timestamp": now_iso()},
            )
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(station) for station in stations))
    return done / (time.perf_counter() - started)


async def heartbeats(station: Station, interval: float, until: float) -> list[float]:
    """A Heartbeat every ``interval`` seconds until ``until`` (``time.perf_counter()``), one at a
    time as OCPP wants. Each latency runs from the Heartbeat's scheduled time, not from when a
    late predecessor let it go: a stall counts for every Heartbeat it delays."""
    latencies = []
    scheduled = time.perf_counter()
    while scheduled < until:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await station.call("Heartbeat", {})
        except (RuntimeError, TimeoutError, ConnectionClosed, asyncio.CancelledError):
            latencies.append(float("inf"))
            break  # the connection is gone or refused: the rest would be lost too
        latencies.append(time.perf_counter() - scheduled)
        scheduled += interval
    return latencies


async def wrong_password_flood(
    url: str, charge_point_id: str, rate: float, seconds: float, open_timeout: float
) -> Counter:
    """An open loop: a handshake for ``charge_point_id`` with a wrong password every 1/rate s,
    each given ``open_timeout`` seconds, never waiting for the previous. Counts the outcomes:
    ``refused`` (401, or 429 once locked out), ``accepted`` (must never happen), ``timed_out``,
    ``failed`` (any other error or HTTP status)."""
    outcomes: Counter = Counter()

    async def attempt(number: int) -> None:
        headers = basic_authorization(charge_point_id, f"wrong-password-{number:08d}")
        try:
            websocket = await connect(
                f"{url}/{charge_point_id}",
                subprotocols=["ocpp1.6"],
                additional_headers=headers,
                open_timeout=open_timeout,
                ping_interval=None,
                compression=None,
            )
        except InvalidStatus as refused:
            status = refused.response.status_code
            outcomes["refused" if status in (401, 429) else "failed"] += 1  # 429: locked out
        except TimeoutError:
            outcomes["timed_out"] += 1
        except (OSError, InvalidHandshake):
            outcomes["failed"] += 1
        else:
            outcomes["accepted"] += 1
            await websocket.close()

    tasks = []
    start = time.perf_counter()
    for number in range(int(rate * seconds)):
        delay = start + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(attempt(number)))
    await asyncio.gather(*tasks)
    outcomes["attempts"] = len(tasks)
    return outcomes
