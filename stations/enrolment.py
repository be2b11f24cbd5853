"""Vehicles meeting stations: authorization requests with their side effects (pairing, the
unknown-vehicle inbox's sightings, security events), enrolment and pairing. Here, not in
``badges``, because they need stations (``badges`` sits below ``stations``).

The OCPP gateway calls ``authorization_request`` for Authorize and StartTransaction; the admin
and the REST API call the enrolment and pairing functions. Every function commits before it
returns.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from badges import access
from badges.authorization import AuthorizationStatus, Decision, Reason, authorize
from badges.identifiers import IdTagError, mac_of, normalize_id_tag, oui_organisation
from badges.models import (
    Badge,
    BadgeMode,
    BadgeState,
    BadgeType,
    BadgeUsage,
    EnrolledVia,
    InboxStatus,
    PairingOutcome,
    PairingWindow,
    UnknownVehicle,
    VehicleSighting,
    autocharge_description,
)
from badges.services import EnrolmentError, check_shared_mac
from fleet.models import AuthorizationGroup, Vehicle
from stations import events
from stations.models import (
    ChargingSession,
    Connector,
    SecurityEvent,
    SecurityEventKind,
    Severity,
    Station,
)
from stations.security import security_event_record
from supervision import compiled, live
from supervision.compiled import Param
from supervision.history import ChangeSource, change_source


@dataclass(frozen=True)
class Enrolment:
    badge: Badge
    warnings: list[str] = field(default_factory=list)


# --- Authorization requests from stations ---------------------------------------------------


def authorization_request(
    *,
    id_tag: str,
    station: Station,
    connector_id: int | None = None,
    log_entry_id: UUID | None = None,
    identifier_unsupported: bool = False,
) -> Decision:
    """Decide for a tag a station presents, and act on what the decision reveals:

    - an unknown ``VID:`` at a station armed for pairing becomes that vehicle's badge;
    - any other refused ``VID:`` is recorded (the inbox gathers the unknown ones);
    - the same MAC charging elsewhere, or refused across companies, is a security event.

    A decision with nothing to record only reads: no write transaction (on SQLite, one would
    take the database's write lock and queue behind the message log's inserts).
    """
    decision = authorize(
        id_tag=id_tag,
        station=station,
        identifier_unsupported=identifier_unsupported,
        connector_id=connector_id,
    )
    mac = _recorded_mac(decision)
    if mac is None:
        return decision
    return _act_on_refusal(
        decision=decision,
        mac=mac,
        id_tag=id_tag,
        station=station,
        connector_id=connector_id,
        log_entry_id=log_entry_id,
    )


def _recorded_mac(decision: Decision) -> str | None:
    """The MAC of a refused vehicle whose refusal is recorded (inbox, sighting, security
    events); None for anything else (an acceptance, an RFID card, a tag that is no MAC)."""
    if decision.accepted or decision.reason in (
        Reason.MALFORMED_ID_TAG,
        Reason.UNSUPPORTED_IDENTIFIER,
    ):
        return None
    return mac_of(decision.id_tag)


@dataclass(frozen=True)
class VehicleRefusal:
    """A vehicle refused by a decision taken from memory (``badges.authorization_index``),
    whose records are written later, with others (``vehicle_refusals_record``)."""

    decision: Decision
    mac: str
    sent_id_tag: str
    station_id: int
    log_entry_id: UUID | None
    seen_at: datetime


def vehicle_refusal(
    decision: Decision, *, id_tag: str, station_id: int, log_entry_id: UUID | None
) -> VehicleRefusal | None:
    """What to record of an Authorize's decision taken from memory, if anything. Never a
    refusal a pairing window could turn into an enrolment: the index leaves stations with an
    open window to the database."""
    mac = _recorded_mac(decision)
    if mac is None:
        return None
    return VehicleRefusal(
        decision=decision,
        mac=mac,
        sent_id_tag=id_tag,
        station_id=station_id,
        log_entry_id=log_entry_id,
        seen_at=timezone.now(),
    )


@transaction.atomic
def vehicle_refusals_record(refusals: list[VehicleRefusal]) -> None:
    """Record refusals taken from memory as ``authorization_request`` records its own (the
    inbox, sightings, security events), in one transaction and a few queries for the lot: a
    fleet's unknown vehicles are a fifth of its Authorize."""
    stations = Station.objects.in_bulk({refusal.station_id for refusal in refusals})
    refusals = [refusal for refusal in refusals if refusal.station_id in stations]
    plugged = _plugged_connectors(stations)
    entries = _inbox_entries(
        {
            (stations[refusal.station_id].company_id, refusal.mac): refusal
            for refusal in refusals
            if refusal.decision.reason == Reason.UNKNOWN_BADGE
        }
    )
    sightings = []
    for refusal in refusals:
        station, decision = stations[refusal.station_id], refusal.decision
        entry = entries.get((station.company_id, refusal.mac))
        if entry is not None and decision.reason == Reason.UNKNOWN_BADGE:
            _count_attempt(entry, decision=decision, now=refusal.seen_at)
        else:
            entry = None
        sightings.append(
            VehicleSighting(
                mac=refusal.mac,
                id_tag=refusal.sent_id_tag[:64],
                station=station,
                connector_id=plugged.get(station.pk),
                reason=decision.reason,
                log_entry_id=refusal.log_entry_id,
                seen_at=refusal.seen_at,
                unknown_vehicle=entry,
            )
        )
    for entry in entries.values():
        _INBOX_ENTRY_COUNTED.rowcount(
            entry=entry.pk,
            attempts=entry.attempts,
            last_seen_at=entry.last_seen_at,
            last_reason=entry.last_reason,
            status=entry.status,
            badge=entry.badge_id,
        )
    VehicleSighting.objects.bulk_create(sightings)
    for sighting, refusal in zip(sightings, refusals, strict=True):
        _announce_sighting(sighting, id_tag=refusal.decision.id_tag)
        if refusal.decision.status == AuthorizationStatus.CONCURRENT_TX:
            _record_concurrent_vid(
                decision=refusal.decision,
                station=sighting.station,
                connector_id=sighting.connector_id,
            )
    _detect_probing_of({refusal.mac: refusal for refusal in refusals}.values(), stations)


