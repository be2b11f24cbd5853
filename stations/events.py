"""What the stations layer announces to the layers above it.

The domain never imports ``ocpp_gateway``, nor what tells people and other software about
charging (webhooks, alerts): those connect to these signals in their ``ready()``.
"""

from django.dispatch import Signal

# A site's grid limit or its stations changed: its shares are computed again and its stations'
# fallback profiles replaced. Keyword argument: ``site_id``.
site_changed = Signal()


# Facts the stations recorded, for what tells people and other software about them (webhooks,
# alerts). Sent by the recording service inside its transaction (right after the write where
# there is none), so that a receiver that queues work for later (a delivery, an e-mail) queues
# it with the fact or not at all. They are on the stations' hot path: a receiver returns at once
# when nobody listens to the company concerned.
#
# ``session``: a ChargingSession, as just written.
session_started = Signal()
session_stopped = Signal()
# ``sighting``: the VehicleSighting just recorded (its station, tag, reason, and its
# ``unknown_vehicle`` inbox entry when the vehicle was unknown).
vehicle_refused = Signal()
# ``station``: a Station.
station_connected = Signal()
station_disconnected = Signal()
# ``station``, ``connector_id``, ``status`` and ``error_code`` as the station reported them.
connector_status_changed = Signal()
# ``event``: the SecurityEvent just recorded (its ``station`` may be None: superusers' only).
security_event_recorded = Signal()
