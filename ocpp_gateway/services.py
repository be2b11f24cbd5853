"""Writes and reads of the gateway: which station may connect, takeovers."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from stations.models import SecurityEvent, SecurityEventKind, Severity, Station
from stations.security import security_event_record


def station_for_connection(*, charge_point_id: str) -> Station | None:
    """The registered station with this identity; unknown identities are refused."""
    return Station.objects.filter(charge_point_id=charge_point_id).first()


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
