"""The stations' announcements (``stations.events``) turned into queued deliveries. Each
receiver runs inside the recording transaction and returns at once, without a query, when the
company concerned has no active webhook (``selectors.company_listens``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from webhooks import payloads, selectors
from webhooks.models import EventType
from webhooks.services import event_queue

logger = logging.getLogger(__name__)


def _queue(company_id: int | None, event_types: list[str], data: Callable[[], dict]) -> None:
    """Queue the event(s) for ``company_id`` if it listens. A failure here is logged, never the
    station's: the recording it rides on stays whole (a savepoint), the charge goes on."""
    if not selectors.company_listens(company_id):
        return
    try:
        with transaction.atomic():
            body = data()
            for event_type in event_types:
                event_queue(company_id=company_id, event_type=event_type, data=body)
    except Exception:
        logger.exception("Webhooks: %s for company %s not queued", event_types, company_id)


def _session_company(session) -> int | None:
    """Whose session it is, as tenancy says: its company's, or the station's company's when
    nobody's (never the station owner's when another company's, even deleted since)."""
    if session.company_id is not None:
        return session.company_id
    return session.station_company_id if not session.company_name else None


def on_session_started(sender, session, **kwargs) -> None:
    _queue(
        _session_company(session),
        [EventType.SESSION_STARTED],
        lambda: payloads.session_data(session),
    )


def on_session_stopped(sender, session, **kwargs) -> None:
    _queue(
        _session_company(session),
        [EventType.SESSION_STOPPED],
        lambda: payloads.session_data(session),
    )


def on_vehicle_refused(sender, sighting, **kwargs) -> None:
    """Every refusal is ``vehicle.refused``; one of a vehicle nobody enrolled at the company
    (its sighting has an ``unknown_vehicle`` inbox entry) is ``vehicle.unknown`` too."""
    event_types = [EventType.VEHICLE_REFUSED]
    if sighting.unknown_vehicle_id is not None:
        event_types.append(EventType.VEHICLE_UNKNOWN)
    _queue(sighting.station.company_id, event_types, lambda: payloads.refusal_data(sighting))


def on_station_connected(sender, station, **kwargs) -> None:
    _queue(
        station.company_id,
        [EventType.STATION_CONNECTED],
        lambda: payloads.station_data(station, at=timezone.now()),
    )


def on_station_disconnected(sender, station, **kwargs) -> None:
    _queue(
        station.company_id,
        [EventType.STATION_DISCONNECTED],
        lambda: payloads.station_data(station, at=timezone.now()),
    )


def on_security_event_recorded(sender, event, **kwargs) -> None:
    # An event without a station concerns several companies or none: superusers' only.
    company_id = event.station.company_id if event.station_id is not None else None
    _queue(company_id, [EventType.SECURITY_EVENT], lambda: payloads.security_event_data(event))


# (signal name in ``stations.events``, receiver)
RECEIVERS = [
    ("session_started", on_session_started),
    ("session_stopped", on_session_stopped),
    ("vehicle_refused", on_vehicle_refused),
    ("station_connected", on_station_connected),
    ("station_disconnected", on_station_disconnected),
    ("security_event_recorded", on_security_event_recorded),
]
