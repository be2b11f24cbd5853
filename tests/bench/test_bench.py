"""The bench harness, at a tiny size, against the real servers: so that `make bench` cannot rot.
No figure is asserted beyond "it worked": speeds are the bench's business, not the tests'."""

import asyncio
import json

from django.conf import settings

from bench import run
from bench.servers import ROOT


def test_every_scenario_runs_against_the_portal_and_the_reference(tmp_path):
    arguments = ["--stations", "6", "--badges", "3000", "--connections", "2", "--seconds", "0.3"]
    arguments += ["--rate", "20", "--latency-seconds", "0.3"]
    arguments += ["--day-seconds", "1.5", "--heartbeat-interval", "0.5", "--meter-interval", "0.3"]
    arguments += ["--session-seconds", "0.6", "--commands", "3", "--command-stations", "2"]
    arguments += ["--flood-rate", "10", "--flood-seconds", "0.5", "--flood-heartbeat-ms", "100"]
    arguments += ["--uvicorn-flags", "--lifespan on", "--json", str(tmp_path / "bench.json")]
    database = settings.DATABASES["default"]
    if settings.REDIS_URL and database["ENGINE"].endswith("postgresql"):  # CI's second run
        server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/postgres"
        arguments += ["--postgres", server, "--redis", settings.REDIS_URL]

    portal, reference = asyncio.run(run.main(run.parse(arguments), ROOT))

    # 1: every station got in with its password, on both; nothing taken over.
    assert (portal["storm_failures"], reference["storm_failures"]) == (0, 0)
    assert portal["storm_takeovers"] == portal["flood_takeovers"] == 0
    assert portal["flood_attempts"] == 5 and portal["flood_accepted"] == 0
    assert portal["flood_refused"] + portal["flood_timed_out"] == 5
    assert reference["flood_accepted"] == 0  # the reference checks passwords too
    for figures in (portal, reference):
        assert figures["authorize_per_s"] > 0
        assert 0 < figures["authorize_refused_percent"] < 100  # unknown vehicles, refused
        assert figures["latency_p99_ms"] < float("inf")
        assert figures["day_errors"] == 0 and figures["day_p99_Heartbeat_ms"] < float("inf")
        assert figures["day_sessions_started"] > 0 and figures["day_cpu_percent"] >= 0
        assert figures["fleet_pairs_repeated"] == 0
    assert portal["log_drain_s"] < 60  # the log caught up with the saturation
    assert portal["day_log_lag_p99_s"] < float("inf")  # the /metrics gauge was read
    # 4, after SIGTERM with the stations connected: every frame both ways in the log, every
    # session and stop recorded; the server exited by itself.
    assert portal["stop_killed"] == reference["stop_killed"] == 0
    assert portal["log_missing"] == portal["sessions_missing"] == portal["stops_missing"] == 0
    if "--postgres" in arguments:
        assert portal["command_p99_ms"] < float("inf")
    written = json.loads((tmp_path / "bench.json").read_text())
    assert {row["key"] for row in written["rows"]} >= {"storm_s", "authorize_per_s", "log_missing"}
    assert set(written["paths"]) == {"1", "flood", "2", "3", "4", "5", "6"}