# An inbox entry's count after a batch of refusals, one compiled statement an entry:
# ``bulk_update`` built a CASE of every entry for every column, a third of the batch's time
# (py-spy, a fleet's unknown vehicles at 400 a second).
_INBOX_ENTRY_COUNTED = compiled.update(
    lambda: UnknownVehicle.objects.filter(pk=Param("entry")),
    attempts=Param("attempts"),
    last_seen_at=Param("last_seen_at"),
    last_reason=Param("last_reason"),
    status=Param("status"),
    badge=Param("badge"),
)


def _plugged_connectors(stations: dict[int, Station]) -> dict[int, int]:
    """``_plugged_connector`` for many stations at once: station id → its one plugged
    connector without a session, for the stations that have exactly one."""
    plugged = defaultdict(set)
    for station_id, connector_id in Connector.objects.filter(
        station_id__in=stations, status__in=["Preparing", "Occupied"], connector_id__gt=0
    ).values_list("station_id", "connector_id"):
        plugged[station_id].add(connector_id)
    for station_id, connector_id in (
        ChargingSession.objects.active()
        .filter(station_id__in=stations)
        .values_list("station_id", "connector_id")
    ):
        plugged[station_id].discard(connector_id)
    return {station_id: min(ids) for station_id, ids in plugged.items() if len(ids) == 1}


