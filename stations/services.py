"""Writes about stations and their sessions. The OCPP gateway, the admin and the API call these.

Every function is synchronous and commits before it returns, so the gateway answers a station
only once what the station told us is stored.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from badges.access import authorization_changed
from badges.authorization import AuthorizationStatus, Decision, Reason, authorize
from stations import credentials, events, plausibility, tariffs
from stations.autocharge import ReportedKey
from stations.enrolment import authorization_request
from stations.models import (
    AnomalyKind,
    AutochargeProfile,
    AutochargeReadiness,
    ChargingSession,
    CloseReason,
    ConfigurationKey,
    ConnectionState,
    Connector,
    CorrectionKind,
    DeviceModelVariable,
    LocalListEntry,
    MeterValue,
    SessionCorrection,
    Site,
    Station,
    StationConnection,
    TransactionAnomaly,
    TransactionEvent,
)
from stations.reservations import reservation_use
from stations.selectors import LocalListItem, profile_vendors
from supervision import compiled, live
from supervision.compiled import Param
from supervision.history import PasswordChange, record_change

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class SampledValue:
    """One reading, already parsed out of whatever protocol carried it."""

    timestamp: datetime
    value: str
    measurand: str = ENERGY_REGISTER
    unit: str = ""
    phase: str = ""
    context: str = ""
    location: str = ""


@dataclass(frozen=True)
class ReportedVariable:
    """One attribute of a device-model variable, as an OCPP 2.0.1 station reported it."""

    component: str
    variable: str
    value: str | None
    component_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    variable_instance: str = ""
    attribute_type: str = "Actual"
    mutability: str = ""
    characteristics: dict | None = None


@dataclass(frozen=True)
class PreviousConnection:
    """The station's connection state before a new connection was recorded."""

    connected: bool
    connection_id: str
    server_process: str


# Compiled once (``supervision.compiled``): a boot storm opens thousands of connections at
# once, and compiling these statements cost the database thread more than running them.
_CONNECTION_BEFORE = compiled.select(
    lambda: (
        Station.objects.select_for_update()
        .filter(pk=Param("station"))
        .annotate(
            session_open=Exists(ChargingSession.objects.active().filter(station=OuterRef("pk")))
        )
        .values_list("connection_state", "connection_id", "server_process", "session_open")
    )
)
_CONNECTED_FIELDS = {
    "connection_state": ConnectionState.CONNECTED,
    "connection_id": Param("connection_id"),
    "server_process": Param("server_process"),
    "connected_at": Param("opened_at"),
    "last_address": Param("remote_address"),
}
# With the protocol the connection speaks, or (none given) the station's left as it was.
_CONNECTED = {
    True: compiled.update(
        lambda: Station.objects.filter(pk=Param("station")),
        **_CONNECTED_FIELDS,
        ocpp_version=Param("protocol"),
    ),
    False: compiled.update(
        lambda: Station.objects.filter(pk=Param("station")), **_CONNECTED_FIELDS
    ),
}
_CONNECTION_RECORD = compiled.insert(
    StationConnection,
    station_id=Param("station"),
    connection_id=Param("connection_id"),
    server_process=Param("server_process"),
    remote_address=Param("remote_address"),
    protocol=Param("protocol"),
    opened_at=Param("opened_at"),
)


# Its caller's transaction when there is one (the connection's): no savepoint to pay for.
@transaction.atomic(savepoint=False)
def station_connection_open(
    *,
    station: Station,
    connection_id: str,
    server_process: str,
    protocol: str,
    remote_address: str | None,
    opened_at: datetime,
) -> PreviousConnection:
    """A connection accepted (in ``protocol``, an OcppVersion): it is the station's live one
    from now on, held by ``server_process``. Returns what the station's row said before, for
    the caller to tell a takeover from a reconnection."""
    values = {
        "station": station.pk,
        "connection_id": connection_id,
        "server_process": server_process,
        "protocol": protocol,
        "remote_address": remote_address,
        "opened_at": opened_at,
    }
    before = _CONNECTION_BEFORE.rows(**values)
    if not before:
        raise Station.DoesNotExist
    ((state, previous_id, previous_process, session_open),) = before
    station.known_without_open_session = not session_open
    _CONNECTED[bool(protocol)].rowcount(**values)
    if protocol:
        station.ocpp_version = protocol
    _CONNECTION_RECORD.rowcount(**values)
    live.publish(
        "station_connected", company_id=station.company_id, station=station.charge_point_id
    )
    events.station_connected.send(sender=Station, station=station)
    return PreviousConnection(
        connected=state == ConnectionState.CONNECTED,
        connection_id=previous_id,
        server_process=previous_process,
    )


@transaction.atomic
def station_connection_close(
    *, station: Station, connection_id: str, reason: CloseReason, code: int | None = None
) -> bool:
    """A connection ended. The station is marked disconnected only if this was its live
    connection (not one a newer connection replaced), so exactly once; True if it was."""
    now = timezone.now()
    StationConnection.objects.filter(connection_id=connection_id, closed_at__isnull=True).update(
        closed_at=now, close_reason=reason, close_code=code
    )
    released = Station.objects.filter(pk=station.pk, connection_id=connection_id).update(
        connection_state=ConnectionState.DISCONNECTED, connection_id="", server_process=""
    )
    if released:
        live.publish(
            "station_disconnected", company_id=station.company_id, station=station.charge_point_id
        )
        events.station_disconnected.send(sender=Station, station=station)
    return bool(released)


def station_connection_reclaim(
    *, server_process: str, connections: Sequence[tuple[int, str]]
) -> None:
    """This process's connections are still open though another process took it for dead and
    released them: they are the stations' live connections again, unless a newer one came."""
    for station_id, connection_id in connections:
        Station.objects.filter(pk=station_id, connection_id="").update(
            connection_state=ConnectionState.CONNECTED,
            connection_id=connection_id,
            server_process=server_process,
        )


@transaction.atomic
def stations_release(*, server_process: str, reason: CloseReason) -> list[int]:
    """Every station ``server_process`` held is disconnected (it stopped, or died): returns
    their ids."""
    held = list(Station.objects.filter(server_process=server_process))
    if not held:
        return []
    ids = [station.pk for station in held]
    Station.objects.filter(pk__in=ids, server_process=server_process).update(
        connection_state=ConnectionState.DISCONNECTED, connection_id="", server_process=""
    )
    StationConnection.objects.filter(server_process=server_process, closed_at__isnull=True).update(
        closed_at=timezone.now(), close_reason=reason
    )
    for station in held:
        live.publish(
            "station_disconnected", company_id=station.company_id, station=station.charge_point_id
        )
        events.station_disconnected.send(sender=Station, station=station)
    return ids


