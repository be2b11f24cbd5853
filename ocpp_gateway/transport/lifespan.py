"""What a server process does besides answering: started and stopped by the ASGI lifespan.

- At startup it registers itself (``server_processes``), then every few seconds says it is
  alive and looks for processes that died, whose stations it marks disconnected.
- It runs the commands to its stations that the channel layer did not bring (Redis down,
  restarted, failed over): commands are rows first, messages second, so none stays pending.
- With Redis, it notices a Redis that restarted or came back (its ``run_id`` changes, or it
  could not be reached) and joins its stations' groups again: Redis forgot them.
- It runs the scheduled jobs (supervision.jobs) unless ``JOBS_IN_SERVER`` is off.
- It freezes what survived, every second, so the garbage collector never walks the thousands
  of connections again (``supervision.garbage_collection``).
- It owns the process's threads: the message log's writer (``log_writer``) and the
  authorization index (``stations.authorization_index``: every badge and station in memory,
  kept up to date by a thread) start here, before the first station connects, and stop here.
  (The writer also starts on first use, for what runs without a lifespan: the tests' ASGI
  client, a server run with ``--lifespan off``; without the index, every Authorize is decided
  by the database.)
- At a graceful stop (SIGTERM), once uvicorn has closed every connection, it marks whatever
  stations it still holds disconnected, and writes the message-log rows it still holds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections

from ocpp_gateway.operations.commands import commands_fail_unreachable, commands_undelivered
from ocpp_gateway.operations.refusal_records import records as refusal_records
from ocpp_gateway.operations.reservations import reservations_settle_lost
from ocpp_gateway.transport import metrics, server_processes
from ocpp_gateway.transport.local_stations import local_stations
from ocpp_gateway.transport.log_writer import writer
from stations.authorization_index import index as authorization_index
from stations.models import CloseReason
from stations.reservations import reservations_expire
from stations.services import station_connection_reclaim
from supervision import garbage_collection, jobs

logger = logging.getLogger(__name__)

# A command gets this long to arrive through the channel layer before the sweep runs it.
_DELIVERY_GRACE = timedelta(seconds=1)
# A pending command to a station that left is failed after this long.
_UNREACHABLE_AFTER = timedelta(seconds=10)
_REDIS_CHECK_SECONDS = 2.0
# The housekeeping's database work runs in a thread of its own, never on the one thread every
# station's database work shares: its writes (a heartbeat, a sweep) waiting for SQLite's lock
# behind the log writer would hold up every station's answer (scenario 3 of the bench, p99).
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-housekeeping")


async def _in_thread(function, /, *args, **kwargs):
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(
        _executor, functools.partial(run, *args, **kwargs)
    )


class Housekeeping:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []
        self._sweep_now = asyncio.Event()

    async def start(self) -> None:
        writer.start()
        authorization_index.start()
        await _in_thread(server_processes.process_register)
        await _in_thread(server_processes.processes_reap)
        self._tasks = [
            asyncio.create_task(self._every(settings.OCPP_PROCESS_HEARTBEAT_SECONDS, self.beat)),
            asyncio.create_task(self._sweeps()),
            asyncio.create_task(
                garbage_collection.freeze_survivors_forever(
                    every=settings.GC_FREEZE_SECONDS,
                    full_collection_every=settings.GC_FULL_COLLECTION_SECONDS,
                )
            ),
        ]
        if settings.REDIS_URL:
            self._tasks.append(asyncio.create_task(self._watch_redis()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        held = await _in_thread(
            server_processes.process_forget,
            server_processes.THIS_PROCESS,
            reason=CloseReason.SERVER_STOPPED,
        )
        if held:
            logger.info("Stopped: %d stations still held were marked disconnected", held)
        await refusal_records.stop()
        await asyncio.to_thread(authorization_index.stop)
        await asyncio.to_thread(writer.stop)
        await _in_thread(connections.close_all)  # the housekeeping thread's own

    async def _every(self, seconds: float, job) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # the database away: next time
                logger.exception("%s failed", job.__name__)

    async def beat(self) -> None:
        if not await _in_thread(server_processes.process_heartbeat):
            # Taken for dead by another process: its stations here are still connected.
            held = local_stations().live_connections()
            await _in_thread(
                station_connection_reclaim,
                server_process=server_processes.THIS_PROCESS,
                connections=[(c.station_id, c.connection_id) for c in held],
            )
        await _in_thread(server_processes.processes_reap)

    async def _sweeps(self) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self._sweep_now.wait(), timeout=settings.OCPP_COMMAND_SWEEP_SECONDS
                )
            except TimeoutError:
                pass
            self._sweep_now.clear()
            try:
                await self.sweep()
            except Exception:
                logger.exception("The command sweep failed")

    async def sweep(self) -> None:
        undelivered = await _in_thread(
            commands_undelivered,
            server_process=server_processes.THIS_PROCESS,
            older_than=_DELIVERY_GRACE,
        )
        stations = local_stations()
        for command_id, station_id, connection_id in undelivered:
            connection = stations.connection_of(station_id, connection_id)
            if connection is not None:
                connection.runner.submit_command(command_id)
        await _in_thread(commands_fail_unreachable, older_than=_UNREACHABLE_AFTER)
        await _in_thread(reservations_expire)  # they stopped holding already; this says so
        await _in_thread(reservations_settle_lost, older_than=_UNREACHABLE_AFTER)

    async def _watch_redis(self) -> None:
        import redis.asyncio as redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        run_id, reachable = None, True
        stations = local_stations()
        while True:
            try:
                current = (await client.info("server"))["run_id"]
            except Exception:
                if reachable:
                    logger.warning(
                        "Redis is unreachable: stations' commands come from the database"
                    )
                reachable = False
            else:
                restarted = run_id is not None and current != run_id
                if not reachable or restarted or stations.needs_rejoin:
                    logger.warning(
                        "Redis answers again (restarted, or after an outage): rejoining groups"
                    )
                    try:
                        await stations.rejoin()
                    except Exception:
                        logger.exception("Rejoining the channel-layer groups failed; again later")
                    else:
                        run_id, reachable = current, True
                        self._sweep_now.set()
                else:
                    run_id = current
            await asyncio.sleep(_REDIS_CHECK_SECONDS)


async def application(scope, receive, send) -> None:
    """The ASGI lifespan protocol: startup, then shutdown."""
    housekeeping = Housekeeping()
    sampling: asyncio.Task | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await housekeeping.start()
            except Exception as error:
                logger.exception("Startup failed")
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
            sampling = asyncio.create_task(metrics.sample_forever())
            if settings.JOBS_IN_SERVER:  # the scheduled jobs, in threads of their own
                jobs.runner = jobs.JobRunner()
                jobs.runner.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if sampling is not None:
                sampling.cancel()
            if jobs.runner is not None:
                await asyncio.to_thread(jobs.runner.stop)
            try:
                await housekeeping.stop()
            finally:
                metrics.process_exited()
                await send({"type": "lifespan.shutdown.complete"})
            return
