"""The stations' signals, turned into alerts. On the stations' hot path: each receiver
returns before any query unless someone listens to the company (``alerts.listeners``)."""

from __future__ import annotations

from alerts import listeners, services
from alerts.models import AlertKind
from stations import events

FAULTED = "Faulted"  # the same word in OCPP 1.6 and 2.0.1


def on_connector_status_changed(sender, *, station, connector_id, status, error_code="", **_):
    if status != FAULTED:
        return
    if station.company_id not in listeners.companies_listening(AlertKind.CONNECTOR_FAULTED):
        return
    services.connector_faulted_alert(
        station=station, connector_id=connector_id, error_code=error_code
    )


def on_vehicle_refused(sender, *, sighting, **_):
    if sighting.unknown_vehicle_id is None:
        return
    if sighting.station.company_id not in listeners.companies_listening(AlertKind.UNKNOWN_VEHICLE):
        return
    services.unknown_vehicle_alert(sighting=sighting)


def connect() -> None:
    events.connector_status_changed.connect(
        on_connector_status_changed, dispatch_uid="alerts.connector_faulted"
    )
    events.vehicle_refused.connect(on_vehicle_refused, dispatch_uid="alerts.unknown_vehicle")
