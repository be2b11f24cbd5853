"""``make bench``: every scenario against the portal and against the reference server, in the
same run, with the same workload, on 127.0.0.1 only; one table of absolute figures, ratios,
targets and whether each is met, printed and written as JSON (``--json``).

    .venv/bin/python -m bench.run --stations 5000               # what `make bench` runs
    .venv/bin/python -m bench.run --stations 200 --seconds 3 --day-seconds 30   # a quick look

The portal runs as production runs it: uvicorn with `make run`'s flags, ``DJANGO_DEBUG`` off,
every station required to present its own password (``OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD``
off). The reference (``bench/reference.py``) checks the same passwords the same way. Scenarios
(bench/README.md; ``PATHS`` below says which code path each measures): 1 boot storm with
passwords; flood: wrong passwords against a connected station (issue 13); 2 Authorize throughput
with vehicles drawn from a realistic fleet (``bench/fleet.py``: thousands of badges, no (tag,
station) pair repeated, 20 % unknown vehicles), every frame logged; 3 Authorize latency at a
steady rate with all N connected; 4 a steady fleet day (Heartbeats at the configured interval,
20 % of the stations charging with MeterValues every 30 s, sessions starting and stopping):
server CPU share, every action's p99, log lag, nothing lost after SIGTERM; 5 memory per
connected station; 6 a command posted to one portal process reaching a station connected to
another (PostgreSQL + Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shlex
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import fleet as fleets
from bench import load, profile, servers

KIB = 1024
COUNT_LOG_ROWS = "SELECT COUNT(*) FROM ocpp_gateway_ocppmessage"
COUNT_SESSIONS = "SELECT COUNT(*), COUNT(stopped_at) FROM stations_chargingsession"
COUNT_TAKEOVERS = "SELECT COUNT(*) FROM stations_securityevent WHERE kind = 'station_takeover'"
LOG_LAG_GAUGE = "ocpp_message_log_lag_seconds"
WARM_UP_COMMANDS = 5  # scenario 6
DAY_ACTIONS = ("Heartbeat", "Authorize", "StartTransaction", "MeterValues", "StopTransaction")
# The portal as production runs it (README, "Production settings"): every station must
# present its password, no debug, the default log level.
PRODUCTION_ENV = {
    "OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD": "false",
    "DJANGO_DEBUG": "false",
    "LOG_LEVEL": "INFO",
}

# Which code path each scenario measures, printed as it starts (and in bench/README.md).
PATHS = {
    "1": "handshake with HTTP Basic (salted HMAC-SHA256), connection recorded, BootNotification "
    "and StatusNotification through the gateway to the database thread; every frame logged",
    "flood": "the handshake guard: wrong passwords refused (401, 429 once locked out) at a "
    "constant delay while the attacked station's Heartbeats are answered",
    "2": "Authorize of a vehicle the station has not seen lately: decided from the process's "
    "authorization index (every badge in memory), an unknown VID refused and its refusal "
    "recorded (inbox, sighting) in the next batch; both frames logged",
    "3": "scenario 2's path at a steady offered rate, all N stations connected (their "
    "connections idle): latency from each call's scheduled time",
    "4": "the whole station protocol at a fleet's pace: Heartbeat, Authorize, StartTransaction "
    "(session recorded), MeterValues (energy recorded), StopTransaction, every frame logged; "
    "then a clean stop (SIGTERM) and the database counted",
    "5": "the server's resident memory grown over the boot storm, per connected station",
    "6": "REST API POST on one process, the Command row, the channel layer through Redis, the "
    "other process's consumer, the runner sending the call to the station",
}


@dataclass
class Figures:
    """What one server did; None where a scenario does not apply to it."""

    values: dict[str, float | None] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float | None:
        return self.values.get(key)

    def __setitem__(self, key: str, value: float | None) -> None:
        self.values[key] = value
        print(f"   {key} = {fmt(value)}", flush=True)  # as it comes: a long run shows progress


Check = Callable[[float | None, float | None], bool | None]


def at_most(limit: float) -> Check:
    return lambda portal, _reference: None if portal is None else portal <= limit


def ratio_at_least(share: float) -> Check:
    def check(portal, reference):
        if portal is None or not reference:
            return None
        return portal / reference >= share

    return check


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str = ""
    target: str = ""
    check: Check | None = None  # (portal, reference) → met?
    compared: bool = True  # a ratio to the reference means something (not for counts)


ROWS = [
    Row("storm_s", "1 boot storm with passwords: all accepted", "s", "≤ 15 s", at_most(15)),
    Row("storm_failures", "1 boot storm: failures", "", "0", at_most(0)),
    Row("storm_takeovers", "1 boot storm: takeover events", "", "0", at_most(0)),
    Row("flood_heartbeat_p99_ms", "flood: Heartbeat p99 during it", "ms", "≤ 50 ms", at_most(50)),
    Row("flood_attempts", "flood: wrong-password handshakes", compared=False),
    Row("flood_refused", "flood: refused (401, 429 locked out)", "", "all", compared=False),
    Row("flood_timed_out", "flood: timed out or failed otherwise", "", "0", at_most(0)),
    Row("flood_accepted", "flood: accepted", "", "0", at_most(0)),
    Row("flood_takeovers", "flood: takeover events", "", "0", at_most(0)),
    Row(
        "authorize_per_s",
        "2 Authorize throughput, realistic fleet, logged",
        "/s",
        "≥ 0.5 × ref",
        ratio_at_least(0.5),
    ),
    Row(
        "authorize_refused_percent",
        "2 refused (vehicles not enrolled)",
        "%",
        "20 %",
        compared=False,
    ),
    Row(
        "fleet_pairs_repeated",
        "2–4 (tag, station) pairs seen again",
        "",
        "0",
        at_most(0),
        compared=False,
    ),
    Row("log_drain_s", "2 log written, after 2", "s"),
    Row("latency_p50_ms", "3 Authorize latency p50, all N connected", "ms"),
    Row("latency_p95_ms", "3 Authorize latency p95", "ms"),
    Row("latency_p99_ms", "3 Authorize latency p99", "ms", "≤ 25 ms", at_most(25)),
    Row("day_cpu_percent", "4 fleet day: server CPU", "% core", "< 50 %", at_most(50)),
    *(Row(f"day_p99_{action}_ms", f"4 fleet day: {action} p99", "ms") for action in DAY_ACTIONS),
    Row("day_p99_max_ms", "4 fleet day: every action's p99", "ms", "< 50 ms", at_most(50)),
    Row("day_calls", "4 fleet day: calls measured", compared=False),
    Row("day_errors", "4 fleet day: calls failed or timed out", "", "0", at_most(0)),
    Row(
        "day_charging_percent",
        "4 fleet day: stations charging, on average",
        "%",
        "20 %",
        compared=False,
    ),
    Row("day_sessions_started", "4 fleet day: sessions started (warm-up included)", compared=False),
    Row("day_sessions_stopped", "4 fleet day: sessions stopped", compared=False),
    Row("day_log_lag_p99_s", "4 fleet day: log lag p99 (gauge)", "s", "< 1 s", at_most(1)),
    Row("day_log_lag_max_s", "4 fleet day: log lag max (gauge)", "s"),
    Row("stop_s", "4 SIGTERM, N connected: time to exit", "s", compared=False),
    Row("stop_killed", "4 SIGTERM: killed after 60 s instead", "", "0", at_most(0), compared=False),
    Row("log_missing", "4 after SIGTERM: frames − log rows", "", "0", at_most(0)),
    Row("sessions_missing", "4 after SIGTERM: sessions − rows", "", "0", at_most(0)),
    Row("stops_missing", "4 after SIGTERM: stops − stopped rows", "", "0", at_most(0)),
    Row("kib_per_station", "5 server memory per station", "KiB", "≤ 40 KiB", at_most(40)),
    Row("command_p50_ms", "6 command across processes p50", "ms"),
    Row("command_p99_ms", "6 command across processes p99", "ms", "≤ 50 ms", at_most(50)),
    Row("commands_lost", "6 commands lost (not there in 10 s)", "", "0", at_most(0)),
]


def scenario(name: str, title: str, portal: bool = True) -> None:
    """Announce a scenario, with the portal's code path it measures (the reference's is always
    its own: the library's ChargePoint on bare websockets, everything in memory)."""
    print(f"-- {name} {title}" + (f"\n   path: {PATHS[name]}" if portal else ""), flush=True)


