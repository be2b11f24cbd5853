"""Health checks for load balancers and orchestrators: ``/health/live`` (the process answers)
and ``/health/ready`` (it can do its work: database, channel layer, message log, a runner of the
scheduled jobs holding its lease, in this process or another).

Each check answers within ``HEALTH_CHECK_TIMEOUT_SECONDS`` whatever it waits for, and says what
failed by name only: never an error's text, which may carry a host or a user name.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection

from ocpp_gateway.transport.log_writer import writer
from supervision import jobs

# The database check's own thread: a hung check holds it, and the next ones time out behind it
# instead of each taking one more thread.
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-database")


async def _in_database_thread(function):
    """``function()`` in the checks' database thread, its connection given back after."""

    def run():
        close_old_connections()
        try:
            return function()
        finally:
            connection.close()

    return await asyncio.get_running_loop().run_in_executor(_database_thread, run)


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _database() -> dict:
    await _in_database_thread(_select_one)
    return {}


async def _channel_layer() -> dict:
    if not settings.REDIS_URL:
        return {"backend": "in-memory"}
    import redis.asyncio as redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return {"backend": "redis"}


class Unhealthy(Exception):
    pass


async def _message_log() -> dict:
    pending, waited = writer.backlog()
    details = {"pending_rows": pending, "oldest_waited_seconds": round(waited, 3)}
    if waited > settings.HEALTH_LOG_MAX_LAG_SECONDS:
        raise Unhealthy(details)
    return details


async def _jobs() -> dict:
    details = await _in_database_thread(jobs.runner_status)
    if not details.pop("alive"):
        raise Unhealthy(details)
    return details


CHECKS = {
    "database": _database,
    "channel_layer": _channel_layer,
    "message_log": _message_log,
    "jobs": _jobs,
}


async def _run(check) -> dict:
    try:
        details = await asyncio.wait_for(check(), timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    except Unhealthy as error:
        return {"ok": False, **error.args[0]}
    except TimeoutError:
        return {"ok": False, "error": "timeout"}
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, **details}


async def readiness() -> tuple[bool, dict]:
    """Whether the process is ready, and each check's result."""
    results = await asyncio.gather(*(_run(check) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results, strict=True))
    return all(result["ok"] for result in checks.values()), checks