# Compiled once (``supervision.compiled``): a boot storm brings thousands of boots at once.
_SESSION_OPEN = compiled.exists(
    lambda: ChargingSession.objects.active().filter(station_id=Param("station"))
)
_BOOTED = compiled.update(
    lambda: Station.objects.filter(pk=Param("station")),
    **{
        name: Param(name)
        for name in (
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "last_boot_reason",
            "last_boot_at",
            "last_heartbeat_at",
            "connection_state",
        )
    },
)


def station_record_boot(
    *,
    station: Station,
    vendor: str,
    model: str,
    serial_number: str = "",
    firmware_version: str = "",
    reason: str = "",
) -> None:
    """A (re)boot (OCPP 2.0.1 says why: ``reason``): record the identity, and flag sessions the
    reboot left open. The station should report how each ended (a StopTransaction, or an Ended
    TransactionEvent: PowerLoss, Reboot…); until it does, the flag stays unresolved. A start
    the supervision refused and the station never stopped is closed as refused, unflagged: no
    energy counts for it, and nothing will end it otherwise."""
    now = timezone.now()
    fields = {
        "vendor": vendor,
        "model": model,
        "serial_number": serial_number,
        "firmware_version": firmware_version,
        "last_boot_reason": reason,
        "last_boot_at": now,
        "last_heartbeat_at": now,
        "connection_state": ConnectionState.CONNECTED,
    }
    # The usual boot, with no session open (a boot storm brings thousands), is one statement
    # and no transaction of its own: the gateway makes a storm's boots together, in shared
    # transactions (ocpp_gateway/transport/shared_transactions.py), where one would add a
    # savepoint's two statements, and alone it needs none.
    sessions_open = not station.known_without_open_session and bool(
        _SESSION_OPEN.rows(station=station.pk)
    )
    with transaction.atomic() if sessions_open else nullcontext():
        if sessions_open:
            _close_refused(station=station, connector_id=None, what="BootNotification")
            for session in ChargingSession.objects.active().filter(station=station):
                _flag(
                    station=station,
                    kind=AnomalyKind.OPEN_AT_REBOOT,
                    session=session,
                    details={"booted_at": now.isoformat()},
                )
        _BOOTED.rowcount(station=station.pk, **fields)
    for name, value in fields.items():  # the connection's copy knows what it booted as
        setattr(station, name, value)


def station_record_heartbeat(*, station: Station) -> None:
    Station.objects.filter(pk=station.pk).update(last_heartbeat_at=timezone.now())


def station_record_firmware_status(*, station: Station, status: str) -> None:
    Station.objects.filter(pk=station.pk).update(firmware_status=status)


def station_record_log_status(*, station: Station, status: str) -> None:
    Station.objects.filter(pk=station.pk).update(log_status=status)


@transaction.atomic
def device_model_record(*, station: Station, variables: Sequence[ReportedVariable]) -> None:
    """Store what an OCPP 2.0.1 station reported about its device model (a report, a read, an
    event): each attribute replaces the one it names, the others stay as they were."""
    now = timezone.now()
    for variable in variables:
        defaults: dict = {"value": variable.value, "read_at": now}
        if variable.mutability:
            defaults["mutability"] = variable.mutability
        if variable.characteristics:
            defaults["characteristics"] = variable.characteristics
        DeviceModelVariable.objects.update_or_create(
            station=station,
            component=variable.component,
            component_instance=variable.component_instance,
            evse_id=variable.evse_id,
            connector_id=variable.connector_id,
            variable=variable.variable,
            variable_instance=variable.variable_instance,
            attribute_type=variable.attribute_type,
            defaults=defaults,
        )


CONNECTOR_AVAILABLE = "Available"


# Compiled once (``supervision.compiled``): a boot storm brings thousands of statuses at once.
_CONNECTOR_FIELDS = ("status", "error_code", "info", "vendor_error_code", "updated_at")
# Created on the connector's first status, updated on the next ones: one statement either way.
_CONNECTOR_STATUS = compiled.insert(
    Connector,
    unique=("station", "connector_id"),
    station_id=Param("station"),
    connector_id=Param("connector_id"),
    **{name: Param(name) for name in _CONNECTOR_FIELDS},
)


def connector_update_status(
    *,
    station: Station,
    connector_id: int,
    status: str,
    error_code: str = "",
    info: str = "",
    vendor_error_code: str = "",
    timestamp: datetime | None = None,
) -> None:
    """One statement (a boot storm brings thousands of statuses at once), creating the
    connector's row on its first status. An implausible ``timestamp`` gives way
    to the receive time (flagged). A connector Available again ends the refused starts the
    station left open on it (closed as refused, no energy)."""
    now = timezone.now()
    if timestamp is not None and not plausibility.timestamp_is_plausible(
        timestamp, now=now, limits=plausibility.Limits.from_settings()
    ):
        with transaction.atomic():
            _flag(
                station=station,
                kind=AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
                details={"StatusNotification": timestamp.isoformat()},
                merge=True,
            )
        timestamp = None
    fields = {
        "status": status,
        "error_code": error_code,
        "info": info,
        "vendor_error_code": vendor_error_code,
        "updated_at": timestamp or now,
    }
    if (
        status == CONNECTOR_AVAILABLE
        and connector_id
        and not station.known_without_open_session
        and _has_refused_open(station, connector_id)
    ):
        # Checked first without a transaction of its own: a boot storm brings thousands of
        # Available statuses, made together in shared transactions, where each would add a
        # savepoint's two statements.
        with transaction.atomic():
            _close_refused(
                station=station, connector_id=connector_id, what="StatusNotification Available"
            )
    _CONNECTOR_STATUS.rowcount(station=station.pk, connector_id=connector_id, **fields)
    live.publish(
        "connector_status",
        company_id=station.company_id,
        station=station.charge_point_id,
        connector_id=connector_id,
        status=status,
    )
    events.connector_status_changed.send(
        sender=Station,
        station=station,
        connector_id=connector_id,
        status=status,
        error_code=error_code,
    )


