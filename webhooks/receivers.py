"""The stations' announcements (``stations.events``) turned into queued deliveries. Each
receiver runs inside the recording transaction and returns at once, without a query, when the
company concerned has no active webhook (``selectors.company_listens``)."""

from __future__ import annotations

from django.utils import timezone

from webhooks import payloads, selectors
from webhooks.models import EventType
from webhooks.services import event_queue


def _session_company(session) -> int | None:
    """Whose session it is, as tenancy says: its company's, or the station's company's when
    nobody's (never the station owner's when another company's, even deleted since)."""
    if session.company_id is not None:
        return session.company_id
    return session.station_company_id if not session.company_name else None


def on_session_started(sender, session, **kwargs) -> None:
    _on_session(EventType.SESSION_STARTED, session)


def on_session_stopped(sender, session, **kwargs) -> None:
    _on_session(EventType.SESSION_STOPPED, session)


def _on_session(event_type: str, session) -> None:
    company_id = _session_company(session)
    if selectors.company_listens(company_id):
        event_queue(
            company_id=company_id, event_type=event_type, data=payloads.session_data(session)
        )


def on_vehicle_refused(sender, sighting, **kwargs) -> None:
    """Every refusal is ``vehicle.refused``; one of a vehicle nobody enrolled at the company
    (its sighting has an ``unknown_vehicle`` inbox entry) is ``vehicle.unknown`` too."""
    company_id = sighting.station.company_id
    if not selectors.company_listens(company_id):
        return
    data = payloads.refusal_data(sighting)
    event_queue(company_id=company_id, event_type=EventType.VEHICLE_REFUSED, data=data)
    if sighting.unknown_vehicle_id is not None:
        event_queue(company_id=company_id, event_type=EventType.VEHICLE_UNKNOWN, data=data)


def on_station_connected(sender, station, **kwargs) -> None:
    _on_station(EventType.STATION_CONNECTED, station)


def on_station_disconnected(sender, station, **kwargs) -> None:
    _on_station(EventType.STATION_DISCONNECTED, station)


def _on_station(event_type: str, station) -> None:
    if selectors.company_listens(station.company_id):
        event_queue(
            company_id=station.company_id,
            event_type=event_type,
            data=payloads.station_data(station, at=timezone.now()),
        )


def on_security_event_recorded(sender, event, **kwargs) -> None:
    # An event without a station concerns several companies or none: superusers' only.
    company_id = event.station.company_id if event.station_id is not None else None
    if selectors.company_listens(company_id):
        event_queue(
            company_id=company_id,
            event_type=EventType.SECURITY_EVENT,
            data=payloads.security_event_data(event),
        )


# (signal name in ``stations.events``, receiver)
RECEIVERS = [
    ("session_started", on_session_started),
    ("session_stopped", on_session_stopped),
    ("vehicle_refused", on_vehicle_refused),
    ("station_connected", on_station_connected),
    ("station_disconnected", on_station_disconnected),
    ("security_event_recorded", on_security_event_recorded),
]
