"""Writes and reads of the gateway: which station may connect, connections, takeovers."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ocpp_gateway.commands import commands_fail_orphaned
from ocpp_gateway.server_processes import THIS_PROCESS, holder_alive
from stations.models import SecurityEvent, SecurityEventKind, Severity, Station
from stations.security import security_event_record
from stations.services import station_connection_open


def station_for_connection(*, charge_point_id: str) -> Station | None:
    """The registered station with this identity; unknown identities are refused."""
    return Station.objects.filter(charge_point_id=charge_point_id).first()


def station_record_connection(
    *,
    station: Station,
    protocol: str,
    connection_id: str,
    remote_address: str | None,
    connected_at: datetime,
) -> bool:
    """A connection accepted (in ``protocol``, an OcppVersion): it is the station's live one,
    held by this process, and its unfinished commands from before it are failed. True when it
    took over a connection that is still open in a live process (that one must be closed);
    a connection left behind by a process that died is replaced without a takeover. One trip
    to the database thread: a boot storm makes thousands of these at once."""
    previous = station_connection_open(
        station=station,
        connection_id=connection_id,
        server_process=THIS_PROCESS,
        protocol=protocol,
        remote_address=remote_address,
        opened_at=connected_at,
    )
    commands_fail_orphaned(
        station=station,
        before=connected_at,
        detail="The station reconnected before answering: the command was lost with the "
        "previous connection.",
    )
    takeover = previous.connected and holder_alive(previous.server_process)
    if takeover:
        station_record_takeover(station=station)
    return takeover


def station_record_takeover(*, station: Station) -> None:
    """A new connection replaced a live one: normal after a network blip, suspicious when it
    keeps happening (two devices claiming one identity)."""
    since = timezone.now() - timedelta(hours=1)
    recent = SecurityEvent.objects.filter(
        kind=SecurityEventKind.STATION_TAKEOVER, station=station, created_at__gte=since
    ).count()
    repeated = recent + 1 > settings.OCPP_TAKEOVERS_PER_HOUR
    security_event_record(
        kind=SecurityEventKind.STATION_TAKEOVER,
        severity=Severity.CRITICAL if repeated else Severity.INFO,
        station=station,
        details={"takeovers_in_the_last_hour": recent + 1},
    )
