"""``make bench``: every scenario against the portal and against the reference server, in the
same run, on 127.0.0.1 only; a table of absolute figures and portal/reference ratios.

    .venv/bin/python -m bench.run --stations 5000        # what `make bench` runs
    .venv/bin/python -m bench.run --stations 200 --seconds 3   # a quick look

Scenarios (see bench/README.md): 1 boot storm, 1b the same storm with every station's password
(production settings), right after it, on a database of its own; flood: wrong passwords for a
connected station while it sends Heartbeats; 2 Authorize throughput (saturated, every frame
logged), 3 Authorize latency at a steady rate, 4 whole sessions, 5 memory per connected
station, 6 message-log lag and completeness, 7 a command posted to one portal process reaching
a station connected to another (PostgreSQL + Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import socket
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bench import load, servers

KIB = 1024
COUNT_LOG_ROWS = "SELECT COUNT(*) FROM ocpp_gateway_ocppmessage"
COUNT_TAKEOVERS = "SELECT COUNT(*) FROM stations_securityevent WHERE kind = 'station_takeover'"
WARM_UP_COMMANDS = 5  # scenario 7
# The portal as production runs it (README, "Production settings"): every station must
# present its password. Scenarios 1b and flood.
PRODUCTION_ENV = {"OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD": "false", "DJANGO_DEBUG": "false"}


@dataclass
class Figures:
    """What one server did; None where a scenario does not apply to it."""

    values: dict[str, float | None] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float | None:
        return self.values.get(key)

    def __setitem__(self, key: str, value: float | None) -> None:
        self.values[key] = value
        print(f"   {key} = {fmt(value)}", flush=True)  # as it comes: a long run shows progress


# key, label, unit, target (text), lower is better
ROWS = [
    ("storm_s", "1 boot storm: all accepted", "s", "≤ 15 s", True),
    ("storm_failures", "1 boot storm: failures", "", "0", True),
    ("storm_takeovers", "1 boot storm: takeover events", "", "0", True),
    ("password_storm_s", "1b boot storm with passwords: all accepted", "s", "", True),
    ("password_storm_ratio", "1b storm with passwords / storm 1", "×", "≤ 1.25", True),
    ("password_storm_failures", "1b boot storm with passwords: failures", "", "0", True),
    ("password_storm_takeovers", "1b boot storm with passwords: takeover events", "", "0", True),
    ("flood_heartbeat_p50_ms", "flood: Heartbeat p50 during it", "ms", "", True),
    ("flood_heartbeat_p99_ms", "flood: Heartbeat p99 during it", "ms", "≤ 50 ms", True),
    ("flood_attempts", "flood: wrong-password handshakes", "", "", False),
    ("flood_refused", "flood: refused (401, 429 locked out)", "", "all", False),
    ("flood_timed_out", "flood: timed out or failed otherwise", "", "0", True),
    ("flood_accepted", "flood: accepted", "", "0", True),
    ("flood_takeovers", "flood: takeover events", "", "0", True),
    ("authorize_per_s", "2 Authorize throughput, logged", "/s", "≥ 0.5 × ref", False),
    ("log_drain_s", "2 log written, after it", "s", "", True),
    ("latency_p50_ms", "3 Authorize latency p50", "ms", "", True),
    ("latency_p99_ms", "3 Authorize latency p99", "ms", "≤ 25 ms", True),
    ("sessions_per_s", "4 whole sessions", "/s", "", False),
    ("kib_per_station", "5 server memory per station", "KiB", "≤ 40 KiB", True),
    ("log_lag_p99_ms", "6 log lag p99", "ms", "≤ 1000 ms", True),
    ("log_missing", "6 log rows missing (frames − rows)", "", "0", True),
    ("command_p50_ms", "7 command across processes p50", "ms", "", True),
    ("command_p99_ms", "7 command across processes p99", "ms", "≤ 50 ms", True),
    ("commands_lost", "7 commands lost (not there in 10 s)", "", "0", True),
]


async def measure(
    server: servers.Server,
    options,
    database: servers.Database | None,
    after_storm: Callable[[float], Awaitable[Figures]] | None = None,
) -> Figures:
    """Every scenario on ``server``; ``after_storm(storm seconds)`` right after the boot
    storm's memory is measured, its figures added (the portal's password scenarios)."""
    figures = Figures()
    counters = load.Counters()
    rss_before = server.rss()
    stations, elapsed, failures = await load.boot_storm(
        server.url, range(options.stations), counters
    )
    figures["storm_s"], figures["storm_failures"] = elapsed, failures
    if not stations:  # nothing to measure the other scenarios with
        server.stop()
        return figures
    await asyncio.sleep(1)  # let the boot aftermath (catch-up procedures) settle
    figures["kib_per_station"] = (server.rss() - rss_before) / KIB / max(1, len(stations))
    if database is not None:
        figures["storm_takeovers"] = await asyncio.to_thread(takeovers, database)
    if after_storm is not None:
        figures.values.update((await after_storm(elapsed)).values)
    busy = stations[: options.connections]
    figures["authorize_per_s"] = await load.authorize_saturated(busy, options.seconds)
    if database is not None:
        # Scenario 3 measures a steady state: not the writing of the saturation's backlog.
        figures["log_drain_s"] = await log_caught_up(counters, database)
    latencies, _ = await load.authorize_at_rate(
        stations[: options.latency_stations], options.rate, options.latency_seconds
    )
    figures["latency_p50_ms"] = load.percentile(latencies, 0.50) * 1000
    figures["latency_p99_ms"] = load.percentile(latencies, 0.99) * 1000
    figures["sessions_per_s"] = await load.sessions_saturated(busy, options.seconds)
    if database is not None:
        figures["log_lag_p99_ms"] = await log_lag(stations, options, database)
    await asyncio.gather(*(station.close() for station in stations))
    server.stop()  # a clean stop: whatever the portal still held must be written now
    if database is not None:
        frames = counters.sent + counters.received
        (rows,) = database.rows(COUNT_LOG_ROWS)[0]
        figures["log_missing"] = frames - rows
    return figures


def takeovers(database: servers.Database) -> int:
    """``station_takeover`` security events in the database: a connection that replaced a
    station's live one. None is expected from the bench's stations, each connecting once."""
    ((count,),) = database.rows(COUNT_TAKEOVERS)
    return count


async def password_scenarios(
    options, portal_dir: Path, flags: list[str], database: servers.Database, storm_s: float
) -> Figures:
    """1b and flood, on a portal of their own with production settings, on ``database``
    (every station with its password): the same storm as scenario 1, each station sending its
    password; then, with all of them connected, one of them sends a Heartbeat every
    ``--flood-heartbeat-ms`` while ``--flood-rate`` handshakes a second try its charge point id
    with wrong passwords for ``--flood-seconds``."""
    figures = Figures()
    counters = load.Counters()
    # Started and stopped off the event loop, and the database read likewise: scenario 1's
    # stations stay connected meanwhile, and a loop blocked for longer than the server's
    # WebSocket ping timeout (uvicorn's 20 s; a portal still busy when stopped takes up to a
    # minute) would have them closed under scenario 2.
    portal = await asyncio.to_thread(
        servers.start_portal, database, portal_dir=portal_dir, flags=flags, **PRODUCTION_ENV
    )
    try:
        stations, elapsed, failures = await load.boot_storm(
            portal.url, range(options.stations), counters, passwords=True
        )
        figures["password_storm_s"] = elapsed
        figures["password_storm_ratio"] = elapsed / storm_s if storm_s else None
        figures["password_storm_failures"] = failures
        await asyncio.sleep(1)  # as scenario 1: the boot aftermath settles
        figures["password_storm_takeovers"] = await asyncio.to_thread(takeovers, database)
        if stations:
            figures.values.update((await flood(stations[0], portal, options)).values)
            figures["flood_takeovers"] = await asyncio.to_thread(takeovers, database)
        await asyncio.gather(*(station.close() for station in stations))
    except BaseException:
        print(portal.output())
        raise
    finally:
        await asyncio.to_thread(portal.stop)
    return figures


async def flood(target: load.Station, portal: servers.Server, options) -> Figures:
    figures = Figures()
    until = time.perf_counter() + options.flood_seconds
    heartbeating = asyncio.create_task(
        load.heartbeats(target, options.flood_heartbeat_ms / 1000, until)
    )
    outcomes = await load.wrong_password_flood(
        portal.url,
        target.charge_point_id,
        options.flood_rate,
        options.flood_seconds,
        options.flood_timeout,
    )
    latencies = await heartbeating
    figures["flood_heartbeat_p50_ms"] = load.percentile(latencies, 0.50) * 1000
    figures["flood_heartbeat_p99_ms"] = load.percentile(latencies, 0.99) * 1000
    figures["flood_attempts"] = outcomes["attempts"]
    figures["flood_refused"] = outcomes["refused"]
    figures["flood_timed_out"] = outcomes["timed_out"] + outcomes["failed"]
    figures["flood_accepted"] = outcomes["accepted"]
    await asyncio.sleep(0.5)  # a takeover, had there been one, is recorded after the accept
    return figures


async def log_caught_up(counters: load.Counters, database: servers.Database) -> float:
    """Seconds until the log holds every frame so far (at most 60)."""
    started = time.perf_counter()
    frames = counters.sent + counters.received
    while time.perf_counter() - started < 60:
        (rows,) = (await asyncio.to_thread(database.rows, COUNT_LOG_ROWS))[0]
        if rows >= frames:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def log_lag(stations: list[load.Station], options, database: servers.Database) -> float:
    """Authorize at the steady rate while polling the database: time from sending a frame to
    its row being visible."""
    visible: dict[str, float] = {}
    # The recent rows only (created_at is indexed): the poll must not be what takes time.
    since = database.timestamp(datetime.now(UTC) - timedelta(seconds=1))
    sql = (
        "SELECT unique_id FROM ocpp_gateway_ocppmessage"
        " WHERE created_at >= ? AND unique_id LIKE 'lag-%'"
    )
    sending = asyncio.create_task(
        load.authorize_at_rate(
            stations[: options.latency_stations], options.rate, options.lag_seconds, "lag-"
        )
    )
    deadline = time.time() + 10
    while True:
        done = sending.done()
        rows = await asyncio.to_thread(database.rows, sql, since)
        seen = time.time()
        for (unique_id,) in rows:
            visible.setdefault(unique_id, seen)
        if done and (len(visible) >= len(sending.result()[1]) or time.time() > deadline):
            break
        if not done:
            deadline = time.time() + 10  # after the last frame, 10 s for rows to show up
        await asyncio.sleep(0.05)
    _, sent_at = sending.result()
    lags = [visible.get(unique_id, float("inf")) - at for unique_id, at in sent_at.items()]
    return load.percentile(lags, 0.99) * 1000


async def command_latency(options, portal_dir: Path, flags: list[str]) -> Figures:
    """Two portal processes on PostgreSQL + Redis: stations connected to the first, commands
    posted to the second's REST API; time until the station receives the call."""
    figures = Figures()
    database = servers.Database(
        portal_dir=portal_dir, stations=options.command_stations, postgres_url=options.postgres
    )
    try:
        env = {"REDIS_URL": options.redis}
        with (
            servers.running(
                lambda: servers.start_portal(database, portal_dir=portal_dir, flags=flags, **env)
            ) as holding,
            servers.running(
                lambda: servers.start_portal(database, portal_dir=portal_dir, flags=flags, **env)
            ) as posting,
        ):
            counters = load.Counters()
            stations, _, failures = await load.boot_storm(
                holding.url, range(options.command_stations), counters
            )
            if failures:
                raise RuntimeError(f"{failures} stations could not connect for scenario 7")
            await asyncio.sleep(1)
            ids = dict(database.rows("SELECT charge_point_id, id FROM stations_station"))
            latencies = []
            # The first requests a process serves build what later ones reuse (imports, URL
            # resolution, database and Redis connections: the first takes ~250 ms); a server
            # in service is warm. Their latencies are kept apart, counted only if lost.
            for number in range(-WARM_UP_COMMANDS, options.commands):
                station = stations[number % len(stations)]
                pk = ids[station.charge_point_id]
                latency = await _command(posting.http, database.token, station, pk, counters)
                if number >= 0 or latency == float("inf"):
                    latencies.append(latency)
                if latencies[-3:] == [float("inf")] * 3:
                    break  # commands are being lost: no point waiting 10 s for each
            await asyncio.gather(*(station.close() for station in stations))
    finally:
        database.drop()
    figures["command_p50_ms"] = load.percentile(latencies, 0.50) * 1000
    figures["command_p99_ms"] = load.percentile(latencies, 0.99) * 1000
    figures["commands_lost"] = latencies.count(float("inf"))
    return figures


