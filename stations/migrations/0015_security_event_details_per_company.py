from django.db import migrations

OTHERS_COUNT = "charging_at_other_companies_stations"


def scope_details(apps, schema_editor):
    """The events recorded before: what they name of other companies moves where superusers
    only read it, as the services now record it."""
    SecurityEvent = apps.get_model("stations", "SecurityEvent")
    Station = apps.get_model("stations", "Station")
    Badge = apps.get_model("badges", "Badge")
    company_of_station = dict(Station.objects.values_list("charge_point_id", "company_id"))

    for event in SecurityEvent.objects.filter(kind="concurrent_vid", station__isnull=False):
        elsewhere = event.details.get("charging_at") or []
        own = [cp for cp in elsewhere if company_of_station.get(cp) == event.station.company_id]
        others = [cp for cp in elsewhere if cp not in own]
        if others:
            event.details = {**event.details, "charging_at": own, OTHERS_COUNT: len(others)}
            event.other_companies_details = {"charging_at": others}
            event.save(update_fields=["details", "other_companies_details"])

    # Several companies' business: superusers' only, as ``_detect_probing`` records it now.
    for event in SecurityEvent.objects.filter(kind="mac_probing", station__isnull=False):
        event.details = {**event.details, "latest_station": event.station.charge_point_id}
        event.station = None
        event.save(update_fields=["details", "station"])

    # A vehicle paired at a partner's station: that company must not read it.
    for event in SecurityEvent.objects.filter(kind="mac_changed", station__isnull=False):
        badge = Badge.objects.filter(rfid=event.id_tag).first()
        if badge is not None and badge.company_id != event.station.company_id:
            event.details = {**event.details, "paired_at": event.station.charge_point_id}
            event.station = None
            event.save(update_fields=["details", "station"])


def unscope_details(apps, schema_editor):
    """Going back, the names return to ``details`` (the column that held them goes)."""
    SecurityEvent = apps.get_model("stations", "SecurityEvent")
    for event in SecurityEvent.objects.filter(kind="concurrent_vid").exclude(
        other_companies_details={}
    ):
        details = {key: value for key, value in event.details.items() if key != OTHERS_COUNT}
        details["charging_at"] = [
            *details.get("charging_at", []),
            *event.other_companies_details.get("charging_at", []),
        ]
        event.details = details
        event.save(update_fields=["details"])


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0014_security_event_other_companies_details"),
        ("badges", "0005_authorization_change"),
    ]

    operations = [migrations.RunPython(scope_details, unscope_details)]
