"""Live events for the portal: small facts, sent through the channel layer once committed, to
the browsers showing the company concerned (and to superusers').

The services that record the facts publish them; ``portal.consumers`` subscribes browsers to
the groups named here. An event carries what its line in the activity feed says; the page then
reads its figures again from the server, scoped to whoever looks, so an event never has to be
complete and never shows another company more than the tenancy rules do.
"""

from __future__ import annotations

import asyncio
import logging
import os

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ALL_COMPANIES_GROUP = "portal.all"

# The sends scheduled on the event loop and not finished yet (the loop keeps only weak
# references to its tasks).
_sending: set[asyncio.Task] = set()


def company_group(company_id: int) -> str:
    return f"portal.company.{company_id}"


def publish(kind: str, *, company_id: int | None, **data: str | int | None) -> None:
    """Tell the browsers of ``company_id`` and superusers that ``kind`` happened, after the
    current transaction commits (at once outside one)."""
    groups = [ALL_COMPANIES_GROUP]
    if company_id is not None:
        groups.append(company_group(company_id))
    message = {"type": "portal.event", "event": {"kind": kind, **data}}
    # robust: a channel layer that is down must not fail what the station told us.
    transaction.on_commit(lambda: _send(groups, message), robust=True)


def _send(groups: list[str], message: dict) -> None:
    loop = calling_event_loop()
    if loop is None:  # a plain thread (a management command): wait for the sends
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
        return
    # Called from the event loop's database thread (the gateway's services, the admin under
    # ASGI): waiting for the loop to run the send would hold that one thread for a turn of a
    # loop that may be busy with thousands of stations (a boot storm timed out that way).
    # The event is handed to the loop instead; the thread goes on with the next query.
    loop.call_soon_threadsafe(_start_sending, groups, message)


def calling_event_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop awaiting this thread through ``sync_to_async``, if any: asgiref records it
    in ``SyncToAsync.threadlocal`` (its own ``async_to_sync`` reads it the same way). A reliance
    on asgiref's internals, checked by ``tests/ocpp_gateway/test_upstream.py`` with those of
    ``ocpp_gateway.upstream``."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and not loop.is_closed() else None


def _start_sending(groups: list[str], message: dict) -> None:
    task = asyncio.get_running_loop().create_task(_send_to_groups(groups, message))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send_to_groups(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    try:
        for group in groups:
            await layer.group_send(group, message)
    except Exception:
        logger.exception("Live event %s not published", message["event"]["kind"])
