"""What the stations layer announces to the OCPP gateway (as ``badges.events``): the domain
never imports ``ocpp_gateway``; the gateway connects to these in its ``ready()``. Sent by the
services after commit."""

from django.dispatch import Signal

# A site's grid limit or its stations changed: its shares are computed again and its stations'
# fallback profiles replaced. Keyword argument: ``site_id``.
site_changed = Signal()
