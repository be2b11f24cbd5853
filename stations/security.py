"""Security events: recorded, then mailed to the station company's contact, at most once per
kind and station per hour so an attack does not become a mail flood. The mail says what the
company's staff may read (``details``, never ``other_companies_details``); it is queued with the
event (supervision.outbox) and sent by the job runner, never on the station's thread."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from stations import events
from stations.models import SecurityEvent, SecurityEventKind, Severity, Station
from supervision import live
from supervision.outbox import email_queue

NOTIFY_AT_MOST_EVERY = timedelta(hours=1)


def security_event_record(
    *,
    kind: SecurityEventKind,
    severity: Severity,
    station: Station | None,
    id_tag: str = "",
    details: dict | None = None,
    other_companies_details: dict | None = None,
) -> SecurityEvent:
    """``details`` name only the station's company's stations, vehicles and badges;
    ``other_companies_details`` the rest (superusers only). Without a station, the event is
    superusers' only and mailed to nobody."""
    recipient = station.company.contact_email if station is not None else ""
    recently_notified = SecurityEvent.objects.filter(
        kind=kind,
        station=station,
        notified=True,
        created_at__gte=timezone.now() - NOTIFY_AT_MOST_EVERY,
    ).exists()
    notify = bool(recipient) and not recently_notified
    event = SecurityEvent.objects.create(
        kind=kind,
        severity=severity,
        station=station,
        id_tag=id_tag,
        details=details or {},
        other_companies_details=other_companies_details or {},
        notified=notify,
    )
    if notify:
        _queue_mail(event, recipient)  # queued in this transaction: none for an event rolled back
    live.publish(
        "security_event",
        company_id=station.company_id if station is not None else None,
        station=station.charge_point_id if station is not None else "",
        security_kind=event.kind,
    )
    events.security_event_recorded.send(sender=SecurityEvent, event=event)
    return event


def _queue_mail(event: SecurityEvent, recipient: str) -> None:
    subject = _("[Autocharge supervision] %(kind)s at %(station)s") % {
        "kind": event.get_kind_display(),
        "station": event.station,
    }
    body = _(
        "%(kind)s\n\nSeverity: %(severity)s\nStation: %(station)s\nId tag: %(id_tag)s\n"
        "Details: %(details)s\nTime: %(time)s\n"
    ) % {
        "kind": event.get_kind_display(),
        "severity": event.get_severity_display(),
        "station": event.station,
        "id_tag": event.id_tag or "-",
        "details": event.details,
        "time": timezone.localtime(event.created_at).isoformat(timespec="seconds"),
    }
    email_queue(subject=subject, body=body, recipients=[recipient])
