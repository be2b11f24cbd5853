"""The load generator: simulated stations speaking raw OCPP 1.6J frames over ``websockets``.

A :class:`Station` keeps one connection, sends one call at a time and answers the calls the
server makes (commands, configuration reads) so that no server waits on it. It counts every
frame it sends and receives: the message log must hold exactly as many rows.

The workloads: a boot storm (each station with its password), Authorize saturated or at a
steady offered rate for the vehicles a ``tag`` function names (``bench.fleet``: a realistic
fleet), a fleet day (:func:`fleet_day`), Heartbeats under a flood of wrong passwords.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
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
# Seconds a station waits to connect, and for each answer: long, so that a slow server shows
# as a long storm, not as failures of the generator's patience (``bench.run --timeout``).
TIMEOUT = 120.0
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
        number: int,
        counters: Counters,
        password: str | None = None,
    ) -> None:
        self.url, self.number, self.counters = url, number, counters
        self.charge_point_id = station_id(number)
        self.heartbeat_interval = 0  # seconds, as the server's BootNotification answer says
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
            open_timeout=TIMEOUT,
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
        answer = await asyncio.wait_for(future, timeout=TIMEOUT)
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


async def boot_storm(
    url: str, numbers: range, counters: Counters, *, passwords: bool = False
) -> tuple[list[Station], float, int]:
    """All stations connect at once (each with its password, with ``passwords``), each sending
    BootNotification then StatusNotification. Returns the stations that made it, the time
    until the last was accepted, the failures."""

    async def one(number: int) -> Station:
        password = station_password(number) if passwords else None
        station = Station(url, number, counters, password)
        try:
            await station.open()
            answer = await station.call("BootNotification", BOOT)
            if answer[2].get("status") != "Accepted":
                raise RuntimeError(f"boot {answer}")
            station.heartbeat_interval = answer[2].get("interval", 0)
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


def authorization_status(answer: list) -> str:
    return answer[2].get("idTagInfo", {}).get("status", "")


async def authorize_saturated(
    stations: list[Station], seconds: float, tag: Callable[[Station], str]
) -> tuple[float, Counter]:
    """Each station sends Authorize back to back for ``seconds``, for the vehicle ``tag(station)``
    names each time: answers a second overall, and the answers' statuses."""
    deadline = time.perf_counter() + seconds
    statuses: Counter = Counter()

    async def loop(station: Station) -> None:
        while time.perf_counter() < deadline:
            answer = await station.call("Authorize", {"idTag": tag(station)})
            statuses[authorization_status(answer)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(station) for station in stations))
    return statuses.total() / (time.perf_counter() - started), statuses


async def authorize_at_rate(
    stations: list[Station], rate: float, seconds: float, tag: Callable[[Station], str]
) -> list[float]:
    """An open loop: one Authorize every 1/rate s, on the stations in turn, whatever the
    answers do. Each latency runs from the call's scheduled time: a stall of the server, or of
    the generator, counts for every call it delays."""
    latencies: list[float] = []
    tasks = []

    async def one(station: Station, scheduled: float) -> None:
        await station.call("Authorize", {"idTag": tag(station)})
        latencies.append(time.perf_counter() - scheduled)

    start = time.perf_counter()
    for number in range(int(rate * seconds)):
        scheduled = start + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        station = stations[number % len(stations)]
        tasks.append(asyncio.create_task(one(station, scheduled)))
    await asyncio.gather(*tasks)
    return latencies