async def measure(
    server: servers.Server, options, database: servers.Database | None = None
) -> Figures:
    """Every scenario on ``server`` (the portal when ``database`` is given: its log, sessions
    and gauges are counted too), in one sequence: the stations of the storm stay connected."""
    # The load generator runs without its garbage collector while it measures: its collections
    # walked its thousands of connections (full ones up to 0.4 s at 5,000 stations, logged with
    # gc.callbacks), time counted against the server, in the storm and in every latency. It
    # makes next to no cyclic garbage meanwhile (the same log: 0 to 2 objects a collection).
    gc.disable()
    try:
        return await _measure(server, options, database)
    finally:
        gc.enable()
        gc.collect()


async def _measure(server: servers.Server, options, database: servers.Database | None) -> Figures:
    figures = Figures()
    counters = load.Counters()
    portal = database is not None
    fleet = fleets.Fleet(badges=options.badges, stations=options.stations)
    next_vehicle = lambda station: fleet.next_tag(station.number)  # noqa: E731

    scenario("1", f"boot storm: {options.stations} stations, each with its password", portal)
    rss_before = server.rss()
    recording = record(server, options, "1")
    stations, elapsed, failures = await load.boot_storm(
        server.url, range(options.stations), counters, passwords=True
    )
    await finish(recording)
    figures["storm_s"], figures["storm_failures"] = elapsed, failures
    if not stations:  # nothing to measure the other scenarios with
        await asyncio.to_thread(server.stop)
        return figures
    await asyncio.sleep(1)  # let the boot aftermath (catch-up procedures) settle
    scenario("5", "memory", portal)
    figures["kib_per_station"] = (server.rss() - rss_before) / KIB / max(1, len(stations))
    if database is not None:
        figures["storm_takeovers"] = await asyncio.to_thread(takeovers, database)

    if options.flood_seconds > 0:
        scenario("flood", f"{options.flood_rate:g} wrong passwords a second", portal)
        figures.values.update((await flood(stations[0], server, options)).values)
        if database is not None:
            figures["flood_takeovers"] = await asyncio.to_thread(takeovers, database)

    busy = stations[: options.connections]
    scenario("2", f"{len(busy)} stations, Authorize back to back, {options.seconds:g} s", portal)
    recording = record(server, options, "2")
    throughput, statuses = await load.authorize_saturated(busy, options.seconds, next_vehicle)
    await finish(recording)
    figures["authorize_per_s"] = throughput
    refused = statuses.total() - statuses["Accepted"]
    figures["authorize_refused_percent"] = 100 * refused / max(1, statuses.total())

    if database is not None:
        # Scenario 3 measures a steady state: not the writing of the saturation's backlog.
        figures["log_drain_s"] = await log_caught_up(counters, database)

    scenario("3", f"{options.rate:g} Authorize/s over all {len(stations)} stations", portal)
    latencies = await load.authorize_at_rate(
        stations, options.rate, options.latency_seconds, next_vehicle
    )
    for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        figures[f"latency_{name}_ms"] = load.percentile(latencies, fraction) * 1000

    if options.day_seconds > 0:
        # The same vehicles on both servers, whatever scenarios 2 and 3 drew on each.
        fleet.move_on(0.5)
        day = await fleet_day(server, stations, next_vehicle, options, portal)
        figures.values.update(day.values)
    # Each station saw each vehicle once at most, or the run was too long for its fleet.
    figures["fleet_pairs_repeated"] = fleet.pairs_repeated()

    # SIGTERM with every station still connected, as a restart in production: the server
    # closes them, and whatever it still held must be written before it exits.
    figures["stop_s"] = await asyncio.to_thread(server.stop)
    figures["stop_killed"] = int(server.killed)
    await asyncio.gather(*(station.close() for station in stations))
    if database is not None:
        frames = counters.sent + counters.received
        ((rows,),) = database.rows(COUNT_LOG_ROWS)
        figures["log_missing"] = frames - rows
        if options.day_seconds > 0:
            ((sessions, stopped),) = database.rows(COUNT_SESSIONS)
            figures["sessions_missing"] = figures["day_sessions_started"] - sessions
            figures["stops_missing"] = max(0, figures["day_sessions_stopped"] - stopped)
    return figures


