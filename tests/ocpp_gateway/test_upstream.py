"""What ``ocpp_gateway.upstream`` (and ``supervision.live.calling_event_loop``) rely on in
Channels, asgiref and the ``ocpp`` library, checked on the installed versions. Each test fails
when the private name or the behaviour an override relies on changes: after a library upgrade,
the failing test names the override to revisit."""

import asyncio
import inspect
import json
import socket
import threading

import ocpp.messages
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.consumer import AsyncConsumer, get_handler_name
from channels.layers import InMemoryChannelLayer
from ocpp.charge_point import ChargePoint as LibraryChargePoint
from ocpp.exceptions import SecurityError
from ocpp.messages import Call, MessageType
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result

from ocpp_gateway import upstream
from supervision.live import calling_event_loop


class FakeConnection:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)


class Station(upstream.LeanChargePoint, ChargePoint16):
    refused_action = "Reset"
    checked: list[str]

    def protocol_error_logger(self):
        return self.log

    def refuse_before_routing(self, msg: Call) -> None:
        self.checked.append(msg.action)
        if msg.action == self.refused_action:
            raise SecurityError(details={"cause": "refused before routing"})

    @on("Authorize")
    def on_authorize(self, id_tag, **_):
        return call_result.Authorize(id_tag_info={"status": "Accepted"})


def station() -> Station:
    import logging

    charge_point = Station("CP-1", FakeConnection(), response_timeout=1)
    charge_point.checked = []
    charge_point.log = logging.getLogger("tests.upstream")
    return charge_point


def frame(*parts) -> str:
    return json.dumps(list(parts))


# --- ocpp ------------------------------------------------------------------------------------


def test_validation_in_the_event_loop_is_the_librarys_own_switch():
    # The switch exists, is off once the gateway is imported, and validate_payload reads it.
    assert ocpp.messages.ASYNC_VALIDATION is False
    assert "if ASYNC_VALIDATION:" in inspect.getsource(ocpp.messages.validate_payload)


def test_validation_switched_off_runs_in_the_loop_without_an_executor(monkeypatch):
    async def validate():
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "run_in_executor", pytest.fail)
        call = Call(unique_id="1", action="Heartbeat", payload={})
        await ocpp.messages.validate_payload(call, "1.6")

    asyncio.run(validate())


def test_the_librarys_init_assigns_what_the_properties_ignore():
    source = inspect.getsource(LibraryChargePoint.__init__)
    for assigned in (
        "self._connection = connection",
        "self.route_map = ",
        "self._response_queue = ",
        "self.logger = ",
    ):
        assert assigned in source, assigned


def test_the_properties_replace_what_the_library_builds_per_connection():
    charge_point = station()

    assert isinstance(charge_point.route_map, upstream.BoundRoutes)
    assert charge_point._answers is None  # no queue until an answer is awaited
    assert isinstance(charge_point._response_queue, asyncio.Queue)
    assert charge_point.logger is charge_point.log
    assert charge_point.logged_connection is charge_point._connection


def test_route_maps_keep_the_librarys_shape_and_skip_its_second_validation():
    routes = upstream.routes_validated_once(Station)

    assert set(routes["Authorize"]) == {"_on_action", "_skip_schema_validation"}
    assert routes["Authorize"]["_skip_schema_validation"] is True
    source = inspect.getsource(LibraryChargePoint._handle_call)
    assert 'handlers.get("_skip_schema_validation", False)' in source
    assert "self.route_map[msg.action]" in source


# The library's entry (the text) and ours (the frame the consumer parsed once) route alike.
ROUTES = {
    "route_message": lambda charge_point, *parts: charge_point.route_message(frame(*parts)),
    "route_frame": lambda charge_point, *parts: charge_point.route_frame(list(parts)),
}
routes = pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES)


def test_route_frame_is_route_message_after_unpack_s_parsing():
    route_message = inspect.getsource(LibraryChargePoint.route_message)
    for step in (
        "msg = unpack(raw_msg)",
        "if msg.message_type_id == MessageType.Call:",
        "await self._handle_call(msg)",
        "response = msg.create_call_error(error).to_json()",
        "await self._send(response)",
        "elif msg.message_type_id in [MessageType.CallResult, MessageType.CallError]:",
        "self._response_queue.put_nowait(msg)",
    ):
        assert step in route_message, step
    unpack = inspect.getsource(ocpp.messages.unpack)
    assert "msg = json.loads(msg)" in unpack
    assert "for cls in [Call, CallResult, CallError]:" in unpack
    assert "return cls(*msg[1:])" in unpack


@routes
def test_a_call_goes_through_our_checks_then_the_librarys_routing_without_validation(route):
    charge_point = station()
    # The library would refuse idTag over 20 characters; skipped, the handler answers.
    asyncio.run(route(charge_point, MessageType.Call, "1", "Authorize", {"idTag": "x" * 30}))

    assert charge_point.checked == ["Authorize"]
    [answer] = charge_point._connection.sent
    assert json.loads(answer) == [
        MessageType.CallResult,
        "1",
        {"idTagInfo": {"status": "Accepted"}},
    ]


