"""What ``ocpp_gateway.upstream`` (and ``supervision.live.calling_event_loop``) rely on in
Channels, asgiref and the ``ocpp`` library, checked on the installed versions. Each test fails
when the private name or the behaviour an override relies on changes: after a library upgrade,
the failing test names the override to revisit."""

import asyncio
import inspect
import json
import logging
import re
import socket
import threading

import ocpp.messages
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.consumer import AsyncConsumer, get_handler_name
from channels.layers import InMemoryChannelLayer
from ocpp.charge_point import ChargePoint as LibraryChargePoint
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.exceptions import SecurityError
from ocpp.messages import Call, MessageType
from ocpp.routing import after, on
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


def test_the_lean_init_assigns_what_the_librarys_does_but_what_the_properties_make():
    library = set(re.findall(r"self\.(\w+) = ", inspect.getsource(LibraryChargePoint.__init__)))
    lean = set(re.findall(r"self\.(\w+) = ", inspect.getsource(upstream.LeanChargePoint.__init__)))
    made_by_properties = {"route_map", "_response_queue", "logger"}

    assert library == lean | made_by_properties
    assert made_by_properties <= {
        name
        for name, value in vars(upstream.LeanChargePoint).items()
        if isinstance(value, property)
    }
    assert list(inspect.signature(LibraryChargePoint.__init__).parameters)[:4] == [
        "self",
        "id",
        "connection",
        "response_timeout",
    ]


def test_the_properties_replace_what_the_library_builds_per_connection():
    charge_point = station()

    assert charge_point.route_map is upstream.routes_of(Station)
    assert charge_point._answers is None  # no queue until an answer is awaited
    assert isinstance(charge_point._response_queue, asyncio.Queue)
    assert charge_point.logger is charge_point.log
    assert charge_point.logged_connection is charge_point._connection


class Handlers:
    """Handlers that exercise every step of the library's ``_handle_call``: nested keys both
    ways, ``call_unique_id``, Nones left out, an ``@after``, errors ours and not ours."""

    def protocol_error_logger(self):
        return logging.getLogger("tests.upstream")

    @on("StartTransaction")
    def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, **_):
        self.seen.append(("start", connector_id, id_tag, meter_start))
        return call_result.StartTransaction(
            transaction_id=7, id_tag_info={"status": "Accepted", "parent_id_tag": None}
        )

    @after("StartTransaction")
    def after_start_transaction(self, connector_id, call_unique_id, **_):
        self.seen.append(("after", connector_id, call_unique_id))

    @on("MeterValues")
    async def on_meter_values(self, connector_id, meter_value, call_unique_id, **_):
        self.seen.append(("meter", call_unique_id, meter_value))
        return call_result.MeterValues()

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id, **_):
        if vendor_id == "ours":
            raise SecurityError(details={"cause": "refused by the handler"})
        raise ValueError("a bug")


class LibraryOnly(Handlers, ChargePoint16):
    pass


class Lean(Handlers, upstream.LeanChargePoint, ChargePoint16):
    pass


CALLS = [
    [
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "VID:AABBCCDDEEFF",
            "meterStart": 5,
            "timestamp": "2026-12-07T07:00:00Z",
        },
    ],
    [
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": 7,
            "meterValue": [
                {
                    "timestamp": "2026-12-07T07:00:30Z",
                    "sampledValue": [
                        {
                            "value": "12.5",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "kWh",
                        }
                    ],
                }
            ],
        },
    ],
    ["DataTransfer", {"vendorId": "ours", "messageId": "x"}],
    ["DataTransfer", {"vendorId": "theirs"}],
]


def test_the_lean_handle_call_answers_and_calls_handlers_as_the_librarys_does():
    # Whatever a library upgrade changes in its _handle_call shows as a difference here.
    def run(charge_point_class):
        charge_point = charge_point_class("CP-1", FakeConnection(), response_timeout=1)
        charge_point.seen = []
        for number, (action, payload) in enumerate(CALLS):
            asyncio.run(charge_point._handle_call(Call(f"id-{number}", action, payload)))
        return charge_point._connection.sent, charge_point.seen

    library, lean = run(LibraryOnly), run(Lean)

    assert lean == library
    sent, seen = lean
    assert json.loads(sent[0]) == [
        3,
        "id-0",
        {"transactionId": 7, "idTagInfo": {"status": "Accepted"}},
    ]
    assert ("after", 1, "id-0") in seen
    assert seen[2][2] == [
        {
            "timestamp": "2026-12-07T07:00:30Z",
            "sampled_value": [
                {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}
            ],
        }
    ]
    assert [json.loads(frame)[2] for frame in sent[2:]] == ["SecurityError", "InternalError"]


def test_routes_refuse_an_after_without_on_or_a_coroutine_after():
    class AfterAlone(upstream.LeanChargePoint, ChargePoint16):
        @after("Heartbeat")
        def after_heartbeat(self, **_):
            pass

    class AfterCoroutine(Lean):
        @after("MeterValues")
        async def after_meter_values(self, **_):
            pass

    for charge_point_class in (AfterAlone, AfterCoroutine):
        with pytest.raises(TypeError):
            upstream.routes_of(charge_point_class)


def test_keys_convert_as_the_librarys_functions_convert_them():
    for key in (
        "connectorId",
        "idTagInfo",
        "ocppCSMSURL",
        "evseId",
        "socLimitReached",
        "V2XChargingParameters",
    ):
        assert upstream.snake_case_key(key) == next(iter(camel_to_snake_case({key: None})))
    for key in ("id_tag_info", "soc_limit_reached", "ocpp_csms_url", "transaction_id"):
        assert upstream.camel_case_key(key) == next(iter(snake_to_camel_case({key: None})))


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
        kept["request_headers"] = list(protocol.request.headers.raw_items())
        # What keeps the request alive for the connection's life: the parser's local variable.
        kept["parsing"] = protocol.conn.parser.gi_frame.f_locals["request"]
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
    assert kept["request_headers"] and response.status_code == 101 and headers
    assert kept["parsing"] is request and not request.headers and not response.headers
    request, response, headers, uvicorns_scope = kept["after"]
    assert request is None and response is None
    assert headers == [] and uvicorns_scope["headers"] is headers
