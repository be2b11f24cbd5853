"""Who may charge where: the writes that change it, and what follows them.

The admin, the API and the services write badges through ``badge_save``, ``badge_delete`` and
``badge_groups_set``, never with a bare ``save()``. Each write that may alter a decision:

- makes every process's authorization index read again what it concerns (``authorization_changed``:
  a row in ``AuthorizationChange``, read by all processes, and the writing process at once);
- once committed, announces the tags stations may have cached that stopped being usable
  (``events.station_access_revoked``, acted on by the gateway: ClearCache, local lists).

Fleet's writes (vehicles, companies, groups) announce themselves (``fleet.events``); the
receivers at the bottom turn them into the same two effects. Sessions starting or stopping
(the one-session-at-a-time rule) call ``authorization_changed`` from ``stations.services``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from badges import events
from badges.models import AuthorizationChange, Badge, BadgeState, InboxStatus, UnknownVehicle
from fleet.models import AuthorizationGroup, Vehicle

# What a decision or a local list looks at on the badge itself (its groups: badge_groups_set).
_ACCESS_FIELDS = ("rfid", "state", "expires_at", "company_id", "vehicle_id")


def authorization_changed(
    *, badge_ids: Iterable[int | None] = (None,), tags_unchanged: bool = False
) -> None:
    """Decisions about these badges (None: any badge) may have changed: every process's
    authorization index reads them again (this one as soon as the change commits, the others
    within a second). ``tags_unchanged``: the change gives no badge a new tag (a session
    starting or stopping), so tags no badge carries stay unknown meanwhile."""
    badge_ids = set(badge_ids)
    AuthorizationChange.objects.bulk_create(
        AuthorizationChange(badge_id=badge_id, tags_unchanged=tags_unchanged)
        for badge_id in badge_ids
    )
    transaction.on_commit(
        lambda: events.authorization_changed.send(
            sender=Badge, badge_ids=badge_ids, tags_unchanged=tags_unchanged
        )
    )


def _usable(state: str, expires_at, vehicle_active: bool = True) -> bool:
    return (
        state == BadgeState.ENABLED
        and vehicle_active
        and (expires_at is None or expires_at > timezone.now())
    )


def _announce(revoked: list[tuple[str, str]], *, station_ids: set[int] | None = None) -> None:
    revoked_at = timezone.now()
    transaction.on_commit(
        lambda: events.station_access_revoked.send(
            sender=Badge, revoked=revoked, station_ids=station_ids, revoked_at=revoked_at
        )
    )


@transaction.atomic
def badge_save(*, badge: Badge, groups: Iterable[AuthorizationGroup] | None = None) -> Badge:
    """Create or update ``badge`` (and set its groups when given)."""
    before = (
        None
        if badge.pk is None
        else Badge.objects.filter(pk=badge.pk).values(*_ACCESS_FIELDS).first()
    )
    badge.save()
    if groups is not None:
        badge_groups_set(badge=badge, groups=groups)
    if before is not None and all(before[f] == getattr(badge, f) for f in _ACCESS_FIELDS):
        return badge
    authorization_changed(badge_ids=[badge.pk])
    if before is None or before["rfid"] != badge.rfid:
        inbox_mark_enrolled(badge=badge)
    revoked = []
    if before is not None and _usable(before["state"], before["expires_at"]):
        if before["rfid"] != badge.rfid:
            revoked.append((before["rfid"], f"Badge {before['rfid']} renamed."))
        if badge.state != BadgeState.ENABLED:
            revoked.append((badge.rfid, f"Badge {badge.rfid} disabled."))
        elif badge.is_expired():
            revoked.append((badge.rfid, f"Badge {badge.rfid} expired."))
    # Any such change may change what local lists should hold (new, enabled, moved).
    _announce(revoked)
    return badge


def inbox_mark_enrolled(*, badge: Badge) -> None:
    """However a badge for a MAC came to be (inbox, pairing, by hand), its company's inbox entry
    is done; other companies' entries for the MAC stay as they are (they cannot open the
    badge)."""
    if badge.mac is None:
        return
    UnknownVehicle.objects.filter(company_id=badge.company_id, mac=badge.mac).exclude(
        status=InboxStatus.ENROLLED
    ).update(
        status=InboxStatus.ENROLLED,
        badge=badge,
        resolved_by=badge.enrolled_by,
        resolved_at=timezone.now(),
    )


@transaction.atomic
def badge_delete(*, badge: Badge) -> None:
    rfid, badge_id = badge.rfid, badge.pk
    badge.delete()
    authorization_changed(badge_ids=[badge_id])
    _announce([(rfid, f"Badge {rfid} deleted.")])


@transaction.atomic
def badge_groups_set(*, badge: Badge, groups: Iterable[AuthorizationGroup]) -> None:
    wanted = {group.pk for group in groups}
    current = set(badge.groups.values_list("pk", flat=True))
    if current == wanted:
        return
    if leaving := current - wanted:
        _withdraw(leaving, badge_ids=[badge.pk], why="left its group")
    badge.groups.set(wanted)
    authorization_changed(badge_ids=[badge.pk])
    if wanted - current:
        _announce([])  # local lists may now hold it


def _withdraw(group_ids: Iterable[int], *, badge_ids=None, station_ids=None, why: str) -> None:
    """Badges of these groups (or only ``badge_ids``) lose the groups' stations (or only
    ``station_ids``): read who and where now, before the rows go, and tell once committed."""
    badges = Badge.objects.filter(groups__in=group_ids).distinct()
    if badge_ids is not None:
        badges = badges.filter(pk__in=badge_ids)
    stations = AuthorizationGroup.stations.through.objects.filter(
        authorizationgroup_id__in=group_ids
    ).values_list("station_id", flat=True)
    if station_ids is not None:
        stations = stations.filter(station_id__in=station_ids)
    revoked = [
        (rfid, f"Badge {rfid}: {why}.")
        for rfid, state, expires in badges.values_list("rfid", "state", "expires_at")
        if _usable(state, expires)
    ]
    station_ids = set(stations)
    if revoked and station_ids:
        _announce(revoked, station_ids=station_ids)


# --- Fleet's announcements (connected in BadgesConfig.ready) --------------------------------


def on_access_changed(sender, *, deactivated_vehicle: Vehicle | None = None, **kwargs) -> None:
    authorization_changed()
    if deactivated_vehicle is None:
        return
    _announce(
        [
            (rfid, f"Badge {rfid} revoked: vehicle deactivated.")
            for rfid, state, expires_at in deactivated_vehicle.badges.values_list(
                "rfid", "state", "expires_at"
            )
            if _usable(state, expires_at)
        ]
    )


def on_group_access_withdrawing(sender, *, group_ids, station_ids, why: str, **kwargs) -> None:
    _withdraw(group_ids, station_ids=station_ids, why=why)
