"""What staff ask of a connected station that takes several steps: enable Autocharge, sync the
local list. Synchronous services, like ``commands``: they check what can be checked here, record
it, and have the station's connection run the rest (``procedures``) after the transaction
commits.
"""

from __future__ import annotations

from ocpp_gateway.operations.commands import StationNotConnected, notify_station
from stations import selectors
from stations import services as station_services
from stations.models import AutochargeReadiness, ConnectionState, Station
from supervision import stored_text


def _connected(station: Station) -> bool:
    station.refresh_from_db(
        fields=["connection_state", "vendor", "model", "firmware_version", "ocpp_version"]
    )
    return station.connection_state == ConnectionState.CONNECTED


def autocharge_enable(*, station: Station, requested_by=None) -> AutochargeReadiness:
    """Start "Enable Autocharge" on the station; the readiness it records right away:
    ``no_profile``, ``checking`` (the station's connection goes on), or ``offline`` (raises
    StationNotConnected after recording it)."""
    connected = _connected(station)
    profile = selectors.autocharge_profile_for(station=station)
    if profile is None:
        detail = (
            f"No profile for vendor {station.vendor!r}, model {station.model!r}, "
            f"firmware {station.firmware_version!r}."
            if station.vendor
            else "The station has not sent a BootNotification yet: its vendor is unknown."
        )
        station_services.station_set_autocharge_readiness(
            station=station, readiness=AutochargeReadiness.NO_PROFILE, detail=detail
        )
        return AutochargeReadiness.NO_PROFILE
    if not connected:
        station_services.station_set_autocharge_readiness(
            station=station,
            readiness=AutochargeReadiness.OFFLINE,
            detail=stored_text.NOT_CONNECTED % {"station": station.charge_point_id},
        )
        raise StationNotConnected(station)
    station_services.station_set_autocharge_readiness(
        station=station,
        readiness=AutochargeReadiness.CHECKING,
        detail=stored_text.WAITING_FOR_CONNECTION % {"profile": profile},
    )
    notify_station(
        station.pk,
        {"type": "station.autocharge", "requested_by": getattr(requested_by, "pk", None)},
    )
    return AutochargeReadiness.CHECKING


def local_list_sync(*, station: Station, requested_by=None, full: bool = True) -> None:
    """Have the station's connection send its local list (whole, or the changes)."""
    if not _connected(station):
        station_services.station_note_local_list(
            station=station,
            detail=stored_text.NOT_CONNECTED % {"station": station.charge_point_id},
        )
        raise StationNotConnected(station)
    notify_station(
        station.pk,
        {
            "type": "station.local_list",
            "full": full,
            "requested_by": getattr(requested_by, "pk", None),
        },
    )