def _publish_session(
    kind: str, *, session: ChargingSession, station: Station, **data: str | int | None
) -> None:
    # To whoever sees the session: its company, or the station's owner for an anonymous one.
    live.publish(
        kind,
        company_id=session.company_id or station.company_id,
        station=station.charge_point_id,
        connector_id=session.connector_id,
        transaction_id=session.transaction_id,
        vehicle=session.vehicle_plate,
        **data,
    )
    _SESSION_EVENTS[kind].send(sender=ChargingSession, session=session)


_SESSION_EVENTS = {
    "session_started": events.session_started,
    "session_stopped": events.session_stopped,
}


# OCPP 1.6 transaction ids are integers; anything outside a database bigint cannot be ours.
_MAX_TRANSACTION_ID = 2**63 - 1


def _is_ours(transaction_id: int | None) -> bool:
    """Could this be a transaction id we handed out? (-1, 0, None and huge numbers cannot.)"""
    return isinstance(transaction_id, int) and 0 < transaction_id <= _MAX_TRANSACTION_ID


# A station's clock this far ahead of ours is flagged: late data is normal, future data is not.
_CLOCK_TOLERANCE = timedelta(minutes=5)
# Stop reasons that mean the session ended because the station went down.
INTERRUPTION_REASONS = {"PowerLoss", "Reboot", "HardReset", "SoftReset"}


def _flag(
    *,
    station: Station,
    kind: AnomalyKind,
    session: ChargingSession | None = None,
    transaction_id: int | None = None,
    details: dict | None = None,
    merge: bool = False,
) -> None:
    """Record an anomaly, or count one more of the same (same station, kind and transaction).
    ``merge``: the details are keyed by message, and a repeat adds its keys to those already
    recorded (a session's absurd start and absurd stop are both kept) instead of replacing
    them."""
    transaction_id = transaction_id if _is_ours(transaction_id) else None
    anomaly = (
        TransactionAnomaly.objects.select_for_update()
        .filter(station=station, kind=kind, session=session, transaction_id=transaction_id)
        .first()
    )
    if anomaly is None:
        TransactionAnomaly.objects.create(
            station=station,
            kind=kind,
            session=session,
            transaction_id=transaction_id,
            details=details or {},
        )
    else:
        anomaly.occurrences += 1
        if merge:
            anomaly.details = {**anomaly.details, **(details or {})}
        else:
            anomaly.details = details or anomaly.details
        anomaly.save(update_fields=["occurrences", "details", "last_seen_at"])


def _flag_if_future(*, station: Station, moment: datetime, what: str, **where) -> None:
    if moment > timezone.now() + _CLOCK_TOLERANCE:
        _flag(
            station=station,
            kind=AnomalyKind.FUTURE_TIMESTAMP,
            details={"message": what, "timestamp": moment.isoformat()},
            **where,
        )


def _is_plausible(moment: datetime) -> bool:
    return plausibility.timestamp_is_plausible(
        moment, now=timezone.now(), limits=plausibility.Limits.from_settings()
    )


def _flag_implausible_time(*, station: Station, moment: datetime, what: str, **where) -> None:
    """The station's clock is absurd (year 1970, 9999): what it sent is kept here, under the
    message's name, and in the message log; the caller stores the receive time instead."""
    _flag(
        station=station,
        kind=AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
        details={what: moment.isoformat()},
        merge=True,
        **where,
    )


def _storable_reading(value: int | None) -> int | None:
    """A meter reading as a bigint column holds it: None when it does not fit."""
    return value if plausibility.fits_int64(value) else None


# Compiled once (``supervision.compiled``): every MeterValues and StopTransaction asks it, and
# the ORM's compiling of it was most of a MeterValues' database time (a fleet day at 10,000
# stations: 12 % of the server's samples, py-spy).
_SESSION_OF_TRANSACTION = compiled.select(
    lambda: (
        ChargingSession.objects.select_for_update()
        .filter(station=Param("station"), transaction_id=Param("transaction_id"))
        .order_by("pk")[:1]
    )
)


def _find_session(*, station: Station, transaction_id: int | None) -> ChargingSession | None:
    if not _is_ours(transaction_id):
        return None
    return _SESSION_OF_TRANSACTION.first(station=station.pk, transaction_id=transaction_id)


@transaction.atomic
def session_start(
    *,
    station: Station,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    started_at: datetime,
    log_entry_id: UUID | None = None,
    reservation_id: int | None = None,
) -> tuple[ChargingSession, Decision]:
    """Open a session and decide, again, whether the tag may charge. An accepted start uses
    the badge's reservation there (the one ``reservation_id`` names, if the station says).

    Stations that cached a tag skip Authorize, so this re-checks the badge's *current* state.
    The session is stored whatever the decision: the station may already be delivering energy,
    and a refused start must be visible with its reason. A replayed start (same content, e.g.
    re-sent after a reconnect) gets the first one's transaction id and answer. An implausible
    timestamp gives way to the receive time, a reading no bigint holds to none (both flagged,
    both kept in the message log).
    """
    sent_time, sent_meter = started_at, meter_start
    plausible_time = _is_plausible(started_at)
    if not plausible_time:
        started_at = timezone.now()
    meter_start = _storable_reading(meter_start)
    start = {
        "station": station,
        "connector_id": connector_id,
        "id_tag": id_tag,
        "meter_start": meter_start,
        "started_at": started_at,
    }
    replayed_starts = ChargingSession.objects.select_related("badge")
    if plausible_time:
        replayed = replayed_starts.filter(**start).first()
    else:  # the same absurd timestamp again: found through what its flag recorded
        replayed = (
            replayed_starts.filter(
                station=station,
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                station_transaction_id="",
                anomalies__kind=AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
                anomalies__details__StartTransaction=sent_time.isoformat(),
            )
            .order_by("-transaction_id")
            .first()
        )
    if replayed is not None:
        _flag(station=station, kind=AnomalyKind.REPLAYED_START, session=replayed)
        return replayed, _decision_of(replayed)
    decision = authorization_request(
        id_tag=id_tag, station=station, connector_id=connector_id, log_entry_id=log_entry_id
    )
    station.known_without_open_session = False
    session = ChargingSession.objects.create(**start, **_attribution(decision))
    _badge_sessions_changed(session)
    _flag_if_future(station=station, moment=started_at, what="StartTransaction", session=session)
    if not plausible_time:
        _flag_implausible_time(
            station=station, moment=sent_time, what="StartTransaction", session=session
        )
    if meter_start is None:
        _flag(
            station=station,
            kind=AnomalyKind.IMPLAUSIBLE_METER,
            session=session,
            details={"StartTransaction": {"meter_start": str(sent_meter)}},
            merge=True,
        )
    if decision.accepted:  # a refused start is published as the refusal it is
        reservation_use(
            station=station,
            badge=decision.badge,
            connector_id=connector_id,
            reservation_id=reservation_id,
        )
        _publish_session("session_started", session=session, station=station)
    return session, decision


def _attribution(decision: Decision) -> dict:
    """A session's fields that say who charged, and what the station was told about it (the
    session records what the badge, vehicle and company are at that moment, for history)."""
    return {
        "badge": decision.badge,
        "vehicle": decision.vehicle,
        "company": decision.company,
        "auth_method": decision.auth_method,
        "authorization_status": decision.status,
        "authorization_reason": decision.reason,
    }


def _decision_of(session: ChargingSession) -> Decision:
    """The answer a session's start was given, to give it again."""
    badge = session.badge
    return Decision(
        status=AuthorizationStatus(session.authorization_status),
        reason=Reason(session.authorization_reason),
        id_tag=session.id_tag,
        badge=badge,
        expires_at=badge.expires_at if badge is not None else None,
    )


def _store_samples(
    *,
    station: Station,
    connector_id: int,
    session: ChargingSession | None,
    samples: Sequence[SampledValue],
) -> None:
    """Store the readings as sent, up to ``OCPP_MAX_SAMPLES_PER_FRAME`` (the rest stays in the
    message log), each with a plausible timestamp (the receive time for an absurd one). Energy
    register readings that are numbers no bigint holds, not finite, or negative are flagged:
    they are kept, as text, and count for no energy. One flag of each kind per message, with
    its first value and how many: a frame of thousands of absurd samples is not thousands of
    writes."""
    cap = settings.OCPP_MAX_SAMPLES_PER_FRAME
    if len(samples) > cap:
        _flag(
            station=station,
            kind=AnomalyKind.SAMPLES_TRUNCATED,
            session=session,
            details={"received": len(samples), "stored": cap},
        )
        samples = samples[:cap]
    now = timezone.now()
    limits = plausibility.Limits.from_settings()
    timestamps = []
    odd_times: list[datetime] = []
    odd_readings: list[SampledValue] = []
    for sample in samples:
        timestamp = sample.timestamp
        if not plausibility.timestamp_is_plausible(timestamp, now=now, limits=limits):
            odd_times.append(timestamp)
            timestamp = now
        timestamps.append(timestamp)
        if sample.measurand == ENERGY_REGISTER and plausibility.reading_is_implausible(
            sample.value, sample.unit
        ):
            odd_readings.append(sample)
    if odd_times:
        _flag(
            station=station,
            kind=AnomalyKind.IMPLAUSIBLE_TIMESTAMP,
            session=session,
            details={
                "meter value": {"timestamp": odd_times[0].isoformat(), "count": len(odd_times)}
            },
            merge=True,
        )
    if odd_readings:
        _flag(
            station=station,
            kind=AnomalyKind.IMPLAUSIBLE_METER,
            session=session,
            details={
                "meter value": {
                    "value": odd_readings[0].value,
                    "unit": odd_readings[0].unit,
                    "timestamp": odd_readings[0].timestamp.isoformat(),
                    "count": len(odd_readings),
                }
            },
            merge=True,
        )
    MeterValue.objects.bulk_create(
        MeterValue(
            station=station,
            session=session,
            connector_id=connector_id,
            timestamp=timestamp,
            measurand=sample.measurand,
            value=sample.value,
            unit=sample.unit,
            phase=sample.phase,
            context=sample.context,
            location=sample.location,
        )
        for sample, timestamp in zip(samples, timestamps, strict=True)
    )
    if session is not None and session.stopped_at is None:
        if any(sample.measurand == ENERGY_REGISTER for sample in samples):
            # The portal shows the energy so far of sessions in progress.
            live.publish(
                "session_energy",
                company_id=session.company_id or station.company_id,
                station=station.charge_point_id,
                connector_id=session.connector_id,
            )


@transaction.atomic
def meter_values_record(
    *,
    station: Station,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampledValue],
) -> ChargingSession | None:
    """Store readings; attach them to the station's session when the transaction is known,
    and flag readings that name a transaction nobody started (they are kept, unattached)."""
    session = _find_session(station=station, transaction_id=transaction_id)
    if transaction_id is not None and session is None:
        _flag(
            station=station,
            kind=AnomalyKind.UNKNOWN_TRANSACTION,
            transaction_id=transaction_id,
            details={"message": "MeterValues", "transaction_id": transaction_id},
        )
    _store_samples(station=station, connector_id=connector_id, session=session, samples=samples)
    return session


@transaction.atomic
def session_stop(
    *,
    station: Station,
    transaction_id: int,
    meter_stop: int,
    stopped_at: datetime,
    reason: str = "",
    samples: Sequence[SampledValue] = (),
) -> ChargingSession | None:
    """Close the station's session and compute its energy; None if the station has no such
    transaction. A second stop never overwrites the first. Whatever arrives is kept and odd
    data is flagged, never refused: a refused stop makes a station retry it forever. An absurd
    timestamp gives way to the receive time; an absurd reading still closes the session, with
    no energy."""
    session = _find_session(station=station, transaction_id=transaction_id)
    stop = {"transaction_id": transaction_id, "meter_stop": meter_stop, "reason": reason}
    if not plausibility.fits_int64(meter_stop):
        stop["meter_stop"] = str(meter_stop)  # as sent; JSON columns take no such integer
    sent_time = stopped_at
    if not _is_plausible(stopped_at):
        stopped_at = timezone.now()
    if session is None:
        _flag(
            station=station,
            kind=AnomalyKind.UNKNOWN_TRANSACTION,
            transaction_id=transaction_id,
            details={"message": "StopTransaction", "timestamp": stopped_at.isoformat(), **stop},
        )
        _store_samples(station=station, connector_id=0, session=None, samples=samples)
        return None
    if not session.is_active:
        if not _closed_as_refused(session):
            _flag(
                station=station,
                kind=AnomalyKind.DUPLICATE_STOP,
                session=session,
                details={"timestamp": sent_time.isoformat(), **stop},
            )
        return session
    _store_samples(
        station=station, connector_id=session.connector_id, session=session, samples=samples
    )
    if sent_time != stopped_at:
        _flag_implausible_time(
            station=station, moment=sent_time, what="StopTransaction", session=session
        )
    if not plausibility.fits_int64(meter_stop):
        _flag(
            station=station,
            kind=AnomalyKind.IMPLAUSIBLE_METER,
            session=session,
            details={
                "StopTransaction": {"problem": plausibility.EnergyProblem.OUT_OF_RANGE, **stop}
            },
            merge=True,
        )
    _close(
        station=station,
        session=session,
        meter_stop=_storable_reading(meter_stop),
        stopped_at=stopped_at,
        reason=reason,
        what="StopTransaction",
        details=stop,
    )
    return session


