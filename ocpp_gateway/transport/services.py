"""Writes and reads of the gateway: which station may connect, connections, takeovers."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from ocpp_gateway.models import Command, OcppMessage
from ocpp_gateway.operations.commands import commands_fail_orphaned
from ocpp_gateway.operations.revocation import clear_cache_owed, latest_clear_cache_state
from ocpp_gateway.transport.handshake_guard import Report
from ocpp_gateway.transport.server_processes import THIS_PROCESS, holder_alive
from stations.models import (
    SecurityEvent,
    SecurityEventKind,
    Severity,
    Station,
    StationConnection,
)
from stations.security import security_event_record
from stations.services import meter_values_purge, purge_in_batches, station_connection_open
from supervision import compiled

# Compiled once: every handshake reads it (a boot storm thousands at once, a flood of wrong
# passwords as many), and the ORM's compiling made it some nine times as costly (1.8 ms
# against 0.2 ms on the bench's machine, the database thread's whole work in a storm); a raw
# queryset still worked out its columns' converters at every run (a tenth of a storm, py-spy).
_STATION_FOR_CONNECTION = compiled.select(
    lambda: Station.objects.filter(
        charge_point_id=compiled.Param("charge_point_id"), archived_at__isnull=True
    )
)


def station_for_connection(*, charge_point_id: str) -> Station | None:
    """The registered station with this identity; unknown identities, and archived stations,
    are refused."""
    return _STATION_FOR_CONNECTION.first(charge_point_id=charge_point_id)


# Compiled once: every connection asks (a boot storm thousands at once), in one read, whether
# its station has commands an earlier connection left unfinished (usually none: nothing to
# write) and what its ClearCaches say of its cache (``procedures.catch_up``).
_COMMANDS_AT_CONNECTION = compiled.select(
    lambda: (
        Station.objects.filter(pk=compiled.Param("station"))
        .annotate(
            orphans=Exists(
                Command.objects.unfinished().filter(
                    station=OuterRef("pk"), created_at__lt=compiled.Param("before")
                )
            ),
            latest_clear_cache=latest_clear_cache_state(),
        )
        .values_list("orphans", "latest_clear_cache")
    )
)


@dataclass(frozen=True)
class ConnectionRecorded:
    # It took over a connection still open in a live process (that one must be closed).
    takeover: bool
    # What the catch-up (``procedures.catch_up``) needs to know, read on the same trip.
    owes_clear_cache: bool


def station_record_connection(
    *,
    station: Station,
    protocol: str,
    connection_id: str,
    remote_address: str | None,
    connected_at: datetime,
) -> ConnectionRecorded:
    """A connection accepted (in ``protocol``, an OcppVersion): it is the station's live one,
    held by this process, and its unfinished commands from before it are failed, in one write
    transaction. A connection left behind by a process that died is replaced without a
    takeover. One trip to the database thread: a boot storm makes thousands of these at once."""
    with transaction.atomic():
        previous = station_connection_open(
            station=station,
            connection_id=connection_id,
            server_process=THIS_PROCESS,
            protocol=protocol,
            remote_address=remote_address,
            opened_at=connected_at,
        )
        ((orphans, latest_clear_cache),) = _COMMANDS_AT_CONNECTION.rows(
            station=station.pk, before=connected_at
        )
        if orphans:
            commands_fail_orphaned(
                station=station,
                before=connected_at,
                detail=gettext_noop(
                    "The station reconnected before answering: the command was lost with the "
                    "previous connection."
                ),
            )
    if orphans:  # one may have been a revocation's ClearCache, failed now: read it again
        ((_, latest_clear_cache),) = _COMMANDS_AT_CONNECTION.rows(
            station=station.pk, before=connected_at
        )
    takeover = previous.connected and holder_alive(previous.server_process)
    if takeover:
        station_record_takeover(station=station)
    return ConnectionRecorded(
        takeover=takeover, owes_clear_cache=clear_cache_owed(latest_clear_cache)
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


# --- Failed station logins (``handshake_guard`` counts them) ---------------------------------

_EVENT_WINDOW = timedelta(hours=1)
# A station's failed logins become critical past this many in the hour.
_CRITICAL_ATTEMPTS = 100


@transaction.atomic
def station_login_failures_record(*, reports: list[Report], monotonic_now: float) -> None:
    """One security event per station (or per address, for unknown ids) and hour: the first
    report makes it (and mails the station company's contact, as any security event), the next
    ones add their counts to it."""
    now = timezone.now()
    for report in reports:
        station = (
            Station.objects.select_related("company").filter(pk=report.station_id).first()
            if report.station_id is not None
            else None
        )
        events = SecurityEvent.objects.select_for_update().filter(
            kind=SecurityEventKind.STATION_LOGIN_FAILED, created_at__gte=now - _EVENT_WINDOW
        )
        if station is not None:
            event = events.filter(station=station).first()
        else:
            event = events.filter(station=None, details__address=report.address).first()
        locked_until = (
            (now + timedelta(seconds=report.locked_until - monotonic_now)).isoformat()
            if report.locked_until > monotonic_now
            else None
        )
        details = event.details if event is not None else {}
        attempts = details.get("attempts", 0) + report.attempts
        merged = {
            "attempts": attempts,
            "refused_while_locked_out": details.get("refused_while_locked_out", 0)
            + report.refused_while_locked,
            "addresses": _merged(details.get("addresses"), report.addresses),
            "reasons": _merged(details.get("reasons"), report.reasons),
            "charge_point_ids": _merged(details.get("charge_point_ids"), report.charge_point_ids),
            "locked_out_until": locked_until or details.get("locked_out_until"),
            "last_attempt_at": now.isoformat(),
        }
        if station is None:
            merged["address"] = report.address
        if event is None:
            security_event_record(
                kind=SecurityEventKind.STATION_LOGIN_FAILED,
                severity=Severity.WARNING,
                station=station,
                details=merged,
            )
        else:
            event.details = merged
            if attempts >= _CRITICAL_ATTEMPTS:
                event.severity = Severity.CRITICAL
            event.save(update_fields=["details", "severity"])


def _merged(counts: dict | None, more: dict) -> dict:
    merged = dict(counts or {})
    for key, value in more.items():
        if key in merged or len(merged) < 20:
            merged[key] = merged.get(key, 0) + value
    return merged