async def fleet_day(
    server: servers.Server, stations: list[load.Station], next_vehicle, options, portal: bool
) -> Figures:
    """Scenario 4: a steady day of the whole fleet (``load.fleet_day``); the server's CPU over
    the measured window; on the portal, the message-log lag gauge scraped every second."""
    figures = Figures()
    interval = options.heartbeat_interval or stations[0].heartbeat_interval or 300
    scenario(
        "4",
        f"fleet day: {len(stations)} stations, Heartbeat every {interval:g} s, "
        f"{options.charging_share:.0%} charging (MeterValues every {options.meter_interval:g} s, "
        f"sessions of {options.session_seconds:g} s on average), {options.day_seconds:g} s "
        f"measured after {options.meter_interval:g} s of warm-up",
        portal,
    )
    lags: list[float] = []
    scraping = asyncio.create_task(scrape_log_lag(server, lags, options.meter_interval))
    profiled: list[profile.Recording | None] = []

    def probe() -> float:
        """At both ends of the measured window: the server's CPU; a profile between them."""
        if not profiled:  # the window starts
            profiled.append(record(server, options, "4"))
        return server.cpu_seconds()

    try:
        day = await load.fleet_day(
            stations,
            next_vehicle,
            seconds=options.day_seconds,
            heartbeat_interval=interval,
            meter_interval=options.meter_interval,
            charging_share=options.charging_share,
            session_seconds=options.session_seconds,
            probe=probe,
        )
    finally:
        scraping.cancel()
    if profiled:
        await finish(profiled[0])
    cpu_before, cpu_after = day.probes
    figures["day_cpu_percent"] = 100 * (cpu_after - cpu_before) / day.measured_seconds
    p99s = []
    for action in DAY_ACTIONS:
        if day.latencies.get(action):
            p99 = load.percentile(day.latencies[action], 0.99) * 1000
            figures[f"day_p99_{action}_ms"] = p99
            p99s.append(p99)
    figures["day_p99_max_ms"] = max(p99s, default=None)
    figures["day_calls"] = sum(len(values) for values in day.latencies.values())
    figures["day_errors"] = day.errors
    if day.charging_samples:
        share = sum(day.charging_samples) / len(day.charging_samples) / len(stations)
        figures["day_charging_percent"] = 100 * share
    figures["day_sessions_started"] = day.started
    figures["day_sessions_stopped"] = day.stopped
    if lags:
        figures["day_log_lag_p99_s"] = load.percentile(lags, 0.99)
        figures["day_log_lag_max_s"] = max(lags)
    return figures