def _inbox_entries(wanted: dict[tuple[int, str], VehicleRefusal]) -> dict:
    """The inbox entries of these (company, MAC), locked, made where missing."""

    def existing():
        return {
            (entry.company_id, entry.mac): entry
            for entry in UnknownVehicle.objects.select_for_update().filter(
                company_id__in={company for company, _mac in wanted},
                mac__in={mac for _company, mac in wanted},
            )
            if (entry.company_id, entry.mac) in wanted
        }

    entries = existing()
    missing = [key for key in wanted if key not in entries]
    if not missing:
        return entries
    UnknownVehicle.objects.bulk_create(
        [
            UnknownVehicle(
                company_id=company_id,
                mac=mac,
                id_tag=wanted[company_id, mac].decision.id_tag,
                first_seen_at=wanted[company_id, mac].seen_at,
                last_seen_at=wanted[company_id, mac].seen_at,
                last_reason=wanted[company_id, mac].decision.reason,
                vendor_hint=oui_organisation(mac),
            )
            for company_id, mac in missing
        ],
        ignore_conflicts=True,  # made meanwhile by another process: counted below all the same
    )
    return existing()


@transaction.atomic
def _act_on_refusal(
    *,
    decision: Decision,
    mac: str,
    id_tag: str,
    station: Station,
    connector_id: int | None,
    log_entry_id: UUID | None,
) -> Decision:
    now = timezone.now()
    if connector_id is None:
        connector_id = _plugged_connector(station)
    if decision.reason == Reason.UNKNOWN_BADGE:
        window = _armed_window(station=station, connector_id=connector_id, now=now)
        if window is not None:
            return _pair(window=window, id_tag=decision.id_tag, station=station, now=now)
    _record_sighting(
        decision=decision,
        mac=mac,
        sent_id_tag=id_tag,
        station=station,
        connector_id=connector_id,
        log_entry_id=log_entry_id,
        now=now,
    )
    if decision.status == AuthorizationStatus.CONCURRENT_TX:
        _record_concurrent_vid(decision=decision, station=station, connector_id=connector_id)
    return decision


def _record_concurrent_vid(*, decision: Decision, station: Station, connector_id: int | None):
    """The station's company reads where the vehicle charges among its own stations and how
    many other companies' stations it charges at; their names are for superusers only."""
    own, others = [], []
    elsewhere = decision.badge.sessions.active().exclude(station=station)
    for charge_point_id, company_id in elsewhere.values_list(
        "station__charge_point_id", "station__company_id"
    ):
        (own if company_id == station.company_id else others).append(charge_point_id)
    details = {"charging_at": own, "connector_id": connector_id}
    if others:
        details["charging_at_other_companies_stations"] = len(others)
    security_event_record(
        kind=SecurityEventKind.CONCURRENT_VID,
        severity=Severity.CRITICAL,
        station=station,
        id_tag=decision.id_tag,
        details=details,
        other_companies_details={"charging_at": others} if others else None,
    )


def _plugged_connector(station: Station) -> int | None:
    """Authorize carries no connector: the one connector with a vehicle plugged in and no
    session is where the vehicle is (OCPP 1.6 says Preparing; 2.0.1 says Occupied for an
    EVSE, charging or not)."""
    plugged = list(
        Connector.objects.filter(
            station=station, status__in=["Preparing", "Occupied"], connector_id__gt=0
        )
        .exclude(
            connector_id__in=ChargingSession.objects.active()
            .filter(station=station)
            .values("connector_id")
        )
        .values_list("connector_id", flat=True)[:2]
    )
    return plugged[0] if len(plugged) == 1 else None


def _armed_window(*, station: Station, connector_id: int | None, now: datetime):
    window = PairingWindow.objects.select_for_update().open(now).filter(station=station).first()
    if window is None:
        return None
    if window.connector_id is not None and window.connector_id != connector_id:
        return None
    return window


def _pair(*, window: PairingWindow, id_tag: str, station: Station, now: datetime) -> Decision:
    with change_source(ChangeSource.PAIRING, user=window.opened_by):
        enrolment = _enrol(
            id_tag=id_tag,
            vehicle=window.vehicle,
            enrolled_by=window.opened_by,
            via=EnrolledVia.PAIRING,
            station_for_groups=station,
            acknowledge_shared_mac=True,  # acknowledged when the window was opened
        )
    window.closed_at = now
    window.outcome = PairingOutcome.PAIRED
    window.badge = enrolment.badge
    window.save(update_fields=["closed_at", "outcome", "badge"])
    decision = authorize(id_tag=id_tag, station=station)
    return dataclasses.replace(decision, reason=Reason.PAIRED) if decision.accepted else decision


