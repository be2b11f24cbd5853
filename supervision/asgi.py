"""ASGI entry point: HTTP for the portal, admin and API; WebSocket for the stations and for the
portal's live pages."""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supervision.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from ocpp_gateway.transport import lifespan  # noqa: E402
from ocpp_gateway.transport.routing import websocket_urlpatterns as station_routes  # noqa: E402
from portal.routing import websocket_urlpatterns as portal_routes  # noqa: E402
from supervision import garbage_collection  # noqa: E402
from supervision.websocket_denial import websocket_not_found  # noqa: E402

garbage_collection.tune()


class WithoutConnectionLines(logging.Filter):
    """Drops the server's INFO lines for every WebSocket opened and closed. Each is a write
    that lets go of the GIL: 15% of the event loop's time in a boot storm (py-spy), for lines
    that say what the portal records anyway (a station's connection state, its message log).
    Refusals and errors stay."""

    LINES = {'%s - "WebSocket %s" [accepted]', "connection open", "connection closed"}

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in self.LINES


logging.getLogger("uvicorn.error").addFilter(WithoutConnectionLines())

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Stations authenticate as stations, not as browser users: only the portal's route
        # has session middleware. Any other path: 404 (not the router's error, a 500).
        "websocket": URLRouter(
            [*station_routes, *portal_routes, re_path(r"^", websocket_not_found)]
        ),
        # Served with --lifespan on: the process's housekeeping starts and stops with it.
        "lifespan": lifespan.application,
    }
)
