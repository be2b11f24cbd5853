"""Writes of companies, vehicles and authorization groups.

The admin and the API write through these, never with a bare ``save()``: each one announces
what changes who may charge where (``fleet.events``), so that the authorization caches and the
stations follow.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from fleet import events
from fleet.models import AuthorizationGroup, Company, Vehicle


def _announce(sender, *, deactivated_vehicle: Vehicle | None = None) -> None:
    events.access_changed.send(sender=sender, deactivated_vehicle=deactivated_vehicle)


@transaction.atomic
def company_save(*, company: Company) -> Company:
    company.save()
    _announce(Company)
    return company


@transaction.atomic
def company_delete(*, company: Company) -> None:
    company.delete()
    _announce(Company)


@transaction.atomic
def vehicle_save(*, vehicle: Vehicle) -> Vehicle:
    was_active = (
        vehicle.pk is not None and Vehicle.objects.filter(pk=vehicle.pk, active=True).exists()
    )
    vehicle.save()
    _announce(Vehicle, deactivated_vehicle=vehicle if was_active and not vehicle.active else None)
    return vehicle


@transaction.atomic
def vehicle_delete(*, vehicle: Vehicle) -> None:
    vehicle.delete()
    _announce(Vehicle)


@transaction.atomic
def group_save(
    *, group: AuthorizationGroup, stations: Iterable | None = None
) -> AuthorizationGroup:
    """Save the group and, when given, set its stations (instances or ids)."""
    group.save()
    if stations is not None:
        group_stations_set(group=group, stations=stations)
    _announce(AuthorizationGroup)
    return group


@transaction.atomic
def group_stations_set(*, group: AuthorizationGroup, stations: Iterable) -> None:
    wanted = {getattr(station, "pk", station) for station in stations}
    current = set(group.stations.values_list("pk", flat=True))
    if leaving := current - wanted:
        events.group_access_withdrawing.send(
            sender=AuthorizationGroup,
            group_ids=[group.pk],
            station_ids=leaving,
            why="its group no longer includes this station",
        )
    group.stations.set(wanted)
    _announce(AuthorizationGroup)


@transaction.atomic
def group_delete(*, group: AuthorizationGroup) -> None:
    events.group_access_withdrawing.send(
        sender=AuthorizationGroup,
        group_ids=[group.pk],
        station_ids=None,
        why="its group was deleted",
    )
    group.delete()
    _announce(AuthorizationGroup)