def _badge_sessions_changed(session: ChargingSession) -> None:
    """A session of a badge started or stopped: cached decisions about the badge elsewhere
    (one session at a time) are forgotten."""
    if session.badge_id is not None:
        authorization_changed(badge_ids=[session.badge_id], tags_unchanged=True)


def _close(
    *,
    station: Station,
    session: ChargingSession,
    meter_stop: int | None,
    stopped_at: datetime,
    reason: str,
    what: str,
    details: dict,
    publish: bool = True,
) -> None:
    """End an active session: its energy when both meter readings are known and plausible,
    and the anomalies its end reveals or resolves. An implausible energy is left empty: sums,
    charts and reports skip the session, its readings stay as sent."""
    session.meter_stop = meter_stop
    session.stopped_at = stopped_at
    session.stop_received_at = timezone.now()
    session.stop_reason = reason
    problem = plausibility.energy_problem(
        meter_start=session.meter_start,
        meter_stop=meter_stop,
        started_at=session.started_at,
        stopped_at=stopped_at,
        limits=plausibility.Limits.from_settings(),
    )
    if problem is None:
        session.energy_wh = meter_stop - session.meter_start
    elif problem == plausibility.EnergyProblem.BACKWARDS:
        # A meter that went backwards (replaced, reset) gives no trustworthy energy.
        _flag(station=station, kind=AnomalyKind.METER_BACKWARDS, session=session, details=details)
    elif problem != plausibility.EnergyProblem.MISSING:
        _flag(
            station=station,
            kind=AnomalyKind.IMPLAUSIBLE_METER,
            session=session,
            details={what: {"problem": problem, "meter_start": session.meter_start, **details}},
            merge=True,
        )
    tariffs.session_price(session)
    session.save(
        update_fields=[
            "meter_stop",
            "energy_wh",
            "stopped_at",
            "stop_received_at",
            "stop_reason",
            *tariffs.PRICED_FIELDS,
        ]
    )
    _badge_sessions_changed(session)
    _flag_if_future(station=station, moment=stopped_at, what=what, session=session)
    # A session left open by a reboot is resolved once the station reports how it ended.
    TransactionAnomaly.objects.filter(
        session=session, kind=AnomalyKind.OPEN_AT_REBOOT, resolved_at__isnull=True
    ).update(resolved_at=session.stop_received_at)
    if publish:
        _publish_session(
            "session_stopped", session=session, station=station, energy_wh=session.energy_wh
        )


REFUSED_STOP_REASON = "DeAuthorized"


def _closed_as_refused(session: ChargingSession) -> bool:
    """Closed by ``_close_refused``: the station's own stop of it, arriving after its connector
    was free again, is expected, not a duplicate (it stays in the message log)."""
    return (
        session.stop_reason == REFUSED_STOP_REASON
        and bool(session.authorization_reason)
        and session.authorization_status != AuthorizationStatus.ACCEPTED
    )


def _refused_open(station: Station | Param):
    return (
        ChargingSession.objects.active()
        .filter(station=station)
        .exclude(authorization_reason="")
        .exclude(authorization_status=AuthorizationStatus.ACCEPTED)
    )


# Compiled once (``supervision.compiled``): asked of every Available status, a boot storm's.
_REFUSED_OPEN_ON = compiled.exists(
    lambda: _refused_open(Param("station")).filter(connector_id=Param("connector_id"))
)


def _has_refused_open(station: Station, connector_id: int) -> bool:
    return bool(_REFUSED_OPEN_ON.rows(station=station.pk, connector_id=connector_id))


def _close_refused(*, station: Station, connector_id: int | None, what: str) -> None:
    """Close the starts the supervision refused that the station left open (on ``connector_id``,
    or on any connector): the connector is free again or the station rebooted, so the
    transaction is over; no energy counts for it, and no stop will come."""
    refused = _refused_open(station).select_for_update()
    if connector_id is not None:
        refused = refused.filter(connector_id=connector_id)
    now = timezone.now()
    for session in refused:
        _close(
            station=station,
            session=session,
            meter_stop=None,
            stopped_at=now,
            reason=REFUSED_STOP_REASON,
            what=what,
            details={"closed_by": what},
            publish=False,
        )


# --- OCPP 2.0.1 transactions: one session per station transactionId, built from its events ---

EVENT_STARTED, EVENT_UPDATED, EVENT_ENDED = "Started", "Updated", "Ended"


@dataclass(frozen=True)
class PresentedToken:
    """The identifier an event carries, as the domain reads it."""

    id_tag: str
    unsupported: bool = False
    """Of a kind no badge can be: refused with its reason."""


def _register_wh(reading: MeterValue | None) -> int | None:
    """An energy register reading in Wh, or None (no reading, or not a number)."""
    if reading is None:
        return None
    return plausibility.register_wh(reading.value, reading.unit)


def _register_span(session: ChargingSession) -> tuple[int | None, int | None]:
    """The first and the last whole-meter energy register readings of the session, by the
    station's clock (events may arrive in another order than they happened)."""
    readings = session.meter_values.filter(measurand=ENERGY_REGISTER, phase="").order_by(
        "timestamp", "id"
    )
    return _register_wh(readings.first()), _register_wh(readings.last())


