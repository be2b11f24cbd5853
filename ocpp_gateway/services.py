"""Writes and reads of the gateway: which station may connect, connections, takeovers."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ocpp_gateway.commands import commands_fail_orphaned
from ocpp_gateway.models import OcppMessage
from ocpp_gateway.server_processes import THIS_PROCESS, holder_alive
from stations.models import (
    SecurityEvent,
    SecurityEventKind,
    Severity,
    Station,
    StationConnection,
)
from stations.security import security_event_record
from stations.services import meter_values_purge, purge_in_batches, station_connection_open


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


def message_log_purge(*, before: datetime) -> int:
    """Delete the message log's frames logged before ``before``, in batches."""
    return purge_in_batches(OcppMessage.objects.filter(created_at__lt=before))


def old_records_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention settings: the message log and the stations' connection history
    after ``OCPP_LOG_RETENTION_DAYS``, meter values of sessions closed
    ``METER_VALUE_RETENTION_DAYS`` ago. Sessions are kept. How many rows of each went."""
    now = now or timezone.now()
    log_before = now - timedelta(days=settings.OCPP_LOG_RETENTION_DAYS)
    return {
        "messages": message_log_purge(before=log_before),
        "connections": purge_in_batches(StationConnection.objects.filter(closed_at__lt=log_before)),
        "meter_values": meter_values_purge(
            before=now - timedelta(days=settings.METER_VALUE_RETENTION_DAYS)
        ),
    }
