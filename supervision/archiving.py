"""Companies, vehicles, badges and stations with history are archived, not deleted.

A record that charging sessions name (as their badge, vehicle, company, station or station's
company) is part of what was charged and reimbursed: staff archive it instead of deleting it.
An archived record keeps its history in reports and exports, is offered in no picker (admin,
API, portal forms) unless an object already points at it, and stops charging: an archived
badge is disabled, an archived vehicle inactive, an archived company's badges are refused
(``badges.authorization``) and an archived station is refused connection (the gateway). Only a
superuser may still delete such a record; its sessions keep what they recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision import tenancy

ARCHIVED_FIELD = "archived_at"


def is_archivable(model: type[Model]) -> bool:
    return any(field.name == ARCHIVED_FIELD for field in model._meta.concrete_fields)


def unarchived(queryset: QuerySet) -> QuerySet:
    """``queryset`` without its archived rows (for models that can be archived)."""
    if not is_archivable(queryset.model):
        return queryset
    return queryset.filter(**{f"{ARCHIVED_FIELD}__isnull": True})


def has_history(instance: Model) -> bool:
    """Whether charging sessions name ``instance``, through any of their relations to its
    model (a company: as the sessions' company or as their station's company)."""
    ChargingSession = apps.get_model("stations", "ChargingSession")
    relations = [
        field.name
        for field in ChargingSession._meta.concrete_fields
        if field.is_relation and field.related_model is type(instance)
    ]
    if not relations:
        return False
    naming = Q()
    for name in relations:
        naming |= Q(**{name: instance})
    return ChargingSession.objects.filter(naming).exists()


def may_delete(user, instance: Model) -> bool:
    """Staff delete only records without history; superusers may delete any (the database
    still refuses what other records protect)."""
    return tenancy.is_superuser(user) or not has_history(instance)


def refused_deletes(user, objects: Iterable[Model]) -> list[Model]:
    """Those of ``objects`` that ``user`` must archive rather than delete."""
    return [obj for obj in objects if not may_delete(user, obj)]


def delete_refused_message(objects: Iterable[Model], *, how: str) -> str:
    """Why the delete is refused and what to do instead; ``how`` says where to archive."""
    names = ", ".join(f"“{obj}”" for obj in objects)
    return _(
        "%(objects)s cannot be deleted: charging sessions name it, and reports must not change. "
        "Archive it instead (%(how)s): it stops charging and is offered nowhere, its history "
        "stays."
    ) % {"objects": names, "how": how}


@transaction.atomic
def archive(*, instance: Model, save: Callable[[Model], object]) -> None:
    """Archive ``instance`` (again: nothing changes), and set what its model's
    ``ARCHIVED_ALSO`` says archiving also means (a badge disabled, a vehicle inactive).
    ``save`` is the model's service (``badges.access.badge_save``…): what archiving changes
    follows as any other write (a disabled badge revoked at the stations, caches forgotten)."""
    if getattr(instance, ARCHIVED_FIELD) is not None:
        return
    also = getattr(type(instance), "ARCHIVED_ALSO", {})
    setattr(instance, ARCHIVED_FIELD, timezone.now())
    for field, value in also.items():
        setattr(instance, field, value)
    save(instance)


@transaction.atomic
def restore(*, instance: Model, save: Callable[[Model], object]) -> None:
    """Offer ``instance`` again. What archiving disabled stays disabled until staff enable it."""
    if getattr(instance, ARCHIVED_FIELD) is None:
        return
    setattr(instance, ARCHIVED_FIELD, None)
    save(instance)