@transaction.atomic
def transaction_event_record(
    *,
    station: Station,
    station_transaction_id: str,
    event: str,
    seq_no: int,
    timestamp: datetime,
    trigger_reason: str,
    offline: bool = False,
    evse_id: int | None = None,
    token: PresentedToken | None = None,
    stopped_reason: str = "",
    samples: Sequence[SampledValue] = (),
    log_entry_id: UUID | None = None,
    reservation_id: int | None = None,
) -> tuple[ChargingSession, Decision | None]:
    """Apply one OCPP 2.0.1 TransactionEvent (``event``: Started, Updated or Ended) to the
    session of the station's transaction; the decision on the token it carries, if any.

    The session exists from the first event that names the transaction, whichever it is (one
    sent late may overtake another). An event already applied (same ``seq_no``) changes
    nothing, however often it is replayed. The first token decides and attributes the session
    (with the inbox, pairing and security events of any authorization); later tokens, or the
    same one again, get their current decision, which the station may act on. The energy is
    the span of the energy register readings, by the station's clock. Nothing is refused.
    """
    sent_time = timestamp
    if not _is_plausible(timestamp):
        timestamp = timezone.now()
    session = (
        ChargingSession.objects.select_for_update()
        .filter(station=station, station_transaction_id=station_transaction_id)
        .first()
    )
    if session is None:
        station.known_without_open_session = False
        session = ChargingSession.objects.create(
            station=station,
            station_transaction_id=station_transaction_id,
            connector_id=evse_id or 0,
            started_at=timestamp,
        )
        if event != EVENT_STARTED:
            _flag(
                station=station,
                kind=AnomalyKind.UNKNOWN_TRANSACTION,
                session=session,
                details={"message": f"TransactionEvent {event}", "seq_no": seq_no},
            )
    elif session.events.filter(seq_no=seq_no).exists():
        _flag(
            station=station,
            kind=AnomalyKind.REPLAYED_START
            if event == EVENT_STARTED
            else AnomalyKind.REPLAYED_EVENT,
            session=session,
            details={"event": event, "seq_no": seq_no},
        )
        decision = None
        if token is not None:
            decision = authorize(
                id_tag=token.id_tag, station=station, identifier_unsupported=token.unsupported
            )
        return session, decision
    TransactionEvent.objects.create(
        session=session,
        seq_no=seq_no,
        event_type=event,
        trigger_reason=trigger_reason,
        timestamp=timestamp,
        offline=offline,
    )
    if sent_time != timestamp:
        _flag_implausible_time(
            station=station, moment=sent_time, what=f"TransactionEvent {event}", session=session
        )
    if event == EVENT_UPDATED and not session.is_active:
        # Kept, with its readings, but it changes nothing of a transaction already ended.
        _flag(
            station=station,
            kind=AnomalyKind.EVENT_AFTER_END,
            session=session,
            details={"event": event, "seq_no": seq_no, "timestamp": sent_time.isoformat()},
        )
        _store_samples(
            station=station, connector_id=session.connector_id, session=session, samples=samples
        )
        decision = None
        if token is not None:
            decision = authorize(
                id_tag=token.id_tag, station=station, identifier_unsupported=token.unsupported
            )
        return session, decision
    if event == EVENT_STARTED:
        session.started_at = timestamp
        _flag_if_future(station=station, moment=timestamp, what="TransactionEvent", session=session)
    if evse_id and not session.connector_id:
        session.connector_id = evse_id
    attributing = token is not None and session.authorization_status != AuthorizationStatus.ACCEPTED
    decision = _decide_event_token(
        session=session, token=token, log_entry_id=log_entry_id, reservation_id=reservation_id
    )
    _store_samples(
        station=station, connector_id=session.connector_id, session=session, samples=samples
    )
    if samples:
        session.meter_start = _register_span(session)[0]
    # Only what an event can change: a periodic meter-value event is not a change of who
    # charges, and must not make the authorization caches forget the badge.
    changed = ["started_at", "connector_id", "meter_start"]
    if attributing:
        changed += ["id_tag", *_attribution(decision), *ChargingSession.RECORDED_ATTRIBUTION]
    session.save(update_fields=changed)
    if attributing:
        _badge_sessions_changed(session)
    if event == EVENT_ENDED:
        details = {"station_transaction_id": station_transaction_id, "seq_no": seq_no}
        if not session.is_active:
            if not _closed_as_refused(session):
                _flag(
                    station=station,
                    kind=AnomalyKind.DUPLICATE_STOP,
                    session=session,
                    details={"timestamp": sent_time.isoformat(), **details},
                )
        else:
            _close(
                station=station,
                session=session,
                meter_stop=_register_span(session)[1],
                stopped_at=timestamp,
                reason=stopped_reason,
                what="TransactionEvent",
                details=details,
            )
    return session, decision


def _decide_event_token(
    *,
    session: ChargingSession,
    token: PresentedToken | None,
    log_entry_id: UUID | None,
    reservation_id: int | None = None,
) -> Decision | None:
    if token is None:
        return None
    station = session.station
    if session.authorization_status == AuthorizationStatus.ACCEPTED:
        # Already attributed: the station asks about this token now (the same one again, or
        # one that ends the transaction).
        return authorize(
            id_tag=token.id_tag,
            station=station,
            identifier_unsupported=token.unsupported,
            connector_id=session.connector_id or None,
        )
    decision = authorization_request(
        id_tag=token.id_tag,
        station=station,
        connector_id=session.connector_id or None,
        log_entry_id=log_entry_id,
        identifier_unsupported=token.unsupported,
    )
    session.id_tag = token.id_tag[:64]
    for field, value in _attribution(decision).items():
        setattr(session, field, value)
    session.record_attribution()
    if decision.accepted:  # as in 1.6: the session starts, for the portal, once authorized
        reservation_use(
            station=station,
            badge=decision.badge,
            connector_id=session.connector_id or None,
            reservation_id=reservation_id,
        )
        _publish_session("session_started", session=session, station=station)
    return decision


# --- Staff corrections: a session the station never ends, an energy nobody can believe ------

STAFF_STOP_REASON = "ClosedByStaff"


def _correction_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    gettext("Say why: the reason is kept with the correction."), code="required"
                )
            }
        )
    return reason


def _correction_energy(energy_wh: int | None) -> int | None:
    if energy_wh is not None and not plausibility.energy_is_storable(energy_wh):
        raise ValidationError(
            {
                "energy_wh": ValidationError(
                    gettext("The energy must be between 0 and %(max)d Wh.")
                    % {"max": plausibility.MAX_SESSION_ENERGY_WH},
                    code="energy_range",
                )
            }
        )
    return energy_wh


