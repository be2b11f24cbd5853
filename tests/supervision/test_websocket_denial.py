"""A WebSocket path that is neither a station's nor the portal's is refused before the
upgrade (404 under uvicorn: tests/e2e/test_protocol_edges.py), not an error of the router."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from supervision.asgi import application
from supervision.websocket_denial import websocket_not_found


@pytest.mark.parametrize("path", ["/nothing", "/ocpp/", "/ocpp/a/b", "/ws/portal/x"])
async def test_a_path_no_route_serves_is_refused_not_an_error(path):
    communicator = WebsocketCommunicator(application, path, subprotocols=["ocpp1.6"])
    accepted, _ = await communicator.connect()
    assert accepted is False


async def test_with_the_denial_extension_the_answer_is_a_404_then_the_connection_is_let_go():
    sent = []
    # uvicorn: the connection's end is told twice, once the denial is sent, once it is gone.
    messages = iter(
        [
            {"type": "websocket.connect"},
            {"type": "websocket.disconnect", "code": 1006},
            {"type": "websocket.disconnect", "code": 1006},
        ]
    )
    received = []

    async def receive():
        received.append(next(messages))
        return received[-1]

    async def send(message):
        sent.append(message)

    scope = {"type": "websocket", "path": "/x", "extensions": {"websocket.http.response": {}}}
    await websocket_not_found(scope, receive, send)

    assert sent == [
        {
            "type": "websocket.http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "websocket.http.response.body", "body": b"not found"},
    ]
    assert len(received) == 3  # returned once the connection was gone


async def test_a_server_that_tells_the_end_once_is_not_waited_on_past_a_second():
    messages = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect"}])

    async def receive():
        try:
            return next(messages)
        except StopIteration:
            await asyncio.sleep(3600)

    async def send(message):
        pass

    scope = {"type": "websocket", "path": "/x", "extensions": {"websocket.http.response": {}}}
    await asyncio.wait_for(websocket_not_found(scope, receive, send), 3)