async def scrape_log_lag(server: servers.Server, lags: list[float], after: float) -> None:
    """Every second from ``after`` seconds on, the portal's ``/metrics`` gauge of the message
    log's lag (the oldest row not yet written); nothing on a server without it."""
    await asyncio.sleep(after)
    while True:
        try:
            text = await asyncio.to_thread(metrics_text, server)
        except OSError:
            return  # no /metrics here (the reference)
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(LOG_LAG_GAUGE)
        ]
        if not values:
            return
        lags.append(max(values))  # one figure a process
        await asyncio.sleep(1)


def record(server: servers.Server, options, name: str) -> profile.Recording | None:
    """With ``--profile DIR``: py-spy on the server for scenario ``name``, until ``finish``."""
    if not options.profile:
        return None
    folder = Path(options.profile)
    folder.mkdir(parents=True, exist_ok=True)
    return profile.Recording(server.process.pid, folder / f"{server.name}-{name}.txt")


async def finish(recording: profile.Recording | None) -> None:
    if recording is not None:
        path = await asyncio.to_thread(recording.stop)
        if path is not None:
            print(profile.summary(path), flush=True)


def metrics_text(server: servers.Server) -> str:
    with urllib.request.urlopen(f"{server.http}/metrics", timeout=5) as response:
        return response.read().decode()


