"""The channel layer of a single process (the embedded default, without Redis)."""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer


class SweptInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-process layer, with its expiry sweep run at most once a second.

    Channels sweeps every channel and every group for expired entries on each ``receive`` and
    ``group_send``: with a group per connected station that is O(stations) per message, and a
    boot storm of 5,000 stations (a receive per consumer, live events per status) spent a third
    of its CPU there (py-spy). Messages expire after a minute and group memberships after a day,
    so sweeping a second late changes nothing anyone could see.
    """

    SWEEP_INTERVAL_SECONDS = 1.0
    _swept_at = float("-inf")

    def __init__(self, **config) -> None:
        super().__init__(**config)
        # Channels 4.3 keeps ``channel_capacity`` as configured, where it then reads compiled
        # patterns (as channels-redis compiles them): the stations' channel has a capacity of
        # its own (settings).
        self.channel_capacity = self.compile_capacities(self.channel_capacity)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_INTERVAL_SECONDS:
            return
        self._swept_at = now
        super()._clean_expired()
