"""Vehicles refused from memory: their records (the inbox, sightings, security events) written
in batches, off the answer's path.

An Authorize decided by the process's authorization index is answered at once; what a refused
vehicle leaves behind is queued here and written by ``stations.enrolment.
vehicle_refusals_record`` every ``FLUSH_SECONDS`` or ``BATCH`` refusals, in a worker thread of
its own (not the stations' database thread, which it would hold for a whole batch). The
lifespan writes what is left at a graceful stop.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from stations.enrolment import VehicleRefusal, vehicle_refusals_record

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
BATCH = 500


class RefusalRecords:
    def __init__(self) -> None:
        self._queued: list[VehicleRefusal] = []
        self._task: asyncio.Task | None = None
        self._record = database_sync_to_async(vehicle_refusals_record, thread_sensitive=False)

    def put(self, refusal: VehicleRefusal) -> None:
        self._queued.append(refusal)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_soon())

    async def flush(self) -> None:
        """Write every refusal queued so far."""
        while self._queued:
            batch, self._queued = self._queued[:BATCH], self._queued[BATCH:]
            try:
                await self._record(batch)
            except Exception:
                # A database away: the refusal is still in the message log, with its reason.
                logger.exception("%d refused vehicles not recorded", len(batch))

    async def stop(self) -> None:
        """Write what is queued (the lifespan, at a graceful stop)."""
        if self._task is not None:
            await self._task
        await self.flush()

    async def _write_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()


records = RefusalRecords()
