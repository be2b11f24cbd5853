"""The gateway's Prometheus metrics (prometheus-client), and their exposition for ``/metrics``.

Each process counts what it does. With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run-scaled``
sets it: several processes on one host behind nginx), each process writes its values to files
there, and whichever process answers ``/metrics`` reports them all: counters and histograms
summed, stations connected summed over the living processes, the queues per process (a ``pid``
label). Without it (one process, or one process per container) ``/metrics`` is the process's
own, and Prometheus scrapes each process.

What lives in the database (commands by state, open sessions) is read when ``/metrics`` is
asked, by the process that answers it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time

from django.db import close_old_connections
from django.db.models import Count
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.upstream import database_thread, jobs_waiting

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

stations_connected = Gauge(
    "ocpp_stations_connected",
    "Stations connected now, by OCPP version.",
    ["ocpp_version"],
    multiprocess_mode="livesum",
)
frames = Counter(
    "ocpp_frames",
    "OCPP frames received from and sent to stations, by direction and action.",
    ["direction", "action"],
)
authorization_decisions = Counter(
    "ocpp_authorization_decisions",
    "Authorization decisions (Authorize, StartTransaction, TransactionEvent), by status and "
    "reason.",
    ["action", "status", "reason"],
)
handler_seconds = Histogram(
    "ocpp_handler_seconds",
    "Time from a station's call to the supervision's answer, by action.",
    ["action"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
database_thread_queue = Gauge(
    "ocpp_database_thread_queue_depth",
    "Database calls waiting for the stations' shared database thread.",
    multiprocess_mode="liveall",
)
database_thread_wait = Gauge(
    "ocpp_database_thread_wait_seconds",
    "How long a call waited for the stations' shared database thread, at the last sample.",
    multiprocess_mode="liveall",
)
shared_transaction_calls = Histogram(
    "ocpp_shared_transaction_calls",
    "Stations' database calls made together in one transaction (shared_transactions).",
    buckets=(1, 2, 5, 10, 25, 50, 100),
)
log_writer_queue = Gauge(
    "ocpp_message_log_queue_rows",
    "Message-log rows queued and not yet written.",
    multiprocess_mode="liveall",
)
log_writer_lag = Gauge(
    "ocpp_message_log_lag_seconds",
    "How long the oldest message-log row not yet written has waited.",
    multiprocess_mode="liveall",
)

# A label's values stay few: a station may send any action name; those OCPP does not define
# are counted as "other", an answer (which names no action) as "".
_ACTIONS = frozenset(action.value for action in (*Action16, *Action201))


def action_label(action: str) -> str:
    return action if not action or action in _ACTIONS else "other"


@functools.cache
def labelled(metric, *values: str):
    """``metric.labels(*values)``, looked up once per process: prometheus-client checks the
    values and takes a lock at every ``labels`` (a twentieth of an Authorize's time, py-spy).
    For values drawn from a few (``action_label``, the decisions' statuses and reasons)."""
    return metric.labels(*values)


SAMPLE_SECONDS = 1.0


async def sample_forever() -> None:
    """Every second, this process's queues: the message-log writer's, and the stations'
    shared database thread's (its depth, and how long a no-op waits for its turn)."""
    executor = database_thread()
    while True:
        pending, waited = writer.backlog()
        log_writer_queue.set(pending)
        log_writer_lag.set(waited)
        database_thread_queue.set(jobs_waiting(executor))
        queued_at = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(executor, time.monotonic)
        database_thread_wait.set(time.monotonic() - queued_at)
        await asyncio.sleep(SAMPLE_SECONDS)


class DatabaseCollector:
    """Commands by state and open charging sessions: counted in the database at each scrape."""

    def collect(self):
        from ocpp_gateway.models import Command, CommandState
        from stations.models import ChargingSession

        close_old_connections()
        try:
            counts = dict(Command.objects.order_by().values_list("state").annotate(Count("pk")))
            open_sessions = ChargingSession.objects.active().count()
        finally:
            close_old_connections()
        commands = GaugeMetricFamily(
            "ocpp_commands", "Commands to stations, by state.", labels=["state"]
        )
        for state in CommandState.values:
            commands.add_metric([state], counts.get(state, 0))
        yield commands
        yield GaugeMetricFamily(
            "ocpp_sessions_open", "Charging sessions open now.", value=open_sessions
        )


def exposition() -> bytes:
    """The text format of every metric (of every process, in multiprocess mode)."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def process_exited() -> None:
    """This process's live gauges leave the sums (multiprocess mode)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())
