"""The last WebSocket route: any path that is neither a station's nor the portal's.

Channels' URLRouter raises when no route matches, which the server reports as an error (HTTP
500 and a traceback in its log) for what is only a wrong URL: a stray path, ``/ocpp/`` without
an id, or an id with an encoded ``/`` (the path arrives decoded, so it has one segment too
many). This answers 404 before the upgrade instead, with the ASGI WebSocket denial response
where the server supports it (uvicorn does), as the station consumer refuses a handshake.
"""

from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable


async def websocket_not_found(
    scope: dict[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":  # the client went away first
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close"})  # a 403 from servers without the extension
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": b"not found"})
