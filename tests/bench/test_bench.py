"""The bench harness, at a tiny size, against the real servers: so that `make bench` cannot rot.
No figure is asserted beyond "it worked": speeds are the bench's business, not the tests'."""

import asyncio

from django.conf import settings

from bench import run
from bench.servers import ROOT


def test_every_scenario_runs_against_the_portal_and_the_reference():
    arguments = ["--stations", "4", "--connections", "2", "--seconds", "0.3", "--rate", "20"]
    arguments += ["--latency-stations", "4", "--latency-seconds", "0.3", "--lag-seconds", "0.3"]
    arguments += ["--commands", "3", "--command-stations", "2", "--uvicorn-flags", "--lifespan on"]
    arguments += ["--flood-rate", "10", "--flood-seconds", "0.5", "--flood-heartbeat-ms", "100"]
    database = settings.DATABASES["default"]
    if settings.REDIS_URL and database["ENGINE"].endswith("postgresql"):  # CI's second run
        server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/postgres"
        arguments += ["--postgres", server, "--redis", settings.REDIS_URL]

    portal, reference = asyncio.run(run.main(run.parse(arguments), ROOT))

    assert (portal["storm_failures"], reference["storm_failures"]) == (0, 0)
    assert portal["log_missing"] == 0  # every frame both ways is in the log
    for figures in (portal, reference):
        assert figures["authorize_per_s"] > 0 and figures["sessions_per_s"] > 0
        assert figures["latency_p99_ms"] < float("inf")
    assert portal["log_lag_p99_ms"] < float("inf")
    assert portal["log_drain_s"] < 60  # the log caught up with the saturation
    # 1b and flood: every station got in with its password, no wrong one did, nothing taken over.
    assert portal["password_storm_failures"] == 0 and portal["password_storm_ratio"] > 0
    assert portal["flood_heartbeat_p99_ms"] < float("inf")
    assert portal["flood_attempts"] == 5 and portal["flood_accepted"] == 0
    assert portal["flood_refused"] + portal["flood_timed_out"] == 5
    assert portal["storm_takeovers"] == portal["password_storm_takeovers"] == 0
    assert portal["flood_takeovers"] == 0
    if "--postgres" in arguments:
        assert portal["command_p99_ms"] < float("inf")