def _record_sighting(
    *,
    decision: Decision,
    mac: str,
    sent_id_tag: str,
    station: Station,
    connector_id: int | None,
    log_entry_id: UUID | None,
    now: datetime,
) -> None:
    entry = None
    if decision.reason == Reason.UNKNOWN_BADGE:
        # The station's company's entry: each company counts and decides on its own.
        entry, _created = UnknownVehicle.objects.select_for_update().get_or_create(
            company_id=station.company_id,
            mac=mac,
            defaults={
                "id_tag": decision.id_tag,
                "first_seen_at": now,
                "last_seen_at": now,
                "last_reason": decision.reason,
                "vendor_hint": oui_organisation(mac),
            },
        )
        _count_attempt(entry, decision=decision, now=now)
        entry.save(update_fields=["attempts", "last_seen_at", "last_reason", "status", "badge"])
    sighting = VehicleSighting.objects.create(
        mac=mac,
        id_tag=sent_id_tag[:64],
        station=station,
        connector_id=connector_id,
        reason=decision.reason,
        log_entry_id=log_entry_id,
        seen_at=now,
        unknown_vehicle=entry,
    )
    _announce_sighting(sighting, id_tag=decision.id_tag)
    _detect_probing(mac=mac, id_tag=decision.id_tag, station=station, now=now)


def _count_attempt(entry: UnknownVehicle, *, decision: Decision, now: datetime) -> None:
    entry.attempts += 1
    entry.last_seen_at = max(now, entry.last_seen_at)
    entry.last_reason = decision.reason
    if entry.status == InboxStatus.ENROLLED:
        # Its badge was deleted or re-pointed to another MAC: the vehicle is unknown again.
        # A dismissed entry stays dismissed (the visitor came back; staff already decided).
        entry.status, entry.badge = InboxStatus.OPEN, None


def _announce_sighting(sighting: VehicleSighting, *, id_tag: str) -> None:
    station = sighting.station
    live.publish(
        "vehicle_refused",
        company_id=station.company_id,
        station=station.charge_point_id,
        id_tag=id_tag,
        reason=sighting.reason,
    )
    events.vehicle_refused.send(sender=VehicleSighting, sighting=sighting)


def _detect_probing_of(refusals, stations: dict[int, Station]) -> None:
    """``_detect_probing`` for the MACs of these refusals (one each) that the window's
    sightings show at enough companies' stations: one query for all of them first."""
    by_mac = {refusal.mac: refusal for refusal in refusals}
    since = timezone.now() - timedelta(minutes=settings.AUTOCHARGE_PROBING_WINDOW_MINUTES)
    companies = defaultdict(set)
    for mac, company_id in VehicleSighting.objects.filter(
        mac__in=by_mac, seen_at__gte=since
    ).values_list("mac", "station__company_id"):
        companies[mac].add(company_id)
    for mac, seen_by in companies.items():
        if len(seen_by) >= settings.AUTOCHARGE_PROBING_COMPANIES:
            refusal = by_mac[mac]
            _detect_probing(
                mac=mac,
                id_tag=refusal.decision.id_tag,
                station=stations[refusal.station_id],
                now=refusal.seen_at,
            )


def _detect_probing(*, mac: str, id_tag: str, station: Station, now: datetime) -> None:
    """A MAC refused at stations of several companies in a short time: cloned or probing.
    Recorded without a station: it concerns several companies, so superusers only see it (and
    no company's contact is mailed what the others' stations saw)."""
    since = now - timedelta(minutes=settings.AUTOCHARGE_PROBING_WINDOW_MINUTES)
    seen = VehicleSighting.objects.filter(mac=mac, seen_at__gte=since)
    companies = set(seen.values_list("station__company_id", flat=True))
    if len(companies) < settings.AUTOCHARGE_PROBING_COMPANIES:
        return
    already = SecurityEvent.objects.filter(
        kind=SecurityEventKind.MAC_PROBING, id_tag=id_tag, created_at__gte=since
    )
    if already.exists():
        return
    stations = seen.order_by("station__charge_point_id").values_list(
        "station__charge_point_id", flat=True
    )
    security_event_record(
        kind=SecurityEventKind.MAC_PROBING,
        severity=Severity.WARNING,
        station=None,
        id_tag=id_tag,
        details={
            "companies": len(companies),
            "stations": list(stations.distinct()),
            "latest_station": station.charge_point_id,
            "window_minutes": settings.AUTOCHARGE_PROBING_WINDOW_MINUTES,
        },
    )


