"""ASGI entry point: HTTP for the portal, admin and API; WebSocket for the stations."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supervision.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from ocpp_gateway.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Stations authenticate as stations, not as browser users: no session middleware.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
