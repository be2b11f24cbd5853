"""Authorize round trips against a running portal, with every frame logged (the baseline that
the fleet-scale work will improve).

    .venv/bin/python bench/authorize.py --url ws://127.0.0.1:8000/ocpp --stations 20 --requests 50

Uses the demo data's stations and badge unless told otherwise; sends raw OCPP 1.6J frames over
loopback only, a bounded number of them, and prints throughput and latency percentiles.
"""

import argparse
import asyncio
import json
import statistics
import time
from urllib.parse import urlparse

import websockets


async def station_loop(url: str, charge_point_id: str, id_tag: str, requests: int) -> list[float]:
    latencies = []
    async with websockets.connect(f"{url}/{charge_point_id}", subprotocols=["ocpp1.6"]) as ws:
        for number in range(requests):
            frame = json.dumps([2, f"{charge_point_id}-{number}", "Authorize", {"idTag": id_tag}])
            started = time.perf_counter()
            await ws.send(frame)
            answer = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            latencies.append(time.perf_counter() - started)
            if answer[0] != 3:
                raise RuntimeError(f"unexpected answer {answer}")
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ocpp")
    parser.add_argument(
        "--station", action="append", default=None, help="charge point id (repeatable)"
    )
    parser.add_argument("--stations", type=int, default=10, help="concurrent connections")
    parser.add_argument("--requests", type=int, default=50, help="Authorize per connection")
    parser.add_argument("--id-tag", default="VID:A014310E004E")
    options = parser.parse_args()
    if urlparse(options.url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("benchmarks only target this machine (127.0.0.1)")
    # Several connections may share one station id: each replaces nothing yet (one per id is
    # a later rule), and the decision path is the same.
    ids = options.station or ["KEMPOWER-DEMO-01"]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            station_loop(options.url, ids[index % len(ids)], options.id_tag, options.requests)
            for index in range(options.stations)
        )
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for result in results for latency in result)
    count = len(latencies)
    print(f"connections          {options.stations}")
    print(f"Authorize round trips {count} in {elapsed:.2f} s = {count / elapsed:.0f}/s")
    print(f"latency p50          {statistics.median(latencies) * 1000:.1f} ms")
    print(f"latency p99          {latencies[int(count * 0.99) - 1] * 1000:.1f} ms")
    print(f"latency max          {latencies[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