# --- Enrolment ------------------------------------------------------------------------------


@transaction.atomic
def badge_enrol(
    *,
    id_tag: str,
    vehicle: Vehicle,
    enrolled_by=None,
    via: EnrolledVia = EnrolledVia.INBOX,
    acknowledge_shared_mac: bool = False,
) -> Enrolment:
    """Create a vehicle's Autocharge badge with the seed's values: RFID ``VID:<MAC>``, visual
    number = MAC, physical, enabled, professional, vehicle mode, the vehicle's company."""
    with change_source(ChangeSource.ENROLMENT, user=enrolled_by):
        return _enrol(
            id_tag=id_tag,
            vehicle=vehicle,
            enrolled_by=enrolled_by,
            via=via,
            station_for_groups=None,
            acknowledge_shared_mac=acknowledge_shared_mac,
        )


def _enrol(
    *,
    id_tag: str,
    vehicle: Vehicle,
    enrolled_by,
    via: EnrolledVia,
    station_for_groups: Station | None,
    acknowledge_shared_mac: bool,
) -> Enrolment:
    check_shared_mac(vehicle=vehicle, acknowledged=acknowledge_shared_mac)
    try:
        canonical = normalize_id_tag(id_tag)
    except IdTagError as error:
        raise EnrolmentError({"id_tag": str(error)}) from None
    mac = mac_of(canonical)
    if mac is None:
        raise EnrolmentError(
            _("Only VID: tags (vehicle MAC addresses) are enrolled into vehicles.")
        )
    badge = Badge(
        rfid=canonical,
        visual_number=mac,
        type=BadgeType.PHYSICAL,
        state=BadgeState.ENABLED,
        usage=BadgeUsage.PROFESSIONAL,
        mode=BadgeMode.VEHICLE,
        company=vehicle.company,
        vehicle=vehicle,
        description=autocharge_description(vehicle),
        enrolled_via=via,
        enrolled_by=enrolled_by,
    )
    try:
        badge.full_clean()
    except ValidationError as error:  # e.g. a badge for this MAC was created meanwhile
        raise EnrolmentError(error.message_dict) from None
    groups = None
    if station_for_groups is not None and station_for_groups.company_id != vehicle.company_id:
        groups = AuthorizationGroup.objects.filter(
            company=vehicle.company, stations=station_for_groups
        )
    access.badge_save(badge=badge, groups=groups)
    warnings = []
    other_macs = list(
        Badge.objects.autocharge()
        .filter(vehicle=vehicle)
        .exclude(pk=badge.pk)
        .values_list("rfid", flat=True)
    )
    if other_macs:
        warnings.append(
            _(
                "%(plate)s already had the Autocharge badge %(badges)s: this vehicle may change "
                "its MAC address. Both badges are kept."
            )
            % {"plate": vehicle.license_plate, "badges": ", ".join(other_macs)}
        )
        # Paired at a partner's station: that company must not read the vehicle and its
        # badges, so the event is superusers' only (no station), naming the station itself.
        event_station = station_for_groups
        details = {"vehicle": vehicle.license_plate, "previous": other_macs}
        if event_station is not None and event_station.company_id != vehicle.company_id:
            details["paired_at"] = event_station.charge_point_id
            event_station = None
        security_event_record(
            kind=SecurityEventKind.MAC_CHANGED,
            severity=Severity.INFO,
            station=event_station,
            id_tag=canonical,
            details=details,
        )
    return Enrolment(badge=badge, warnings=warnings)


