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
import inspect
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ocpp.messages
from asgiref.sync import SyncToAsync
from channels.consumer import get_handler_name
from channels.layers import InMemoryChannelLayer
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
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


@dataclass(frozen=True, slots=True)
class Route:
    """What the library's ``_handle_call`` works out for an action at every call, worked out
    once per class: its handlers (functions), and whether each takes ``call_unique_id``."""

    on: Callable[..., Any]
    on_takes_unique_id: bool
    after: Callable[..., Any] | None
    after_takes_unique_id: bool


def _takes_unique_id(handler: Callable[..., Any]) -> bool:
    # The library's test, made with the function rather than the bound method: ``self`` apart,
    # their parameters are the same.
    return "call_unique_id" in inspect.signature(handler).parameters


@functools.cache
def routes_of(charge_point_class: type) -> dict[str, Route]:
    """The class's routes by action. Refused at once, as programming errors: an ``@after``
    without an ``@on`` (the library would answer NotImplemented at every call), and an
    ``@after`` coroutine (the library would make it a task nobody keeps: the gateway's go to
    the connection's runner, ``run_later``, kept and cancelled with the connection)."""
    routes = {}
    for action, handlers in create_route_map(charge_point_class).items():
        after = handlers.get("_after_action")
        if "_on_action" not in handlers or inspect.iscoroutinefunction(inspect.unwrap(after)):
            raise TypeError(
                f"{charge_point_class.__name__}: @after({action!r}) without @on, or a coroutine"
            )
        routes[action] = Route(
            on=handlers["_on_action"],
            on_takes_unique_id=_takes_unique_id(handlers["_on_action"]),
            after=after,
            after_takes_unique_id=after is not None and _takes_unique_id(after),
        )
    return routes


@functools.lru_cache(maxsize=4096)  # keys a schema allows (2.0.1's customData allows any)
def snake_case_key(key: str) -> str:
    """``connectorId`` → ``connector_id``, as the library converts a key."""
    return next(iter(camel_to_snake_case({key: None})))


@functools.lru_cache(maxsize=1024)  # the fields of the library's answers
def camel_case_key(key: str) -> str:
    """``id_tag_info`` → ``idTagInfo``, as the library converts a key."""
    return next(iter(snake_to_camel_case({key: None})))


def _converted(data: Any, key_of: Callable[[str], str]) -> Any:
    # The library's camel_to_snake_case and snake_to_camel_case: every key of every dict inside,
    # its regular expressions run once per key instead of at every call.
    if isinstance(data, dict):
        return {key_of(key): _converted(value, key_of) for key, value in data.items()}
    if isinstance(data, list):
        return [_converted(value, key_of) for value in data]
    return data


class LeanChargePoint:
    """Mixed in before the library's ``ChargePoint`` (of either version): what the library's
    ``__init__`` makes for every connection, made once per class or when first needed, and its
    ``_handle_call`` preceded by the gateway's own checks, with what it works out at every call
    worked out once."""

    def __init__(self, id: str, connection, response_timeout: float = 30) -> None:
        # The library's __init__ (test_upstream checks what it assigns) without what the
        # properties below make once per class or when first needed: it built a route map
        # (its ``create_route_map`` looks up every handler name of every version: 4 % of a
        # boot storm's event loop, py-spy), a response queue and a logger per connection.
        self.id = id
        self._response_timeout = response_timeout
        self._connection = connection
        self._call_lock = asyncio.Lock()
        self._unique_id_generator = uuid.uuid4

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
    def route_map(self) -> dict[str, Route]:
        # The library builds one per connection (1.6 KiB each, tracemalloc); one per class here.
        return routes_of(type(self))

    @property
    def logger(self):
        # The library logs every CALLERROR it answers with a traceback; made when the library
        # logs, rarely: not kept per connection.
        return self.protocol_error_logger()

    @property
    def _response_queue(self) -> asyncio.Queue:
        # The answers to our own calls: most stations get none for hours, and an empty queue
        # is four deques (3 KiB, tracemalloc).
        if self._answers is None:
            self._answers = asyncio.Queue()
        return self._answers

    _answers: asyncio.Queue | None = None

    async def _handle_call(self, msg: Call) -> None:
        """The library's private entry for a station's call: our checks first, with the
        version's error codes, then the library's ``_handle_call`` step for step (the payload's
        keys in snake_case, the ``@on`` handler, its answer in camelCase without its Nones, sent,
        then the ``@after`` handler), with its per-call ``inspect.signature`` and regular
        expressions worked out once (``routes_of``, the key caches): a tenth of an Authorize's
        time (py-spy). Without the library's schema validation of the request and the answer: the
        gateway validates every request against the library's own schemas before (to answer with
        the version's error codes), and the e2e tests' stations validate our answers.
        ``test_upstream`` checks, frame for frame, that both answer alike."""
        self.refuse_before_routing(msg)
        route = routes_of(type(self))[msg.action]
        payload = _converted(msg.payload, snake_case_key)
        unique_id = {"call_unique_id": msg.unique_id}
        try:
            response = route.on(self, **payload, **(unique_id if route.on_takes_unique_id else {}))
            if inspect.isawaitable(response):
                response = await response
        except Exception as error:
            self.logger.exception("Error while handling request '%s'", msg)
            await self._send(msg.create_call_error(error).to_json())
            return
        answer = _converted(remove_nones(serialize_as_dict(response)), camel_case_key)
        await self._send(msg.create_call_result(answer).to_json())
        if route.after is not None:
            route.after(self, **payload, **(unique_id if route.after_takes_unique_id else {}))

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
    ``send`` being the protocol's bound method). 9 KiB of each station's 29 (tracemalloc)."""
    headers = scope.get("headers")
    if isinstance(headers, list):
        headers.clear()  # in place: uvicorn's scope and the routers' copies share the list
    protocol = getattr(send, "__self__", None)
    if isinstance(protocol, WebSocketsSansIOProtocol) and protocol.handshake_complete:
        # Emptied too: the websockets library's parser (a generator, for the connection's
        # life) keeps the request in a local variable. 3 KiB a station (tracemalloc).
        for message in (protocol.request, protocol.response):
            if message is not None:
                message.headers.clear()
        protocol.request = protocol.response = None
