"""WebSocket handshakes refused before the upgrade, by a plain ASGI answer (no consumer, no
channel-layer channel for a client that is turned away).

- ``websocket_not_found``, the last WebSocket route: any path that is neither a station's nor
  the portal's. Channels' URLRouter raises when no route matches, which the server reports as
  an error (HTTP 500 and a traceback in its log) for what is only a wrong URL: a stray path,
  ``/ocpp/`` without an id, or an id with an encoded ``/`` (the path arrives decoded, so it has
  one segment too many).
- ``websocket_forbidden``: a portal page's socket opened from another origin
  (``security.SameOriginValidator``). Channels' own denier is a consumer: on Redis it takes a
  channel and a blocking read for every refused client.

Both answer with ``send_denial``, as the station consumer refuses a handshake.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable

_GONE_WITHIN_SECONDS = 1.0


async def send_denial(
    scope: dict[str, Any],
    send: ASGISendCallable,
    *,
    status: int,
    body: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Refuse the handshake with an HTTP ``status``: the ASGI WebSocket denial response where
    the server supports it (uvicorn does), a plain close elsewhere (daphne answers 403)."""
    if not _has_denial_response(scope):
        await send({"type": "websocket.close"})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), *headers],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})


def _has_denial_response(scope: dict[str, Any]) -> bool:
    return "websocket.http.response" in scope.get("extensions", {})


def websocket_denial(status: int, body: bytes):
    """An ASGI application that refuses every WebSocket handshake with ``status``."""

    async def deny(
        scope: dict[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":  # the client went away first
            return
        await send_denial(scope, send, status=status, body=body)
        if not _has_denial_response(scope):
            return
        # uvicorn's websockets-sansio logs an ERROR for a denial whose app returns before the
        # connection is gone (Kludex/uvicorn#3138): its second disconnect says it is; briefly.
        await receive()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receive(), _GONE_WITHIN_SECONDS)

    return deny


websocket_not_found = websocket_denial(404, b"not found")
websocket_forbidden = websocket_denial(403, b"forbidden: not from the portal's own origin")
