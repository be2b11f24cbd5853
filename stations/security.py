"""Security events: recorded, then mailed to the station company's contact, at most once per
kind and station per hour so an attack does not become a mail flood. The mail says what the
company's staff may read (``details``, never ``other_companies_details``); it is queued with the
event (supervision.outbox) and sent by the job runner, never on the station's thread."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stations import events
from stations.models import SecurityEvent, SecurityEventKind, Severity, Station
from supervision import live
from supervision.outbox import email_queue

NOTIFY_AT_MOST_EVERY = timedelta(hours=1)
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


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


# What the services put in ``details``, as the mail names it; another key is shown with its
# underscores as spaces.
DETAIL_LABELS = {
    "charging_at": gettext_lazy("Charging at"),
    "charging_at_other_companies_stations": gettext_lazy(
        "Stations of other companies where it charges"
    ),
    "connector_id": gettext_lazy("Connector"),
    "takeovers_in_the_last_hour": gettext_lazy("Connections replaced in the last hour"),
    "vehicle": gettext_lazy("Vehicle"),
    "previous": gettext_lazy("Previous MAC addresses"),
    "paired_at": gettext_lazy("Paired at"),
    "attempts": gettext_lazy("Attempts"),
    "address": gettext_lazy("Address"),
    "addresses": gettext_lazy("Addresses"),
    "reasons": gettext_lazy("Reasons"),
    "charge_point_ids": gettext_lazy("Station identities tried"),
    "locked_out_until": gettext_lazy("Locked out until"),
    "last_attempt_at": gettext_lazy("Last attempt"),
    "type": gettext_lazy("Type"),
    "timestamp": gettext_lazy("Time at the station"),
    "tech_info": gettext_lazy("Technical information"),
    "station": gettext_lazy("Station"),
    "stations": gettext_lazy("Stations"),
    "latest_station": gettext_lazy("Latest station"),
    "companies": gettext_lazy("Companies"),
    "window_minutes": gettext_lazy("Over (minutes)"),
}


def _readable(value) -> str:
    """A detail's value as a line of text: lists joined, counts as "value (count)", times in
    local time and the reader's format."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_naive(moment):
            return value
        return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if isinstance(value, dict):
        return ", ".join(f"{key} ({count})" for key, count in value.items()) or "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "–"
    if value is None or value == "":
        return "–"
    return str(value)


def security_event_mail(event: SecurityEvent) -> tuple[str, str]:
    """The subject and the plain-text body of the mail about ``event``, in the current
    language: each detail on a line of its own, never the stored dict."""
    subject = _("[Autocharge supervision] %(kind)s at %(station)s") % {
        "kind": event.get_kind_display(),
        "station": event.station.charge_point_id,
    }
    details = [
        (str(DETAIL_LABELS.get(key, key.replace("_", " "))), _readable(value))
        for key, value in event.details.items()
    ]
    body = render_to_string(
        "stations/emails/security_event.txt",
        {
            "event": event,
            "details": details,
            "time": date_format(timezone.localtime(event.created_at), "DATETIME_FORMAT"),
        },
    )
    return subject, body


def _queue_mail(event: SecurityEvent, recipient: str) -> None:
    with translation.override(settings.COMPANY_CONTACT_LANGUAGE):
        subject, body = security_event_mail(event)
    email_queue(subject=subject, body=body, recipients=[recipient])