@transaction.atomic
def unknown_vehicle_enrol(
    *,
    entry: UnknownVehicle,
    vehicle: Vehicle,
    enrolled_by=None,
    acknowledge_shared_mac: bool = False,
) -> Enrolment:
    entry = UnknownVehicle.objects.select_for_update().get(pk=entry.pk)
    if entry.status == InboxStatus.ENROLLED:
        raise EnrolmentError(
            _("%(tag)s is already enrolled.") % {"tag": entry.id_tag}, code="enrolled"
        )
    if vehicle.company_id != entry.company_id:
        # The badge would resolve another company's entry, never this one.
        raise EnrolmentError(
            {
                "vehicle": _(
                    "%(plate)s belongs to %(owner)s, and this unknown vehicle was seen by "
                    "%(company)s: enrol it into one of %(company)s's vehicles."
                )
                % {
                    "plate": vehicle.license_plate,
                    "owner": vehicle.company,
                    "company": entry.company,
                }
            }
        )
    return badge_enrol(
        id_tag=entry.id_tag,
        vehicle=vehicle,
        enrolled_by=enrolled_by,
        via=EnrolledVia.INBOX,
        acknowledge_shared_mac=acknowledge_shared_mac,
    )


# --- Pairing mode ---------------------------------------------------------------------------

MAX_PAIRING_MINUTES = 60


@transaction.atomic
def pairing_open(
    *,
    station: Station,
    vehicle: Vehicle,
    minutes: int | None = None,
    connector_id: int | None = None,
    opened_by=None,
    acknowledge_shared_mac: bool = False,
) -> PairingWindow:
    """Arm ``station`` so the next unknown ``VID:`` presented there becomes ``vehicle``'s."""
    minutes = settings.AUTOCHARGE_PAIRING_MINUTES if minutes is None else minutes
    if not 1 <= minutes <= MAX_PAIRING_MINUTES:
        raise EnrolmentError(
            {
                "minutes": _("A pairing window lasts 1 to %(max)d minutes.")
                % {"max": MAX_PAIRING_MINUTES}
            }
        )
    check_shared_mac(vehicle=vehicle, acknowledged=acknowledge_shared_mac)
    permitted = (
        station.company_id == vehicle.company_id
        or AuthorizationGroup.objects.filter(company=vehicle.company_id, stations=station).exists()
    )
    if not permitted:
        raise EnrolmentError(
            {
                "vehicle": _(
                    "%(company)s's vehicles may not charge at %(station)s: neither its station "
                    "nor in one of its authorization groups."
                )
                % {"company": vehicle.company, "station": station}
            }
        )
    now = timezone.now()
    for window in _unclosed_windows(station):
        if window.expires_at > now:
            raise EnrolmentError(
                _("%(station)s is already armed for %(vehicle)s until %(time)s.")
                % {
                    "station": station,
                    "vehicle": window.vehicle.license_plate,
                    "time": timezone.localtime(window.expires_at).strftime("%H:%M"),
                },
                code="armed",
            )
        window.closed_at, window.outcome = window.expires_at, PairingOutcome.EXPIRED
        window.save(update_fields=["closed_at", "outcome"])
    # Processes answering Authorize from memory leave this station's to the database (pairing).
    access.authorization_changed()
    return PairingWindow.objects.create(
        station=station,
        connector_id=connector_id,
        vehicle=vehicle,
        opened_by=opened_by,
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )


def _unclosed_windows(station: Station):
    return PairingWindow.objects.select_for_update().filter(station=station, closed_at__isnull=True)


@transaction.atomic
def pairing_cancel(*, station: Station) -> PairingWindow | None:
    """Close the station's open window, if any; an expired one is closed as expired."""
    window = _unclosed_windows(station).first()
    if window is None:
        return None
    now = timezone.now()
    if window.expires_at > now:
        window.closed_at, window.outcome = now, PairingOutcome.CANCELLED
    else:
        window.closed_at, window.outcome = window.expires_at, PairingOutcome.EXPIRED
    window.save(update_fields=["closed_at", "outcome"])
    return window
