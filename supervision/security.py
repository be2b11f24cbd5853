"""Who the client is, behind proxies or not, for the login lockout, API throttling and station
handshakes alike; and which pages may open the portal's live WebSocket. Settings name some of
these by path."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
from rest_framework import throttling

from supervision.websocket_denial import websocket_forbidden

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``, checked by the settings: addresses or networks (CIDR)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    # An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    return getattr(address, "ipv4_mapped", None) or address


def is_trusted_proxy(address: str | None) -> bool:
    ip = _ip(address)
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    return ip is not None and any(ip in network for network in networks)


def client_address(*, forwarded_for: str, peer: str | None) -> str | None:
    """The client's address, for HTTP requests and station handshakes alike. X-Forwarded-For
    is read only when the socket's peer is a trusted proxy (``DJANGO_TRUSTED_PROXIES``): from
    its right end, each trusted proxy names who connected to it, and the first address that is
    not one of them is the client. Whatever lies to its left is the client's own word; a
    header from anyone else is ignored."""
    address = peer
    if not is_trusted_proxy(peer):
        return address
    for entry in reversed(forwarded_for.split(",")):
        if _ip(entry) is None:
            break  # not an address: the last hop we trust is all we know
        address = entry.strip()
        if not is_trusted_proxy(address):
            break
    return address


def client_ip(request) -> str | None:
    """The client's address of an HTTP request (django-axes names it by path)."""
    return client_address(
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        peer=request.META.get("REMOTE_ADDR"),
    )


# --- API throttling: per client address as above, never DRF's reading of X-Forwarded-For ----


class ClientAddressThrottle(throttling.SimpleRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class AnonRateThrottle(ClientAddressThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressThrottle, throttling.UserRateThrottle):
    pass


# --- The portal's live WebSocket: pages of the portal's own origin only ---------------------


def _header(scope: dict, name: bytes) -> str:
    return next(
        (value.decode("latin-1") for key, value in scope.get("headers", []) if key == name), ""
    )


def own_origin(scope: dict) -> str | None:
    """``scheme://host[:port]`` of the page that may open this WebSocket: the Host the browser
    asked for (one of ``ALLOWED_HOSTS``, or none), and HTTPS when the connection is TLS or a
    trusted proxy says it was (X-Forwarded-Proto)."""
    host = _header(scope, b"host").strip().lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") in ("wss", "https")
    client = scope.get("client")
    if is_trusted_proxy(client[0] if client else None):
        proto = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        secure = proto == "https" if proto else secure
    scheme = "https" if secure else "http"
    default_port = "443" if secure else "80"
    return f"{scheme}://{host.removesuffix(':' + default_port)}"


def _trusted_origin(origin: str) -> bool:
    """One of ``CSRF_TRUSTED_ORIGINS``, as Django's CSRF check reads them (``*.`` for
    subdomains)."""
    parsed = urlsplit(origin)
    for trusted in map(str.lower, settings.CSRF_TRUSTED_ORIGINS):
        if origin == trusted:
            return True
        if "*" in trusted:
            wanted = urlsplit(trusted)
            if parsed.scheme == wanted.scheme and is_same_domain(
                parsed.netloc, wanted.netloc.replace("*", "", 1)
            ):
                return True
    return False


class SameOriginValidator:
    """Lets the WebSocket open only from a page of the portal's own origin (scheme, host and
    port, as the browser sends them in Origin) or of ``CSRF_TRUSTED_ORIGINS``. Channels'
    AllowedHostsOriginValidator compares host names only: a page of http://host:other-port
    (another service on the same name) or plain HTTP would pass."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin").strip().lower()
        if origin and (origin == own_origin(scope) or _trusted_origin(origin)):
            return await self.application(scope, receive, send)
        return await websocket_forbidden(scope, receive, send)