@dataclass
class Day:
    """What a fleet day did: each action's latencies in the measured window, and the sessions
    over the whole day (warm-up included: all of them must be in the portal's database)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    started: int = 0  # sessions the server accepted
    stopped: int = 0
    refused: int = 0  # vehicles refused at Authorize (not enrolled)
    errors: int = 0  # calls that failed or timed out
    probes: tuple = ()  # probe() at the start and at the end of the measured window
    measured_seconds: float = 0
    charging: int = 0  # stations in a session now
    charging_samples: list[int] = field(default_factory=list)  # each second of the window


async def fleet_day(
    stations: list[Station],
    tag: Callable[[Station], str],
    *,
    seconds: float,
    heartbeat_interval: float,
    meter_interval: float = 30,
    charging_share: float = 0.2,
    session_seconds: float = 600,
    probe: Callable[[], object] = lambda: None,
    seed: int = 15,
) -> Day:
    """A steady day of a fleet's depot: every station sends a Heartbeat every
    ``heartbeat_interval`` (its phase random), and alternates between idle and charging so that
    ``charging_share`` of them charge at any time (sessions of ``session_seconds`` on average,
    idle periods as long as that share asks). A session: the vehicle's Authorize (a refused
    vehicle leaves, the next one comes within four meter intervals: two minutes),
    StartTransaction, MeterValues every ``meter_interval``, StopTransaction. One call at a time
    per station, as OCPP wants.

    The first ``meter_interval`` is a warm-up, not measured: the stations charging when the day
    starts open their sessions then, spread over it. Then ``seconds`` measured: each action's
    latency, from its send to its answer; ``probe()`` is called at both ends of that window
    (the server's CPU time)."""
    day = Day()
    idle_seconds = session_seconds * (1 - charging_share) / charging_share
    begin = time.perf_counter()
    measured_from = begin + meter_interval
    until = measured_from + seconds

    async def one(station: Station) -> None:
        # The same plan for a station on every server, whatever the answers' timing.
        rng = random.Random(seed * 1_000_003 + station.number)

        async def timed(action: str, payload: dict, at: float) -> list | None:
            sent = time.perf_counter()
            try:
                answer = await station.call(action, payload)
            except (RuntimeError, TimeoutError, ConnectionClosed, asyncio.CancelledError):
                day.errors += 1  # CancelledError: the connection closed under the call
                answer, latency = None, float("inf")
            else:
                latency = time.perf_counter() - sent
            if measured_from <= at < until:
                day.latencies[action].append(latency)
            return answer

        next_heartbeat = begin + rng.uniform(0, heartbeat_interval)
        charging_at_dawn = rng.random() < charging_share
        # Those charging when the day starts open their session in the warm-up; the others
        # plug in after what remains of their idle period. Periods last 0.5 to 1.5 times their mean;
        # what remains of one seen at a random moment is 0.54 times the mean on average: uniform
        # up to the mean, so that the day starts in its steady state.
        start_at = begin + rng.uniform(0, meter_interval if charging_at_dawn else idle_seconds)
        transaction = None
        next_meter = stop_at = float("inf")
        meter = 0
        while True:
            at = min(
                next_heartbeat, min(next_meter, stop_at) if transaction is not None else start_at
            )
            if at >= until:
                return
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if at == next_heartbeat:
                next_heartbeat += heartbeat_interval
                await timed("Heartbeat", {}, at)
            elif transaction is None:
                vehicle = tag(station)
                answer = await timed("Authorize", {"idTag": vehicle}, at)
                if answer is None or authorization_status(answer) != "Accepted":
                    day.refused += answer is not None
                    start_at = time.perf_counter() + rng.uniform(0, 4 * meter_interval)
                    continue
                start = {"connectorId": 1, "idTag": vehicle, "meterStart": meter}
                answer = await timed("StartTransaction", {**start, "timestamp": now_iso()}, at)
                if answer is None:
                    start_at = time.perf_counter() + rng.uniform(0, 4 * meter_interval)
                    continue
                day.started += 1
                day.charging += 1
                transaction = answer[2]["transactionId"]
                now = time.perf_counter()
                next_meter = now + meter_interval
                # A session under way at dawn has run for a while already (as above).
                length = session_seconds * (
                    rng.uniform(0, 1) if at < measured_from else rng.uniform(0.5, 1.5)
                )
                stop_at = now + length
            elif at == next_meter:
                next_meter += meter_interval
                meter += 1850  # Wh in 30 s at 22 kW, near enough
                reading = {"value": str(meter), "measurand": "Energy.Active.Import.Register"}
                sampled = [{"timestamp": now_iso(), "sampledValue": [reading]}]
                payload = {"connectorId": 1, "transactionId": transaction, "meterValue": sampled}
                await timed("MeterValues", payload, at)
            else:
                stop = {"transactionId": transaction, "meterStop": meter, "timestamp": now_iso()}
                if await timed("StopTransaction", stop, at) is not None:
                    day.stopped += 1
                day.charging -= 1
                transaction, next_meter, stop_at = None, float("inf"), float("inf")
                start_at = time.perf_counter() + idle_seconds * rng.uniform(0.5, 1.5)

    async def window() -> None:
        await asyncio.sleep(max(0.0, measured_from - time.perf_counter()))
        started = (time.perf_counter(), probe())
        while time.perf_counter() < until:
            day.charging_samples.append(day.charging)
            await asyncio.sleep(min(1.0, max(0.0, until - time.perf_counter())))
        day.measured_seconds = time.perf_counter() - started[0]
        day.probes = (started[1], probe())

    await asyncio.gather(window(), *(one(station) for station in stations))
    return day


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
