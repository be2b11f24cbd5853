from django.db import migrations
from django.db.models import Count, Max, Min

RESOLUTION_FIELDS = ("status", "badge_id", "dismissed_reason", "resolved_by_id", "resolved_at")
OPEN = {
    "status": "open",
    "badge_id": None,
    "dismissed_reason": "",
    "resolved_by_id": None,
    "resolved_at": None,
}


def _resolving_company(apps, entry, seen_by: list[int]) -> int | None:
    """The company whose decision the entry holds: the badge's company, else the resolver's;
    the only company that saw it when the resolver has none (a superuser)."""
    if entry.status == "open":
        return None
    if entry.badge_id is not None:
        return apps.get_model("badges", "Badge").objects.get(pk=entry.badge_id).company_id
    StaffMembership = apps.get_model("fleet", "StaffMembership")
    membership = StaffMembership.objects.filter(user_id=entry.resolved_by_id).first()
    if membership is not None:
        return membership.company_id
    return seen_by[0] if len(seen_by) == 1 else None


def split_per_company(apps, schema_editor):
    """One entry per company whose stations saw the MAC, with that company's sightings and the
    counters they make; the decision (enrolled or dismissed) stays with the company that made
    it, the other companies' entries are open. An entry whose stations were all deleted goes
    to the resolving company, or is dropped when there is none (nobody can see it any more)."""
    UnknownVehicle = apps.get_model("badges", "UnknownVehicle")
    VehicleSighting = apps.get_model("badges", "VehicleSighting")
    for entry in UnknownVehicle.objects.filter(company__isnull=True).order_by("pk"):
        sightings = VehicleSighting.objects.filter(unknown_vehicle=entry)
        seen_by = sorted(
            set(sightings.values_list("station__company_id", flat=True).order_by())
        )
        resolver = _resolving_company(apps, entry, seen_by)
        if not seen_by:
            if resolver is None:
                entry.delete()
            else:
                UnknownVehicle.objects.filter(pk=entry.pk).update(company_id=resolver)
            continue
        if len(seen_by) == 1:
            # Nothing to split: the entry keeps its counters as they were.
            company_id = seen_by[0]
            UnknownVehicle.objects.filter(pk=entry.pk).update(
                company_id=company_id, **({} if company_id == resolver else OPEN)
            )
            continue
        for index, company_id in enumerate(seen_by):
            own = sightings.filter(station__company_id=company_id)
            counters = own.aggregate(attempts=Count("pk"), first=Min("seen_at"), last=Max("seen_at"))
            values = {
                "company_id": company_id,
                "attempts": counters["attempts"],
                "first_seen_at": counters["first"],
                "last_seen_at": counters["last"],
                "last_reason": own.order_by("-seen_at", "-pk").values_list("reason", flat=True)[0],
                **({} if company_id == resolver else OPEN),
            }
            if index == 0:
                UnknownVehicle.objects.filter(pk=entry.pk).update(**values)
                continue
            resolution = {field: getattr(entry, field) for field in RESOLUTION_FIELDS}
            copy = UnknownVehicle.objects.create(
                mac=entry.mac,
                id_tag=entry.id_tag,
                vendor_hint=entry.vendor_hint,
                **{**resolution, **values},
            )
            own.update(unknown_vehicle=copy)


def merge_per_mac(apps, schema_editor):
    """Back to one entry per MAC (0006 going back needs it): the oldest entry takes the others'
    sightings and attempts; its decision, or else the first decided one's, stays."""
    UnknownVehicle = apps.get_model("badges", "UnknownVehicle")
    VehicleSighting = apps.get_model("badges", "VehicleSighting")
    macs = UnknownVehicle.objects.values("mac").annotate(n=Count("pk")).filter(n__gt=1)
    for mac in macs.values_list("mac", flat=True):
        entries = list(UnknownVehicle.objects.filter(mac=mac).order_by("pk"))
        kept, others = entries[0], entries[1:]
        decided = next((entry for entry in entries if entry.status != "open"), kept)
        VehicleSighting.objects.filter(unknown_vehicle__in=others).update(unknown_vehicle=kept)
        UnknownVehicle.objects.filter(pk=kept.pk).update(
            attempts=sum(entry.attempts for entry in entries),
            first_seen_at=min(entry.first_seen_at for entry in entries),
            last_seen_at=max(entry.last_seen_at for entry in entries),
            **{field: getattr(decided, field) for field in RESOLUTION_FIELDS},
        )
        UnknownVehicle.objects.filter(pk__in=[entry.pk for entry in others]).delete()
    UnknownVehicle.objects.update(company=None)


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0006_unknown_vehicle_company"),
    ]

    operations = [migrations.RunPython(split_per_company, merge_per_mac)]