def takeovers(database: servers.Database) -> int:
    """``station_takeover`` security events in the database: a connection that replaced a
    station's live one. None is expected from the bench's stations, each connecting once."""
    ((count,),) = database.rows(COUNT_TAKEOVERS)
    return count


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
                raise RuntimeError(f"{failures} stations could not connect for scenario 6")
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


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == float("inf"):
        return "∞"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def met(row: Row, portal: float | None, reference: float | None) -> bool | None:
    return row.check(portal, reference) if row.check else None


def results(portal: Figures, reference: Figures) -> list[dict]:
    """The table's rows: scenario, portal figure, reference figure, ratio, target, met?"""
    rows = []
    for row in ROWS:
        mine, theirs = portal[row.key], reference[row.key]
        if mine is None and theirs is None:
            continue
        ratio = mine / theirs if row.compared and mine is not None and theirs else None
        rows.append(
            {
                "key": row.key,
                "scenario": row.label,
                "unit": row.unit,
                "portal": mine,
                "reference": theirs,
                "ratio": ratio,
                "target": row.target,
                "met": met(row, mine, theirs),
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| scenario | portal | reference | portal/ref | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    answer = {True: "yes", False: "**no**", None: ""}
    for row in rows:
        label = f"{row['scenario']} ({row['unit']})".replace(" ()", "")
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"| {label} | {fmt(row['portal'])} | {fmt(row['reference'])} | {ratio} | "
            f"{row['target']} | {answer[row['met']]} |"
        )
    return "\n".join(lines)


def commit(portal_dir: Path) -> str:
    found = subprocess.run(
        ["git", "-C", str(portal_dir), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or "unknown"


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "nan": JSON has no such numbers
    return value


async def main(options, portal_dir: Path) -> tuple[Figures, Figures]:
    """Run every scenario; print the table (and write it as JSON); the portal's figures and
    the reference's."""
    flags = shlex.split(options.uvicorn_flags)
    load.TIMEOUT = options.timeout
    started = time.monotonic()
    # What was measured, on how busy a machine: figures of a shared machine move a lot.
    context = {"commit": commit(portal_dir), "load_average_before": os.getloadavg()}
    print(f"== portal at {context['commit']}, load average {context['load_average_before']}")
    print(
        f"== reference: {options.stations} stations, {options.badges} badges; every scenario's "
        "path: the ocpp library's ChargePoint on bare websockets, badges and passwords in memory",
        flush=True,
    )
    with servers.running(
        lambda: servers.start_reference(options.stations, options.badges)
    ) as reference:
        reference_figures = await measure(reference, options)
    print(
        f"== portal ({portal_dir}, uvicorn {options.uvicorn_flags}), production settings, "
        "every station with its password",
        flush=True,
    )
    database = servers.Database(
        portal_dir=portal_dir,
        stations=options.stations,
        badges=options.badges,
        postgres_url=options.database_postgres,
        password_format=load.PASSWORD_FORMAT,
    )
    try:
        with servers.running(
            lambda: servers.start_portal(
                database, portal_dir=portal_dir, flags=flags, **PRODUCTION_ENV
            )
        ) as portal:
            try:
                portal_figures = await measure(portal, options, database)
            except Exception:
                print(portal.output())
                raise
    finally:
        database.drop()
    if reachable(options.postgres) and reachable(options.redis):
        print("== two portal processes on PostgreSQL + Redis", flush=True)
        scenario("6", f"{options.commands} commands")
        portal_figures.values.update((await command_latency(options, portal_dir, flags)).values)
    else:
        print("(scenario 6 skipped: PostgreSQL or Redis not reachable on 127.0.0.1)")
    rows = results(portal_figures, reference_figures)
    print(f"\n{options.stations} stations, {time.monotonic() - started:.0f} s\n")
    print(table(rows))
    if options.json:
        document = {
            "stations": options.stations,
            "badges": options.badges,
            **context,
            "options": vars(options),
            "paths": PATHS,
            "rows": [{key: _json_safe(value) for key, value in row.items()} for row in rows],
        }
        await asyncio.to_thread(Path(options.json).write_text, json.dumps(document, indent=1))
        print(f"\n(written to {options.json})")
    return portal_figures, reference_figures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=5000, help="N: connected in every scenario")
    parser.add_argument(
        "--badges", type=int, default=0, help="the fleet's enrolled vehicles (max(5000, N))"
    )
    parser.add_argument("--connections", type=int, default=200, help="busy stations (2)")
    parser.add_argument("--seconds", type=float, default=10, help="length of scenario 2")
    parser.add_argument("--rate", type=float, default=200, help="Authorize/s offered (3)")
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument(
        "--day-seconds", type=float, default=180, help="scenario 4, measured (0: skipped)"
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        default=0,
        help="scenario 4 (default: the interval the server answers at boot, 300 s)",
    )
    parser.add_argument("--meter-interval", type=float, default=30, help="scenario 4")
    parser.add_argument("--charging-share", type=float, default=0.2, help="scenario 4")
    parser.add_argument(
        "--session-seconds", type=float, default=600, help="scenario 4, average session"
    )
    parser.add_argument("--flood-rate", type=float, default=20, help="wrong passwords a second")
    parser.add_argument(
        "--flood-seconds", type=float, default=20, help="length of the flood (0: skipped)"
    )
    parser.add_argument("--flood-timeout", type=float, default=2, help="per wrong-password try")
    parser.add_argument(
        "--flood-heartbeat-ms", type=float, default=100, help="the attacked station's Heartbeats"
    )
    parser.add_argument("--commands", type=int, default=200, help="scenario 6")
    parser.add_argument("--command-stations", type=int, default=100, help="scenario 6")
    parser.add_argument("--portal-dir", default=str(servers.ROOT), help="the code under test")
    parser.add_argument("--uvicorn-flags", default="", help="as `make run` passes them")
    parser.add_argument(
        "--database-postgres",
        default="",
        help="run scenarios 1-5 on a throwaway PostgreSQL database (default: SQLite file)",
    )
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL for scenario 6")
    parser.add_argument("--redis", default="", help="Redis URL for scenario 6")
    parser.add_argument(
        "--timeout", type=float, default=load.TIMEOUT, help="to connect, and for each answer"
    )
    parser.add_argument("--json", default="", help="also write the table there")
    parser.add_argument(
        "--profile",
        default="",
        help="py-spy each server during scenarios 1, 2 and 4's window into this folder",
    )
    options = parser.parse_args(argv)
    options.badges = options.badges or max(5000, options.stations)
    return options


if __name__ == "__main__":
    options = parse()
    asyncio.run(main(options, Path(options.portal_dir).resolve()))
