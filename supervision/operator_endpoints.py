"""The operator's endpoints: ``/health/live``, ``/health/ready`` and ``/metrics``.

Answered by the first middleware, before the host check, the HTTPS redirect, sessions and
locale: a load balancer probes each process by its address over plain HTTP, and Prometheus
scrapes it likewise; neither sends the site's host name, a cookie or a language.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

from supervision import health


async def _live(request) -> HttpResponse:
    return JsonResponse({"status": "ok"})


async def _ready(request) -> HttpResponse:
    ready, checks = await health.readiness()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


ENDPOINTS = {"/health/live": _live, "/health/ready": _ready}


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