@transaction.atomic
def session_close_by_staff(
    *,
    session: ChargingSession,
    user,
    reason: str,
    energy_wh: int | None = None,
    stopped_at: datetime | None = None,
) -> SessionCorrection:
    """Close a session the station never ended (it lost it, it is gone): at ``stopped_at`` (now
    by default), with ``energy_wh`` if staff know it. The station's readings stay as they were;
    a stop the station sends later is kept as a duplicate stop. Raises ValidationError for a
    session already closed (code ``closed``), a missing reason or an impossible value."""
    reason = _correction_reason(reason)
    energy_wh = _correction_energy(energy_wh)
    session = (
        ChargingSession.objects.select_for_update().select_related("station").get(pk=session.pk)
    )
    if not session.is_active:
        raise ValidationError(gettext("This session is already closed."), code="closed")
    now = timezone.now()
    stopped_at = stopped_at or now
    if not session.started_at <= stopped_at <= now:
        raise ValidationError(
            {
                "stopped_at": ValidationError(
                    gettext("The end must be between the session's start and now."),
                    code="stopped_at_range",
                )
            }
        )
    energy_before = session.energy_wh
    session.stopped_at, session.stop_received_at = stopped_at, now
    session.stop_reason = STAFF_STOP_REASON
    session.energy_wh = energy_wh
    tariffs.session_price(session)
    session.save(
        update_fields=[
            "stopped_at",
            "stop_received_at",
            "stop_reason",
            "energy_wh",
            *tariffs.PRICED_FIELDS,
        ]
    )
    _badge_sessions_changed(session)
    TransactionAnomaly.objects.filter(
        session=session, kind=AnomalyKind.OPEN_AT_REBOOT, resolved_at__isnull=True
    ).update(resolved_at=now)
    correction = SessionCorrection.objects.create(
        session=session,
        kind=CorrectionKind.CLOSE,
        reason=reason,
        corrected_by=user,
        corrected_at=now,
        energy_wh_before=energy_before,
        energy_wh_after=energy_wh,
        stopped_at_after=stopped_at,
    )
    _publish_session(
        "session_stopped", session=session, station=session.station, energy_wh=energy_wh
    )
    return correction


@transaction.atomic
def session_correct_energy(
    *, session: ChargingSession, user, reason: str, energy_wh: int | None
) -> SessionCorrection:
    """Set a closed session's energy (None: count none), e.g. one its station's absurd
    readings left empty. The readings stay as the station sent them; the correction keeps
    the energy before. Raises ValidationError for an open session (code ``active``), a
    missing reason or an impossible energy."""
    reason = _correction_reason(reason)
    energy_wh = _correction_energy(energy_wh)
    session = ChargingSession.objects.select_for_update().get(pk=session.pk)
    if session.is_active:
        raise ValidationError(gettext("This session is still open: close it first."), code="active")
    correction = SessionCorrection.objects.create(
        session=session,
        kind=CorrectionKind.ENERGY,
        reason=reason,
        corrected_by=user,
        energy_wh_before=session.energy_wh,
        energy_wh_after=energy_wh,
        stopped_at_before=session.stopped_at,
        stopped_at_after=session.stopped_at,
    )
    session.energy_wh = energy_wh
    # From the prices copied at the stop: a tariff changed since does not apply to it.
    tariffs.session_reprice(session)
    session.save(update_fields=["energy_wh", "cost"])
    return correction


# --- Retention --------------------------------------------------------------------------------

PURGE_BATCH_ROWS = 5000


def purge_in_batches(queryset, *, batch: int = PURGE_BATCH_ROWS) -> int:
    """Delete ``queryset``'s rows a batch at a time (short transactions, no table-wide lock,
    no huge IN list); the number deleted."""
    deleted = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:batch])
        if not pks:
            return deleted
        deleted += queryset.model.objects.filter(pk__in=pks).delete()[0]


def meter_values_purge(*, before: datetime) -> int:
    """Delete the meter values of sessions closed before ``before``, and those outside any
    session received before it. Sessions, their energy and their corrections are kept."""
    old = MeterValue.objects.filter(session__stopped_at__lt=before) | MeterValue.objects.filter(
        session__isnull=True, received_at__lt=before
    )
    return purge_in_batches(old)


@transaction.atomic
def station_record_configuration(
    *,
    station: Station,
    keys: Sequence[ReportedKey],
    unknown_keys: Sequence[str] = (),
    complete: bool = False,
) -> None:
    """Store what a GetConfiguration answer reported. ``complete``: the station was asked for
    every key, so keys it no longer reports are dropped; otherwise only the keys asked about
    change, and those it does not know are dropped."""
    now = timezone.now()
    existing = {row.key.casefold(): row for row in station.configuration_keys.all()}
    reported = {key.key.casefold() for key in keys}
    gone = set(existing) - reported if complete else {k.casefold() for k in unknown_keys}
    ConfigurationKey.objects.filter(pk__in=[existing[k].pk for k in gone if k in existing]).delete()
    for key in keys:
        row = existing.get(key.key.casefold())
        if row is None:
            ConfigurationKey.objects.create(
                station=station, key=key.key, value=key.value, readonly=key.readonly, read_at=now
            )
        else:
            row.key, row.value, row.readonly, row.read_at = key.key, key.value, key.readonly, now
            row.save(update_fields=["key", "value", "readonly", "read_at"])
    Station.objects.filter(pk=station.pk).update(configuration_read_at=now)


def station_set_autocharge_readiness(
    *, station: Station, readiness: AutochargeReadiness, detail: str = ""
) -> None:
    now = timezone.now()
    Station.objects.filter(pk=station.pk).update(
        autocharge_readiness=readiness, autocharge_detail=detail, autocharge_checked_at=now
    )
    station.autocharge_readiness, station.autocharge_detail = readiness, detail
    station.autocharge_checked_at = now


def station_interrupt_autocharge_check(*, station: Station) -> None:
    """The station went away while its Autocharge configuration was being checked."""
    Station.objects.filter(pk=station.pk, autocharge_readiness=AutochargeReadiness.CHECKING).update(
        autocharge_readiness=AutochargeReadiness.OFFLINE,
        autocharge_detail=gettext_noop("The station disconnected during the check."),
        autocharge_checked_at=timezone.now(),
    )


@transaction.atomic
def station_record_local_list(
    *,
    station: Station,
    version: int,
    full: bool,
    entries: Sequence[LocalListItem] = (),
    removed: Sequence[str] = (),
    detail: str = "",
) -> None:
    """The station accepted a SendLocalList: a full list replaces what it held, a differential
    one adds or updates ``entries`` and removes ``removed``."""
    held = station.local_list_entries
    if full:
        held.all().delete()
    else:
        held.filter(id_tag__in=[*removed, *(entry.id_tag for entry in entries)]).delete()
    LocalListEntry.objects.bulk_create(
        LocalListEntry(
            station=station, id_tag=entry.id_tag, status=entry.status, expires_at=entry.expires_at
        )
        for entry in entries
    )
    Station.objects.filter(pk=station.pk).update(
        local_list_version=version, local_list_synced_at=timezone.now(), local_list_detail=detail
    )
    station.local_list_version = version


