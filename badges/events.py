"""What the badges layer announces to the layers above (stations, the OCPP gateway).

The domain apps never import the layers above them; those connect to these in their
``ready()``. Sent by ``badges.access`` after commit, only for changes that may alter what a
station should accept: editing a badge's description announces nothing.
"""

from django.dispatch import Signal

# Tags stations may have accepted stopped being usable, or the local lists may need a change.
# Keyword arguments: ``revoked``, a list of ``(id_tag, reason)`` whose acceptances stations may
# have cached (possibly empty: only local lists then); ``station_ids``, the stations concerned
# (None: any that accepted them); ``revoked_at``, when it happened.
station_access_revoked = Signal()

# Decisions about some badges may have changed (``badge_ids``, a set; None in it: any badge;
# ``tags_unchanged``: no badge got a new tag): this process's authorization index reads them
# again (``stations.authorization_index``).
authorization_changed = Signal()
