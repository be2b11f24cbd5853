from channels.auth import AuthMiddlewareStack
from django.urls import re_path

from portal.consumers import PortalConsumer
from supervision.security import SameOriginValidator

websocket_urlpatterns = [
    # Signed in by the session cookie, so only pages of the portal's own origin (scheme, host
    # and port) may open it: another site's page would otherwise read the live events with the
    # visitor's cookie.
    re_path(
        r"^ws/portal/$",
        SameOriginValidator(AuthMiddlewareStack(PortalConsumer.as_asgi())),
    ),
]
