"""What fleet's services announce to the layers above them.

``fleet`` imports no other app, yet its changes matter above it: a vehicle deactivated or a
group that stops including a station changes who may charge where (``badges.access`` turns that
into forgotten cached decisions and cleared station caches). So the services in
``fleet.services`` announce those changes, explicitly and only those; nothing here is driven by
model signals. Receivers are connected in their app's ``ready()``.
"""

from django.dispatch import Signal

# Who may charge where may have changed (a company, vehicle or group written or deleted).
# Sent inside the service's transaction, after the write; ``deactivated_vehicle`` is the vehicle
# that stopped being active, if any. Receivers act after commit.
access_changed = Signal()

# Some of ``group_ids``' stations (``station_ids``; None: all of them) are about to stop being
# reachable through those groups. Sent inside the transaction *before* the rows go, so that
# receivers can still read which badges the groups gave access to; ``why`` says it for staff.
group_access_withdrawing = Signal()
