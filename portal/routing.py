from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from portal.consumers import PortalConsumer

websocket_urlpatterns = [
    # Signed in by the session cookie, so only pages of our own hosts may open it: another
    # site's page would otherwise read the live events with the visitor's cookie.
    re_path(
        r"^ws/portal/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(PortalConsumer.as_asgi())),
    ),
]
