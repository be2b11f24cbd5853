"""A WebSocket path that is neither a station's nor the portal's is refused before the
upgrade (404 under uvicorn: tests/e2e/test_protocol_edges.py), not an error of the router."""

import pytest
from channels.testing import WebsocketCommunicator

from supervision.asgi import application
from supervision.websocket_not_found import websocket_not_found


@pytest.mark.parametrize("path", ["/nothing", "/ocpp/", "/ocpp/a/b", "/ws/portal/x"])
async def test_a_path_no_route_serves_is_refused_not_an_error(path):
    communicator = WebsocketCommunicator(application, path, subprotocols=["ocpp1.6"])
    accepted, _ = await communicator.connect()
    assert accepted is False


async def test_with_the_denial_extension_the_answer_is_a_404():
    sent = []
    messages = iter([{"type": "websocket.connect"}])

    async def receive():
        return next(messages)

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
