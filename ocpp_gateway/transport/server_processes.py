"""Which server processes are alive, so that a station's connection state is always true.

Each process that serves stations registers a row at startup (the ASGI lifespan) and keeps its
``seen_at`` fresh every ``OCPP_PROCESS_HEARTBEAT_SECONDS``. A station's row names the process
holding its connection (``Station.server_process``). A process that stops cleanly marks its
stations disconnected and deletes its row; one that crashed is found by the others: its row goes
stale (``OCPP_PROCESS_DEAD_AFTER_SECONDS``), or, on the same host, its pid is gone. Its stations
are then marked disconnected and their unfinished commands failed, within seconds rather than
at each station's next connection (which looked like a takeover, and flooded the security
events after every restart).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from ocpp_gateway.models import Command, CommandState, ServerProcess
from stations.models import CloseReason
from stations.services import stations_release

logger = logging.getLogger(__name__)

# This process, as stations' rows name it.
THIS_PROCESS = uuid.uuid4().hex
HOST = socket.gethostname()


def _dead_after() -> timedelta:
    return timedelta(seconds=settings.OCPP_PROCESS_DEAD_AFTER_SECONDS)


def holder_alive(server_process: str) -> bool:
    """Whether the process a station's row names may still hold its connection: this one, one
    whose heartbeat is fresh, and one not recorded at all (none named, or a process served
    without the lifespan): only a process known dead is dead. A dead one's stations are
    released in the same transaction that forgets it, so none names a forgotten process."""
    if not server_process or server_process == THIS_PROCESS:
        return True
    process = (
        ServerProcess.objects.filter(pk=server_process).values("host", "pid", "seen_at").first()
    )
    if process is None:
        return True
    fresh = process["seen_at"] >= timezone.now() - _dead_after()
    return fresh and (process["host"] != HOST or _pid_alive(process["pid"]))


def process_register() -> None:
    now = timezone.now()
    ServerProcess.objects.update_or_create(
        pk=THIS_PROCESS,
        defaults={"host": HOST, "pid": os.getpid(), "started_at": now, "seen_at": now},
    )


def process_heartbeat() -> bool:
    """Keep this process's row fresh; False if another process had taken it for dead (its
    stations were then marked disconnected: the caller says they are not)."""
    if ServerProcess.objects.filter(pk=THIS_PROCESS).update(seen_at=timezone.now()):
        return True
    logger.warning("This process was taken for dead (no heartbeat for a while): registering again")
    process_register()
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def processes_reap() -> list[str]:
    """Find the processes that died without stopping cleanly; mark their stations disconnected,
    fail the commands they had taken, and forget them. Returns their ids."""
    stale_before = timezone.now() - _dead_after()
    dead = []
    for process in ServerProcess.objects.exclude(pk=THIS_PROCESS):
        if process.seen_at < stale_before or (process.host == HOST and not _pid_alive(process.pid)):
            dead.append(process.pk)
    for process_id in dead:
        process_forget(process_id, reason=CloseReason.SERVER_DIED)
        logger.warning(
            "Server process %s is gone: its stations are marked disconnected", process_id
        )
    return dead


@transaction.atomic
def process_forget(process_id: str, *, reason: CloseReason) -> int:
    """The process no longer holds any connection: its stations are disconnected and the
    commands it had sent are failed (their answers would have come to it). Returns how many
    stations it held."""
    released = stations_release(server_process=process_id, reason=reason)
    if released:
        Command.objects.filter(state=CommandState.SENT, station__in=released).update(
            state=CommandState.FAILED,
            detail=gettext_noop(
                "The server process holding the station's connection stopped before the "
                "station answered."
            ),
            completed_at=timezone.now(),
        )
    ServerProcess.objects.filter(pk=process_id).delete()
    return len(released)
