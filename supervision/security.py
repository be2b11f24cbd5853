"""Login protection pieces that settings name by path."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address, for the login lockout. Behind the TLS proxy it is the last address
    of X-Forwarded-For, the one the proxy added (those before it are the client's own word);
    otherwise the socket's peer."""
    return client_address(
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        peer=request.META.get("REMOTE_ADDR"),
    )


def client_address(*, forwarded_for: str, peer: str | None) -> str | None:
    """The client's address, for HTTP requests and station handshakes alike: behind the TLS
    proxy the last address of X-Forwarded-For, otherwise the socket's peer."""
    if settings.BEHIND_TLS_PROXY:
        last = forwarded_for.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer
