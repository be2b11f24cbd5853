"""Badge and vehicle changes → stations' authorization caches and local lists.

The domain apps do not know stations cache decisions; the gateway listens to their saves and
deletes (connected in ``OcppGatewayConfig.ready``) and acts once the change is committed.
A badge stops being usable when it is disabled, expires (its date moved into the past here;
the passing of time is ``manage.py refresh_station_authorizations``'s job), is deleted, its
RFID changes (the old tag), or its vehicle is deactivated.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from badges.models import Badge, BadgeState
from fleet.models import Vehicle
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


@receiver(m2m_changed, sender=Badge.groups.through, dispatch_uid="ocpp_gateway.badge_groups")
def _badge_groups_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _after_commit([])


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
