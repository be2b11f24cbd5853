"""The ``data`` of each event: what the company concerned may know, as JSON values. Only its
own records: a refusal at its station names a vehicle's plate only when the vehicle is its own;
a security event carries the details its staff read, never ``other_companies_details``."""

from __future__ import annotations

from datetime import datetime

from badges.models import Badge, VehicleSighting
from stations.models import ChargingSession, SecurityEvent, Station


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def session_data(session: ChargingSession) -> dict:
    return {
        "station": session.station.charge_point_id,
        "connector": session.connector_id,
        "transaction_id": session.transaction_id,
        "station_transaction_id": session.station_transaction_id or None,
        "id_tag": session.id_tag,
        "badge_id_tag": session.badge_rfid or None,
        "vehicle_plate": session.vehicle_plate or None,
        "usage": session.usage or None,
        "auth_method": session.auth_method or None,
        "meter_start_wh": session.meter_start,
        "meter_stop_wh": session.meter_stop,
        "energy_wh": session.energy_wh,
        "started_at": _when(session.started_at),
        "stopped_at": _when(session.stopped_at),
        "stop_reason": session.stop_reason or None,
    }


def refusal_data(sighting: VehicleSighting) -> dict:
    station = sighting.station
    own_badge = (
        Badge.objects.filter(rfid=f"VID:{sighting.mac}", company_id=station.company_id)
        .select_related("vehicle")
        .first()
    )
    vehicle = own_badge.vehicle if own_badge is not None else None
    return {
        "station": station.charge_point_id,
        "connector": sighting.connector_id,
        "id_tag": sighting.id_tag,
        "mac": sighting.mac,
        "refusal_reason": sighting.reason,
        "vehicle_plate": vehicle.license_plate if vehicle is not None else None,
        "unknown_vehicle_id": sighting.unknown_vehicle_id,
        "seen_at": _when(sighting.seen_at),
    }


def station_data(station: Station, *, at: datetime) -> dict:
    return {"station": station.charge_point_id, "name": station.name or None, "at": _when(at)}


def security_event_data(event: SecurityEvent) -> dict:
    return {
        "security_event_id": event.pk,
        "kind": event.kind,
        "severity": event.severity,
        "station": event.station.charge_point_id if event.station else None,
        "id_tag": event.id_tag or None,
        "details": event.details,
        "created_at": _when(event.created_at),
    }
