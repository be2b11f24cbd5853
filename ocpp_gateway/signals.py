"""Badge, vehicle and authorization-group changes → stations' authorization caches and local
lists.

The domain apps do not know stations cache decisions; the gateway listens to their saves and
deletes (connected in ``OcppGatewayConfig.ready``) and acts once the change is committed.
A badge stops being usable when it is disabled, expires (its date moved into the past here;
the passing of time is ``manage.py refresh_station_authorizations``'s job), is deleted, its
RFID changes (the old tag), or its vehicle is deactivated; it stops being usable at a station
when it, or the station, leaves the group that allowed it there.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from badges.models import Badge, BadgeState
from fleet.models import AuthorizationGroup, Vehicle
from ocpp_gateway import operations


def _usable(state: str, expires_at, vehicle_active: bool = True) -> bool:
    return (
        state == BadgeState.ENABLED
        and vehicle_active
        and (expires_at is None or expires_at > timezone.now())
    )


def _after_commit(revoked: list[tuple[str, str]]) -> None:
    revoked_at = timezone.now()
    transaction.on_commit(lambda: operations.badges_revoked(revoked=revoked, revoked_at=revoked_at))


@receiver(pre_save, sender=Badge, dispatch_uid="ocpp_gateway.badge_before")
def _remember_badge(sender, instance: Badge, raw: bool = False, **kwargs) -> None:
    instance._ocpp_before = (
        None
        if raw or instance.pk is None
        else Badge.objects.filter(pk=instance.pk).values("rfid", "state", "expires_at").first()
    )


@receiver(post_save, sender=Badge, dispatch_uid="ocpp_gateway.badge_saved")
def _badge_saved(sender, instance: Badge, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    before = getattr(instance, "_ocpp_before", None)
    revoked = []
    if before is not None and _usable(before["state"], before["expires_at"]):
        if before["rfid"] != instance.rfid:
            revoked.append((before["rfid"], "renamed"))
        if instance.state != BadgeState.ENABLED:
            revoked.append((instance.rfid, "disabled"))
        elif instance.is_expired():
            revoked.append((instance.rfid, "expired"))
    # Any change may change what local lists should hold (enabled, new, moved to a company).
    _after_commit(revoked)


@receiver(post_delete, sender=Badge, dispatch_uid="ocpp_gateway.badge_deleted")
def _badge_deleted(sender, instance: Badge, **kwargs) -> None:
    _after_commit([(instance.rfid, "deleted")])


def _withdraw(group_ids: Iterable[int], *, badge_ids=None, station_ids=None, why: str) -> None:
    """Badges of these groups (or only ``badge_ids``) lose the groups' stations (or only
    ``station_ids``): read who and where now, before the rows go, and act once committed."""
    badges = Badge.objects.filter(groups__in=group_ids).distinct()
    if badge_ids is not None:
        badges = badges.filter(pk__in=badge_ids)
    stations = AuthorizationGroup.stations.through.objects.filter(
        authorizationgroup_id__in=group_ids
    ).values_list("station_id", flat=True)
    if station_ids is not None:
        stations = stations.filter(station_id__in=station_ids)
    id_tags = [
        rfid
        for rfid, state, expires in badges.values_list("rfid", "state", "expires_at")
        if _usable(state, expires)
    ]
    station_ids = set(stations)
    if not id_tags or not station_ids:
        return
    withdrawn_at = timezone.now()
    transaction.on_commit(
        lambda: operations.group_access_withdrawn(
            id_tags=id_tags, station_ids=station_ids, why=why, withdrawn_at=withdrawn_at
        )
    )


@receiver(m2m_changed, sender=Badge.groups.through, dispatch_uid="ocpp_gateway.badge_groups")
def _badge_groups_changed(
    sender, instance, action: str, reverse: bool, pk_set: set | None, **kwargs
) -> None:
    # Forward: a badge's groups change (pk_set: groups); reverse: a group's badges (pk_set:
    # badges). ``clear`` names nobody: read the whole side before it goes.
    if action == "pre_remove":
        if reverse:
            _withdraw([instance.pk], badge_ids=pk_set, why="left its group")
        else:
            _withdraw(pk_set, badge_ids=[instance.pk], why="left its group")
    elif action == "pre_clear":
        if reverse:
            _withdraw([instance.pk], why="left its group")
        else:
            _withdraw(
                instance.groups.values_list("pk", flat=True),
                badge_ids=[instance.pk],
                why="left its group",
            )
    elif action in ("post_add", "post_remove", "post_clear"):
        _after_commit([])


@receiver(
    m2m_changed,
    sender=AuthorizationGroup.stations.through,
    dispatch_uid="ocpp_gateway.group_stations",
)
def _group_stations_changed(
    sender, instance, action: str, reverse: bool, pk_set: set | None, **kwargs
) -> None:
    # Forward: a group's stations change (pk_set: stations); reverse: a station's groups.
    why = "its group no longer includes this station"
    if action == "pre_remove":
        if reverse:
            _withdraw(pk_set, station_ids=[instance.pk], why=why)
        else:
            _withdraw([instance.pk], station_ids=pk_set, why=why)
    elif action == "pre_clear":
        if reverse:
            _withdraw(
                instance.authorization_groups.values_list("pk", flat=True),
                station_ids=[instance.pk],
                why=why,
            )
        else:
            _withdraw([instance.pk], why=why)


@receiver(pre_delete, sender=AuthorizationGroup, dispatch_uid="ocpp_gateway.group_deleted")
def _group_deleted(sender, instance: AuthorizationGroup, **kwargs) -> None:
    _withdraw([instance.pk], why="its group was deleted")


@receiver(pre_save, sender=Vehicle, dispatch_uid="ocpp_gateway.vehicle_before")
def _remember_vehicle(sender, instance: Vehicle, raw: bool = False, **kwargs) -> None:
    instance._ocpp_was_active = (
        None
        if raw or instance.pk is None
        else Vehicle.objects.filter(pk=instance.pk).values_list("active", flat=True).first()
    )


@receiver(post_save, sender=Vehicle, dispatch_uid="ocpp_gateway.vehicle_saved")
def _vehicle_saved(sender, instance: Vehicle, raw: bool = False, **kwargs) -> None:
    if raw or not getattr(instance, "_ocpp_was_active", None) or instance.active:
        return
    revoked = [
        (rfid, "revoked: vehicle deactivated")
        for rfid, state, expires_at in instance.badges.values_list("rfid", "state", "expires_at")
        if _usable(state, expires_at)
    ]
    _after_commit(revoked)
