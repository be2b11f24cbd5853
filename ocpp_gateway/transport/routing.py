from django.urls import re_path

from ocpp_gateway.transport.consumer import OcppConsumer

websocket_urlpatterns = [
    # Charge point ids are free text in OCPP; anything but a slash.
    re_path(r"^ocpp/(?P<charge_point_id>[^/]+)/?$", OcppConsumer.as_asgi()),
]