def station_note_local_list(*, station: Station, detail: str, forget: bool = False) -> None:
    """Record why a local list could not be sent. ``forget``: the station's list is unknown
    (it reported a version mismatch or failed), so the next sync sends it whole."""
    fields: dict = {"local_list_detail": detail}
    if forget:
        fields["local_list_version"] = 0
        station.local_list_version = 0
    Station.objects.filter(pk=station.pk).update(**fields)


# --- The station's HTTP Basic password (OCPP security profiles 1 and 2) ---------------------

PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
# 20 characters: the longest password a station can be sent as its OCPP 1.6 AuthorizationKey
# (16 to 20 bytes, sent as hexadecimal), 119 bits of entropy.
GENERATED_PASSWORD_LENGTH = 20
_GENERATED_ALPHABET = string.ascii_letters + string.digits


# --- Stations and Autocharge profiles written by staff ----------------------------------------

# What the processes' authorization indexes hold of a station: what a decision looks at
# (badges.authorization.decide), and its site (smart charging's question after a status).
_STATION_INDEXED_FIELDS = ("auth_mode", "company_id", "charge_point_id", "site_id")


@transaction.atomic
def station_save(*, station: Station) -> Station:
    """Create or update a station (its password: ``station_set_password``)."""
    before = (
        None
        if station.pk is None
        else Station.objects.filter(pk=station.pk)
        .values(*_STATION_INDEXED_FIELDS, "max_power_kw")
        .first()
    )
    site_before, power_before = (
        (before["site_id"], before["max_power_kw"]) if before is not None else (None, None)
    )
    station.save()
    if before is None or any(
        before[field] != getattr(station, field) for field in _STATION_INDEXED_FIELDS
    ):
        authorization_changed()  # a new station too: the processes' indexes learn it
    if (site_before, power_before) != (station.site_id, station.max_power_kw):
        # sites: the shares of the sites it left or joined are computed again.
        for site_id in {site_before, station.site_id} - {None}:
            transaction.on_commit(
                lambda site_id=site_id: events.site_changed.send(Site, site_id=site_id)
            )
    return station


@transaction.atomic
def station_delete(*, station: Station) -> None:
    station.delete()
    authorization_changed()


def autocharge_profile_save(*, profile: AutochargeProfile) -> AutochargeProfile:
    profile.save()
    transaction.on_commit(profile_vendors.forget)
    return profile


def autocharge_profile_delete(*, profile: AutochargeProfile) -> None:
    profile.delete()
    transaction.on_commit(profile_vendors.forget)


def station_password_validate(password: str) -> None:
    """Raise ValidationError unless ``password`` is 16 to 40 printable ASCII characters, as
    OCPP 2.0.1 bounds a station's password. (The OCPP 1.6 security whitepaper allows 16 to 20
    bytes; the gateway checks that when the password is pushed as AuthorizationKey.)"""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise ValidationError(
            gettext("The password must be %(min)d to %(max)d characters long, not %(count)d.")
            % {"min": PASSWORD_MIN_LENGTH, "max": PASSWORD_MAX_LENGTH, "count": len(password)},
            code="password_length",
        )
    if not all(" " <= character <= "~" for character in password):
        raise ValidationError(
            gettext(
                "The password may only contain printable ASCII characters: letters without "
                "accents, digits, punctuation and spaces."
            ),
            code="password_charset",
        )


def station_password_generate() -> str:
    """A new random password, letters and digits, that any station can be sent."""
    return "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


def station_set_password(*, station: Station, password: str | None) -> None:
    """Set or rotate (a password) or remove (None) the password the station must present with
    HTTP Basic authentication. Only its hash is stored; raises ValidationError for a password
    OCPP does not allow."""
    if password is None:
        encoded = ""
    else:
        station_password_validate(password)
        encoded = credentials.make(password)
    now = timezone.now()
    previous = Station.objects.filter(pk=station.pk).values_list(
        "basic_auth_password_hash", flat=True
    )
    Station.objects.filter(pk=station.pk).update(
        basic_auth_password_hash=encoded,
        previous_password_hash=previous.first() or "",
        password_changed_at=now,
    )
    station.basic_auth_password_hash, station.password_changed_at = encoded, now
    record_change(
        station,
        reason=PasswordChange.PASSWORD_REMOVED if password is None else PasswordChange.PASSWORD_SET,
    )


def station_password_push_outcome(*, station: Station, taken: bool, pushed_at: datetime) -> None:
    """The station answered the push of its new password (set at ``pushed_at`` or before).
    Refused: the station still uses the previous one, which becomes its password again (unless
    staff changed it since). Taken: both stay valid until the station connects with the new one
    (``station_password_used``): a station that says yes and keeps the old one is not locked
    out."""
    if taken:
        return
    unchanged = Station.objects.filter(pk=station.pk, password_changed_at__lte=pushed_at)
    restored = unchanged.exclude(previous_password_hash="").update(
        basic_auth_password_hash=F("previous_password_hash"),
        previous_password_hash="",
        password_changed_at=timezone.now(),
    )
    if restored:
        record_change(station, reason=PasswordChange.PASSWORD_RESTORED)


def station_password_used(
    *, station_id: int, matched_hash: str, previous: bool, upgraded_hash: str = ""
) -> None:
    """The station connected with its password: ``previous``, the one being replaced (kept,
    the station has not taken the new one yet), else the current one (the previous one is
    retired). ``upgraded_hash``: the same password hashed the fast way, replacing
    ``matched_hash`` made by an earlier version. Conditional on the hash matched, so a
    password staff changed meanwhile is never overwritten."""
    field = "previous_password_hash" if previous else "basic_auth_password_hash"
    row = Station.objects.filter(pk=station_id, **{field: matched_hash})
    if upgraded_hash:
        row.update(**{field: upgraded_hash})
        matched_hash = upgraded_hash
    if not previous:
        Station.objects.filter(pk=station_id, basic_auth_password_hash=matched_hash).exclude(
            previous_password_hash=""
        ).update(previous_password_hash="")