@routes
def test_a_call_refused_before_routing_is_answered_with_our_error(route):
    charge_point = station()

    asyncio.run(route(charge_point, MessageType.Call, "2", "Reset", {"type": "Soft"}))

    [answer] = charge_point._connection.sent
    assert json.loads(answer)[:3] == [MessageType.CallError, "2", "SecurityError"]


@routes
def test_answers_to_our_calls_reach_the_lazy_response_queue(route):
    charge_point = station()

    async def call_and_answer():
        charge_point._unique_id_generator = lambda: "ours-1"
        request = asyncio.create_task(charge_point.call(ocpp.v16.call.ClearCache()))
        await asyncio.sleep(0)
        await route(charge_point, MessageType.CallResult, "ours-1", {"status": "Accepted"})
        return await request

    assert asyncio.run(call_and_answer()).status == "Accepted"


# --- Channels --------------------------------------------------------------------------------


def test_channels_dispatch_is_what_the_override_reproduces_minus_the_connection_hop():
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert "get_handler_name(message)" in source
    assert "aclose_old_connections" in source  # what the override leaves out
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"


def test_the_consumer_override_calls_the_handler_and_refuses_unknown_types():
    class Consumer(upstream.ConsumerWithoutConnectionHop, AsyncConsumer):
        async def station_ping(self, message):
            self.got = message

    consumer = Consumer()
    asyncio.run(consumer.dispatch({"type": "station.ping"}))
    assert consumer.got == {"type": "station.ping"}
    with pytest.raises(ValueError, match="No handler"):
        asyncio.run(consumer.dispatch({"type": "station.unknown"}))


def test_the_consumer_sends_through_base_send_which_the_gateway_sets():
    # The gateway's consumer reads the socket itself (its __call__) and sets base_send.
    assert "self.base_send" in inspect.getsource(AsyncConsumer.send)


def test_the_in_memory_layer_sweeps_through_clean_expired_on_receive_and_group_send():
    assert "self._clean_expired()" in inspect.getsource(InMemoryChannelLayer.receive)
    assert "self._clean_expired()" in inspect.getsource(InMemoryChannelLayer.group_send)


def test_the_swept_layer_sweeps_at_most_once_a_second(monkeypatch):
    layer = upstream.SweptInMemoryChannelLayer(capacity=10)
    sweeps = []
    monkeypatch.setattr(InMemoryChannelLayer, "_clean_expired", lambda self: sweeps.append(1))

    layer._clean_expired()
    layer._clean_expired()

    assert sweeps == [1]


def test_the_swept_layer_reads_capacities_by_pattern():
    layer = upstream.SweptInMemoryChannelLayer(capacity=10, channel_capacity={"stations.*": 500})

    assert layer.get_capacity("stations.p1") == 500
    assert layer.get_capacity("other") == 10


# --- asgiref ---------------------------------------------------------------------------------


def test_the_database_thread_knows_the_loop_awaiting_it():
    async def from_the_loop():
        return asyncio.get_running_loop(), await sync_to_async(calling_event_loop)()

    awaiting, seen = asyncio.run(from_the_loop())
    assert seen is awaiting
    assert calling_event_loop() is None  # a plain thread


def test_the_database_thread_is_asgirefs_single_thread_executor_and_its_backlog_counts():
    executor = upstream.database_thread()
    assert executor is SyncToAsync.single_thread_executor
    assert executor._max_workers == 1

    started, release = threading.Event(), threading.Event()

    def block():
        started.set()
        release.wait(timeout=5)

    try:
        blocking = executor.submit(block)
        assert started.wait(timeout=5)
        waiting = [executor.submit(int) for _ in range(3)]
        assert upstream.jobs_waiting(executor) == 3
    finally:
        release.set()
    blocking.result(timeout=5)
    for job in waiting:
        job.result(timeout=5)
    assert upstream.jobs_waiting(executor) == 0


# --- uvicorn ---------------------------------------------------------------------------------


async def test_forgetting_the_handshake_frees_what_uvicorn_keeps_and_the_socket_still_works():
    from uvicorn import Config, Server
    from websockets.asyncio.client import connect

    kept = {}

    async def app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        protocol = send.__self__  # the protocol's bound method, as the override expects
        kept["before"] = (protocol.request, protocol.response, list(scope["headers"]))
        upstream.forget_handshake(scope, send)
        kept["after"] = (protocol.request, protocol.response, scope["headers"], protocol.scope)
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"].upper()})
        await send({"type": "websocket.close", "code": 1009})

    config = Config(app, ws="auto", lifespan="off", log_config=None)  # logging left as it is
    server = Server(config)
    listening = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog
    port = listening.getsockname()[1]
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP-1") as station:
            await station.send("hello")
            assert await station.recv() == "HELLO"
            await station.wait_closed()
            assert station.close_code == 1009
    finally:
        server.should_exit = True
        await serving

    # What `make run` serves with (--ws auto): the implementation the override knows.
    assert config.ws_protocol_class is upstream.WebSocketsSansIOProtocol
    request, response, headers = kept["before"]
    assert request.headers["Host"] and response.status_code == 101 and headers
    request, response, headers, uvicorns_scope = kept["after"]
    assert request is None and response is None
    assert headers == [] and uvicorns_scope["headers"] is headers
