"""The alerts' writes: subscriptions, and the alerts themselves (queued e-mails remembered as
notices), from the stations' signals (``alerts.receivers``) and the scheduled jobs."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from alerts import listeners, selectors
from alerts.mails import alert_mail_queue, portal_url
from alerts.models import AlertKind, AlertNotice, AlertSubscription
from badges.models import VehicleSighting
from stations.models import ConnectionState, Station, StationConnection


# --- Subscriptions ---------------------------------------------------------------------------
@transaction.atomic
def alert_subscription_save(*, subscription: AlertSubscription) -> AlertSubscription:
    subscription.full_clean()
    subscription.save()
    listeners.forget()
    return subscription


@transaction.atomic
def alert_subscription_delete(*, subscription: AlertSubscription) -> None:
    subscription.delete()
    listeners.forget()


# --- Alerts from the stations' signals (inside the recording transaction) --------------------
def connector_faulted_alert(*, station: Station, connector_id: int, error_code: str) -> int:
    """Mail the company's subscribers that a connector reports Faulted: how many mails."""
    context = {
        "station": station,
        "connector_id": connector_id,
        "error_code": error_code,
        "station_url": portal_url("portal:station-detail", station.pk),
        "time": timezone.now(),
    }
    return _alert_station_event(
        kind=AlertKind.CONNECTOR_FAULTED, station=station, template="faulted", context=context
    )


def unknown_vehicle_alert(*, sighting: VehicleSighting) -> int:
    """Mail the station company's subscribers that an unknown vehicle was refused there."""
    station, entry = sighting.station, sighting.unknown_vehicle
    context = {
        "station": station,
        "sighting": sighting,
        "entry": entry,
        "station_url": portal_url("portal:station-detail", station.pk),
        "entry_url": portal_url("admin:badges_unknownvehicle_change", entry.pk),
    }
    return _alert_station_event(
        kind=AlertKind.UNKNOWN_VEHICLE, station=station, template="unknown_vehicle", context=context
    )


@transaction.atomic
def _alert_station_event(*, kind: AlertKind, station: Station, template: str, context) -> int:
    now = timezone.now()
    throttled = AlertNotice.objects.filter(
        subscription=OuterRef("pk"),
        kind=kind,
        station=station,
        created_at__gte=now - timedelta(minutes=settings.ALERTS_THROTTLE_MINUTES),
    )
    subscriptions = selectors.subscribers(company_id=station.company_id, kind=kind).exclude(
        Exists(throttled)
    )
    sent = 0
    for subscription in subscriptions:
        email = alert_mail_queue(subscription=subscription, template=template, context=context)
        AlertNotice.objects.create(
            subscription=subscription, kind=kind, station=station, email=email, created_at=now
        )
        sent += 1
    return sent


# --- Scheduled jobs (supervision.jobs) -------------------------------------------------------
def offline_alerts_send() -> int:
    """Mail each subscriber the company's stations disconnected for longer than their delay,
    once per disconnection (the connection that ended): how many mails."""
    now = timezone.now()
    last_connection = StationConnection.objects.filter(station=OuterRef("pk")).order_by(
        "-opened_at"
    )
    sent = 0
    for subscription in selectors.subscribers(kind=AlertKind.STATION_OFFLINE):
        told = AlertNotice.objects.filter(
            subscription=subscription, station_connection=OuterRef("ended_connection")
        )
        offline = list(
            Station.objects.filter(
                company_id=subscription.company_id,
                connection_state=ConnectionState.DISCONNECTED,
                archived_at__isnull=True,
            )
            .annotate(
                ended_connection=Subquery(last_connection.values("pk")[:1]),
                offline_since=Subquery(last_connection.values("closed_at")[:1]),
            )
            .filter(offline_since__lte=now - timedelta(minutes=subscription.offline_minutes))
            .exclude(Exists(told))
            .order_by("offline_since")
        )
        if offline:
            sent += _offline_alert(subscription=subscription, stations=offline, now=now)
    return sent


def _offline_alert(*, subscription: AlertSubscription, stations: list[Station], now) -> int:
    for station in stations:
        station.url = portal_url("portal:station-detail", station.pk)
    try:
        with transaction.atomic():
            email = alert_mail_queue(
                subscription=subscription,
                template="offline",
                context={
                    "stations": stations,
                    "station_list_url": portal_url("portal:station-list"),
                },
            )
            AlertNotice.objects.bulk_create(
                AlertNotice(
                    subscription=subscription,
                    kind=AlertKind.STATION_OFFLINE,
                    station=station,
                    station_connection_id=station.ended_connection,
                    email=email,
                    created_at=now,
                )
                for station in stations
            )
    except IntegrityError:  # another runner told about them meanwhile (a lease handover)
        return 0
    return 1


def daily_digests_send() -> int:
    """Once the day's digest time has come, mail each subscriber who has not had today's the
    last 24 hours of their company: how many mails."""
    now = timezone.localtime()
    hours, minutes = (int(part) for part in settings.ALERTS_DIGEST_TIME.split(":"))
    due_at = timezone.make_aware(datetime.combine(now.date(), time(hours, minutes)))
    if now < due_at:
        return 0
    already = AlertNotice.objects.filter(
        subscription=OuterRef("pk"), kind=AlertKind.DAILY_DIGEST, created_at__gte=due_at
    )
    sent = 0
    for subscription in selectors.subscribers(kind=AlertKind.DAILY_DIGEST).exclude(Exists(already)):
        digest = selectors.digest(
            company=subscription.company, start=due_at - timedelta(days=1), end=due_at
        )
        with transaction.atomic():
            email = alert_mail_queue(
                subscription=subscription,
                template="digest",
                context={
                    "digest": digest,
                    "report_url": portal_url("portal:report"),
                    "station_list_url": portal_url("portal:station-list"),
                },
            )
            AlertNotice.objects.create(
                subscription=subscription,
                kind=AlertKind.DAILY_DIGEST,
                email=email,
                created_at=timezone.now(),
            )
        sent += 1
    return sent


def alert_notices_prune() -> int:
    """Forget the alerts mailed more than ``ALERTS_RETENTION_DAYS`` ago, but those about a
    station still offline: the offline job would tell about that disconnection again."""
    old = AlertNotice.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=settings.ALERTS_RETENTION_DAYS)
    ).exclude(
        kind=AlertKind.STATION_OFFLINE,
        station__connection_state=ConnectionState.DISCONNECTED,
    )
    deleted, _per_model = old.delete()
    return deleted