async def _command(
    base: str, token: str, station: load.Station, station_pk: int, counters: load.Counters
) -> float:
    """POST a GetLocalListVersion; the time until ``station`` receives it (inf: never did)."""
    already = len(counters.calls)
    started = time.perf_counter()
    request = urllib.request.Request(
        f"{base}/api/v1/stations/{station_pk}/commands/",
        method="POST",
        data=json.dumps({"action": "GetLocalListVersion"}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as response:
        if response.status != 202:
            raise RuntimeError(f"command refused: {response.status}")
    while time.perf_counter() < started + 10:
        for at, charge_point_id, action in counters.calls[already:]:
            if (charge_point_id, action) == (station.charge_point_id, "GetLocalListVersion"):
                return at - started
        await asyncio.sleep(0.0005)
    return float("inf")


def reachable(url: str) -> bool:
    if not url:
        return False
    load.require_loopback(url)
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


def ratio(portal: float | None, reference: float | None) -> str:
    if portal is None or reference is None or reference == 0:
        return ""
    return f"{portal / reference:.2f}"


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == float("inf"):
        return "∞"
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.1f}"


def table(portal: Figures, reference: Figures) -> str:
    lines = [
        "| scenario | portal | reference | portal/ref | target |",
        "|---|---:|---:|---:|---|",
    ]
    for key, label, unit, target, _lower in ROWS:
        if portal[key] is None and reference[key] is None:
            continue
        lines.append(
            f"| {label} ({unit}) | {fmt(portal[key])} | {fmt(reference[key])} | "
            f"{ratio(portal[key], reference[key])} | {target} |".replace(" ()", "")
        )
    return "\n".join(lines)


async def main(options, portal_dir: Path) -> tuple[Figures, Figures]:
    """Run every scenario; print the table; the portal's figures and the reference's."""
    flags = shlex.split(options.uvicorn_flags)
    started = time.monotonic()
    print(f"== reference: {options.stations} stations", flush=True)
    with servers.running(lambda: servers.start_reference(options.stations)) as reference:
        reference_figures = await measure(reference, options, None)
    print(f"== portal ({portal_dir}, uvicorn {options.uvicorn_flags})", flush=True)
    # Seeded first: with a slow password hash the seeding takes long, and 1b must follow 1.
    password_database = servers.Database(
        portal_dir=portal_dir,
        stations=options.stations,
        postgres_url=options.database_postgres,
        password_format=load.PASSWORD_FORMAT,
    )
    database = None
    try:
        database = servers.Database(
            portal_dir=portal_dir,
            stations=options.stations,
            postgres_url=options.database_postgres,
        )

        async def with_passwords(storm_s: float) -> Figures:
            print("== portal, production settings, every station with its password", flush=True)
            return await password_scenarios(options, portal_dir, flags, password_database, storm_s)

        with servers.running(
            lambda: servers.start_portal(database, portal_dir=portal_dir, flags=flags)
        ) as portal:
            try:
                portal_figures = await measure(portal, options, database, with_passwords)
            except Exception:
                print(portal.output())
                raise
    finally:
        if database is not None:
            database.drop()
        password_database.drop()
    if reachable(options.postgres) and reachable(options.redis):
        print("== two portal processes on PostgreSQL + Redis", flush=True)
        portal_figures.values.update((await command_latency(options, portal_dir, flags)).values)
    else:
        print("(scenario 7 skipped: PostgreSQL or Redis not reachable on 127.0.0.1)")
    print(f"\n{options.stations} stations, {time.monotonic() - started:.0f} s\n")
    print(table(portal_figures, reference_figures))
    if options.json:
        figures = {"portal": portal_figures.values, "reference": reference_figures.values}
        await asyncio.to_thread(Path(options.json).write_text, json.dumps(figures))
    return portal_figures, reference_figures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=5000, help="boot storm and memory")
    parser.add_argument("--connections", type=int, default=50, help="busy stations (2, 4)")
    parser.add_argument("--seconds", type=float, default=10, help="length of scenarios 2 and 4")
    parser.add_argument("--rate", type=float, default=200, help="Authorize/s offered (3, 6)")
    parser.add_argument("--latency-stations", type=int, default=2000)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--lag-seconds", type=float, default=5)
    parser.add_argument("--flood-rate", type=float, default=20, help="wrong passwords a second")
    parser.add_argument("--flood-seconds", type=float, default=20, help="length of the flood")
    parser.add_argument("--flood-timeout", type=float, default=2, help="per wrong-password try")
    parser.add_argument(
        "--flood-heartbeat-ms", type=float, default=100, help="the attacked station's Heartbeats"
    )
    parser.add_argument("--commands", type=int, default=200, help="scenario 7")
    parser.add_argument("--command-stations", type=int, default=100, help="scenario 7")
    parser.add_argument("--portal-dir", default=str(servers.ROOT), help="the code under test")
    parser.add_argument("--uvicorn-flags", default="", help="as `make run` passes them")
    parser.add_argument(
        "--database-postgres",
        default="",
        help="run scenarios 1-6 on a throwaway PostgreSQL database (default: SQLite file)",
    )
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL for scenario 7")
    parser.add_argument("--redis", default="", help="Redis URL for scenario 7")
    parser.add_argument("--json", default="", help="also write the figures there")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse()
    asyncio.run(main(options, Path(options.portal_dir).resolve()))
