"""ASGI entry point: HTTP for the portal, admin and API; WebSocket for the stations and for the
portal's live pages."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supervision.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from ocpp_gateway.routing import websocket_urlpatterns as station_routes  # noqa: E402
from portal.routing import websocket_urlpatterns as portal_routes  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Stations authenticate as stations, not as browser users: only the portal's route
        # has session middleware.
        "websocket": URLRouter([*station_routes, *portal_routes]),
    }
)
