"""The operator's endpoints: ``/health/live``, ``/health/ready`` and ``/metrics``.

Answered by the first middleware, before the host check, the HTTPS redirect, sessions and
locale: a load balancer probes each process by its address over plain HTTP, and Prometheus
scrapes it likewise; neither sends the site's host name, a cookie or a language.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from prometheus_client import CONTENT_TYPE_LATEST

from ocpp_gateway.transport import metrics
from supervision import health
from supervision.security import client_ip

logger = logging.getLogger(__name__)


async def _live(request) -> HttpResponse:
    return JsonResponse({"status": "ok"})


_was_ready: bool | None = None


async def _ready(request) -> HttpResponse:
    global _was_ready
    ready, checks = await health.readiness()
    if ready != _was_ready:  # once per change, not at every probe
        failing = ", ".join(name for name, check in checks.items() if not check["ok"])
        logger.log(
            logging.INFO if ready else logging.WARNING,
            "Ready" if ready else f"Not ready: {failing}",
        )
        _was_ready = ready
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
    response._has_been_logged = True  # Django would log every 503 probe as an error
    return response


def _may_read_metrics(request) -> bool:
    """With the token (``Authorization: Bearer <METRICS_TOKEN>``), or from an allowed
    network."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and secrets.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


async def _metrics(request) -> HttpResponse:
    if not _may_read_metrics(request):
        return HttpResponse("Forbidden: METRICS_TOKEN or METRICS_ALLOWED_NETWORKS\n", status=403)
    body = await asyncio.to_thread(metrics.exposition)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


ENDPOINTS = {"/health/live": _live, "/health/ready": _ready, "/metrics": _metrics}


@sync_and_async_middleware
def operator_endpoints(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            endpoint = ENDPOINTS.get(request.path)
            if endpoint is None:
                return await get_response(request)
            return await _answer(endpoint, request)

    else:  # the test client, WSGI

        def middleware(request):
            endpoint = ENDPOINTS.get(request.path)
            if endpoint is None:
                return get_response(request)
            return async_to_sync(_answer)(endpoint, request)

    return middleware


async def _answer(endpoint, request) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    response = await endpoint(request)
    response["Cache-Control"] = "no-store"
    return response
