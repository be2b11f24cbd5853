"""Writes and reads of the gateway: which station may connect, connections, takeovers."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ocpp_gateway.commands import commands_fail_orphaned
from ocpp_gateway.models import OcppMessage
from stations.models import SecurityEvent, SecurityEventKind, Severity, Station
from stations.security import security_event_record
from stations.services import meter_values_purge, purge_in_batches, station_set_connected


def station_for_connection(*, charge_point_id: str) -> Station | None:
    """The registered station with this identity; unknown identities are refused."""
    return Station.objects.filter(charge_point_id=charge_point_id).first()


def station_record_connection(*, station: Station, protocol: str, connected_at: datetime) -> None:
    """A connection accepted (in ``protocol``, an OcppVersion): the station is connected, and
    its unfinished commands from before it are failed. One trip to the database thread: a boot
    storm makes thousands of these at once, each trip a turn of the event loop."""
    station_set_connected(station=station, connected=True, protocol=protocol)
    commands_fail_orphaned(
        station=station,
        before=connected_at,
        detail="The station reconnected before answering: the command was lost with the "
        "previous connection.",
    )


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
    """Apply the retention settings: the message log after ``OCPP_LOG_RETENTION_DAYS``, meter
    values of sessions closed ``METER_VALUE_RETENTION_DAYS`` ago. Sessions are kept. How many
    rows of each went."""
    now = now or timezone.now()
    return {
        "messages": message_log_purge(
            before=now - timedelta(days=settings.OCPP_LOG_RETENTION_DAYS)
        ),
        "meter_values": meter_values_purge(
            before=now - timedelta(days=settings.METER_VALUE_RETENTION_DAYS)
        ),
    }
