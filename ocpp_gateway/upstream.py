"""Every reliance of the portal on private parts of Channels, asgiref, uvicorn and the ``ocpp``
library, in one place. Each was justified by a profile of the gateway (py-spy for CPU,
tracemalloc for memory); each says what it overrides, why, and what it gained. ``tests/ocpp_gateway/
test_upstream.py`` checks, on the installed versions, every name and behaviour relied on here:
a library upgrade that changes one fails there, naming the override to revisit, instead of
silently undoing a gain or breaking a station's connection.

The channel layer of a single process is here too (settings name it): its override exists for
the stations' groups. One reliance stays outside, because the layers forbid the shared base to
import the gateway: ``supervision.live.calling_event_loop`` reads asgiref's
``SyncToAsync.threadlocal``; ``test_upstream`` checks it with the others.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ocpp.messages
from asgiref.sync import SyncToAsync
from channels.consumer import get_handler_name
from channels.layers import InMemoryChannelLayer
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType
from ocpp.routing import create_route_map
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# --- The ``ocpp`` library ---------------------------------------------------------------------

# ``ocpp.messages.ASYNC_VALIDATION`` (a module global): the library validates each payload in a
# thread of the default executor, a hop per frame each way for CPU-bound work that holds the
# GIL anyway (a tenth of an Authorize's CPU, py-spy). Its documented switch validates in the
# event loop instead. Set when this module is first imported (the gateway's charge points
# import it).
ocpp.messages.ASYNC_VALIDATION = False


@functools.cache
def routes_validated_once(charge_point_class: type) -> dict[str, dict[str, Any]]:
    """The class's ``@on`` and ``@after`` handlers by action, as functions, each marked
    ``_skip_schema_validation`` (the library's private route option): the gateway validates
    every request against the library's own schemas before routing (to answer with the
    version's error codes), so the library's second pass is skipped; our answers are validated
    by the e2e tests' stations. A twelfth of a boot storm's CPU (py-spy)."""
    routes = create_route_map(charge_point_class)
    for handlers in routes.values():
        handlers["_skip_schema_validation"] = True
    return routes


class BoundRoutes(Mapping):
    """The library's route map of one charge point, bound when an action is looked up: the
    library builds one per connection otherwise (1.6 KiB each, tracemalloc)."""

    __slots__ = ("_charge_point",)

    def __init__(self, charge_point) -> None:
        self._charge_point = charge_point

    def __getitem__(self, action: str) -> dict[str, Any]:
        return {
            option: handler.__get__(self._charge_point) if callable(handler) else handler
            for option, handler in routes_validated_once(type(self._charge_point))[action].items()
        }

    def __contains__(self, action: object) -> bool:
        # Asked of every call before the library looks it up: no binding for that.
        return action in routes_validated_once(type(self._charge_point))

    def __iter__(self) -> Iterator[str]:
        return iter(routes_validated_once(type(self._charge_point)))

    def __len__(self) -> int:
        return len(routes_validated_once(type(self._charge_point)))


class LeanChargePoint:
    """Mixed in before the library's ``ChargePoint`` (of either version): what the library's
    ``__init__`` makes for every connection, made once per class or when first needed, and its
    ``_handle_call`` preceded by the gateway's own checks.

    The library's ``__init__`` assigns ``route_map``, ``logger`` and ``_response_queue``; the
    properties below ignore those assignments."""

    def refuse_before_routing(self, msg: Call) -> None:
        """Raise the OCPP error answering a call the library would mishandle (the gateway's
        checks); return to let the library route it."""

    def protocol_error_logger(self):
        """The logger the library's CALLERRORs go to."""
        raise NotImplementedError

    @property
    def logged_connection(self):
        # The connection given to the library's __init__, which keeps it as ``_connection``.
        return self._connection

    @property
    def route_map(self) -> BoundRoutes:
        return BoundRoutes(self)

    @route_map.setter
    def route_map(self, _built_by_the_library) -> None:
        pass

    @property
    def logger(self):
        # The library logs every CALLERROR it answers with a traceback; made when the library
        # logs, rarely: not kept per connection.
        return self.protocol_error_logger()

    @logger.setter
    def logger(self, _given_to_the_library) -> None:
        pass

    @property
    def _response_queue(self) -> asyncio.Queue:
        # The answers to our own calls: most stations get none for hours, and an empty queue
        # is four deques (3 KiB, tracemalloc).
        if self._answers is None:
            self._answers = asyncio.Queue()
        return self._answers

    @_response_queue.setter
    def _response_queue(self, _built_by_the_library) -> None:
        pass

    _answers: asyncio.Queue | None = None

    async def _handle_call(self, msg: Call):
        # The library's private entry for a station's call: our checks first, with the
        # version's error codes, then its routing to our handlers.
        self.refuse_before_routing(msg)
        return await super()._handle_call(msg)

    async def route_frame(self, frame: list) -> None:
        """The library's ``route_message`` for a frame already parsed (the consumer parsed it
        once, for the log and for this) and known to be an OCPP-J array of the right type and
        length (``message_log.parse_frame``), so that ``unpack``'s errors cannot arise: its
        message made as ``unpack`` makes it, then routed as ``route_message`` routes it."""
        msg = _MESSAGES[frame[0]](*frame[1:])
        if msg.message_type_id == MessageType.Call:
            try:
                await self._handle_call(msg)
            except OCPPError as error:
                self.logger.exception("Error while handling request '%s'", msg)
                await self._send(msg.create_call_error(error).to_json())
        else:
            self._response_queue.put_nowait(msg)


_MESSAGES = {cls.message_type_id: cls for cls in (Call, CallResult, CallError)}


# --- Channels ---------------------------------------------------------------------------------


class ConsumerWithoutConnectionHop:
    """Mixed in before a Channels consumer: ``dispatch`` without Channels' closing of "old"
    database connections before each message, in a thread hop of its own: 15% of an
    Authorize's CPU (py-spy). Every database call of the gateway (``database_sync_to_async``)
    already does it around itself."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class SweptInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-process layer (the embedded default, without Redis), with its expiry sweep
    (the private ``_clean_expired``) run at most once a second.

    Channels sweeps every channel and every group for expired entries on each ``receive`` and
    ``group_send``: with a group per connected station that is O(stations) per message, and a
    boot storm of 5,000 stations (a receive per consumer, live events per status) spent a third
    of its CPU there (py-spy). Messages expire after a minute and group memberships after a day,
    so sweeping a second late changes nothing anyone could see.
    """

    SWEEP_INTERVAL_SECONDS = 1.0
    _swept_at = float("-inf")

    def __init__(self, **config) -> None:
        super().__init__(**config)
        # Channels 4.3 keeps ``channel_capacity`` as configured, where it then reads compiled
        # patterns (as channels-redis compiles them): the stations' channel has a capacity of
        # its own (settings).
        self.channel_capacity = self.compile_capacities(self.channel_capacity)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_INTERVAL_SECONDS:
            return
        self._swept_at = now
        super()._clean_expired()


# --- asgiref ----------------------------------------------------------------------------------


def database_thread() -> ThreadPoolExecutor:
    """The one thread every ``sync_to_async(thread_sensitive=True)`` call of the process runs in
    outside a request (asgiref's ``SyncToAsync.single_thread_executor``): its backlog is a
    metric."""
    return SyncToAsync.single_thread_executor


def jobs_waiting(executor: ThreadPoolExecutor) -> int:
    """How many calls wait for the executor's threads (its private ``_work_queue``)."""
    return executor._work_queue.qsize()


# --- uvicorn ----------------------------------------------------------------------------------


def forget_handshake(scope: dict[str, Any], send) -> None:
    """Free what an accepted WebSocket's handshake left behind for the connection's life: its
    request headers in the scope (read by the admission only), and, on uvicorn's sans-I/O
    implementation (``--ws auto`` picks it), the handshake's request and response it keeps
    (the private ``request`` and ``response``, read only until the connection is accepted,
    ``send`` being the protocol's bound method). 6 KiB of each station's 29 (tracemalloc)."""
    headers = scope.get("headers")
    if isinstance(headers, list):
        headers.clear()  # in place: uvicorn's scope and the routers' copies share the list
    protocol = getattr(send, "__self__", None)
    if isinstance(protocol, WebSocketsSansIOProtocol) and protocol.handshake_complete:
        protocol.request = protocol.response = None
