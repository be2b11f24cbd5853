"""Which rows a user may see and name: the one place that knows how each model belongs to a
company. The admin (``supervision.admin``) and the API (``supervision.api``) both go through it.

- A superuser sees everything.
- A staff user with a ``fleet.StaffMembership`` sees their company's rows, as ``RULES`` says.
- Anyone else sees nothing, and so does everyone but superusers for a model missing from
  ``RULES``: a new model stays private until someone decides how a company owns it.

Sessions follow one rule: a company sees the sessions attributed to it, wherever its vehicles
charged, and the anonymous sessions at its own stations, but never another company's sessions
at its stations (a station owner must not learn which vehicles of other companies charge there).
Both read what the session recorded at its start, not the station's or the badge's owner now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet

if TYPE_CHECKING:
    from fleet.models import Company


def _owned(company: Company) -> Q:
    return Q(company=company)


def _at_own_station(company: Company) -> Q:
    return Q(station__company=company)


def _sessions(company: Company) -> Q:
    """Attributed to the company, or anonymous at its stations, both as recorded when the
    session started: a station owner never sees which vehicles of other companies charge there,
    not even once that company is deleted (its name stays recorded, the session anonymous to
    nobody)."""
    return Q(company=company) | Q(station_company=company, company_name="")


def _meter_values(company: Company) -> Q:
    # Those of the sessions the company sees; samples outside a session belong to the station.
    return Q(session__in=_visible_sessions(company)) | Q(
        session__isnull=True, station__company=company
    )


def _session_events(company: Company) -> Q:
    return Q(session__in=_visible_sessions(company))


def _visible_sessions(company: Company) -> QuerySet:
    ChargingSession = apps.get_model("stations", "ChargingSession")
    return ChargingSession.objects.filter(_sessions(company)).values("pk")


def _everyone(company: Company) -> Q:
    return Q()


# Model label (``app_label.model_name``) → the rows of a company. Keyed by label so a model that
# does not exist yet (another branch adds it) costs nothing until it does.
RULES: dict[str, Callable[[Company], Q]] = {
    "fleet.company": lambda company: Q(pk=company.pk),
    "fleet.vehicle": _owned,
    "fleet.authorizationgroup": _owned,
    "badges.badge": _owned,
    "stations.station": _owned,
    "stations.site": _owned,
    "stations.tariff": _owned,
    "stations.loadbalancingdecision": lambda company: Q(site__company=company),
    "stations.stationchargingprofile": _at_own_station,
    "stations.chargingsession": _sessions,
    "stations.metervalue": _meter_values,
    "stations.transactionevent": _session_events,
    "stations.sessioncorrection": _session_events,
    "stations.devicemodelvariable": _at_own_station,
    "stations.connector": _at_own_station,
    "stations.stationconnection": _at_own_station,
    "stations.configurationkey": _at_own_station,
    "stations.locallistentry": _at_own_station,
    "stations.securityevent": _at_own_station,
    "stations.transactionanomaly": _at_own_station,
    "ocpp_gateway.ocppmessage": _at_own_station,
    "ocpp_gateway.command": _at_own_station,
    "ocpp_gateway.firmwarecampaign": _owned,
    "ocpp_gateway.firmwareupdate": _at_own_station,
    "ocpp_gateway.logrequest": _at_own_station,
    "badges.vehiclesighting": _at_own_station,
    # A window is the company's whose vehicle it pairs: a partner station's owner does not
    # learn which vehicle of another company is being paired there.
    "badges.pairingwindow": lambda company: Q(vehicle__company=company),
    # A company's reservations are its badges': a station's owner does not learn who reserved.
    "badges.reservation": lambda company: Q(badge__company=company),
    "badges.unknownvehicle": _owned,
    # Subscriptions about the company; each user further sees only their own (alerts.selectors).
    "alerts.alertsubscription": _owned,
    "alerts.alertnotice": lambda company: Q(subscription__company=company),
    # The list of model lines sharing a MAC is common knowledge: every staff user reads it.
    "badges.sharedmacmodel": _everyone,
    # How each vendor turns Autocharge on is product knowledge, the same for every company.
    "stations.autochargeprofile": _everyone,
    "stations.autochargesetting": _everyone,
    "webhooks.webhook": _owned,
    "webhooks.webhookdelivery": lambda company: Q(webhook__company=company),
}

# Writes only superusers make, whatever the model permissions say.
SUPERUSER_ONLY = {
    "fleet.company": {"add"},
    "badges.sharedmacmodel": {"add", "change", "delete"},
    "stations.autochargeprofile": {"add", "change", "delete"},
    "stations.autochargesetting": {"add", "change", "delete"},
    # The delivery log is written by the job runner only.
    "webhooks.webhookdelivery": {"add", "change", "delete"},
}


def _label(model: type[Model] | Model) -> str:
    return model._meta.label_lower


def is_superuser(user) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def company_of(user) -> Company | None:
    """The company an active staff user belongs to, ``None`` for anyone else."""
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    try:
        return user.staff_membership.company
    except ObjectDoesNotExist:
        return None


def scope(queryset: QuerySet, user) -> QuerySet:
    """``queryset`` reduced to the rows ``user`` may see."""
    if is_superuser(user):
        return queryset
    company = company_of(user)
    rule = RULES.get(_label(queryset.model))
    if company is None or rule is None:
        return queryset.none()
    return queryset.filter(rule(company))


def scope_choices(queryset: QuerySet, user, *, keep: Iterable = ()) -> QuerySet:
    """The rows ``user`` may point a relation at: those they see, plus ``keep``, the rows the
    object already points at (a superuser may have linked a partner's station to a company's
    group; its staff keep that link, or remove it, but cannot add another; and anyone keeps a
    link to a record archived since)."""
    if is_superuser(user):
        return including(queryset, keep)
    return including(scope(queryset, user), keep)


def including(queryset: QuerySet, keep: Iterable) -> QuerySet:
    """``queryset`` plus the rows whose primary keys are in ``keep``."""
    keep = [pk for pk in keep if pk is not None]
    if not keep:
        return queryset
    return queryset.model._default_manager.filter(Q(pk__in=queryset.values("pk")) | Q(pk__in=keep))


def current_pks(instance: Model | None, field_name: str) -> list:
    """The primary keys ``instance``'s relation ``field_name`` points at now."""
    if instance is None or instance.pk is None:
        return []
    try:
        field = instance._meta.get_field(field_name)
    except FieldDoesNotExist:
        return []
    if field.many_to_many and field.concrete:
        return list(getattr(instance, field_name).values_list("pk", flat=True))
    if field.concrete and field.is_relation:
        return [getattr(instance, field.attname)]
    return []


def may_see_model(user, model: type[Model]) -> bool:
    """Whether ``user`` may see any row of ``model`` (before model permissions)."""
    return is_superuser(user) or (company_of(user) is not None and _label(model) in RULES)


def may_write(user, model: type[Model], action: str) -> bool:
    """Whether ``user`` may ``add``, ``change`` or ``delete`` rows of ``model`` (before model
    permissions): never for a model they cannot see, never for a superuser-only write."""
    if is_superuser(user):
        return True
    return may_see_model(user, model) and action not in SUPERUSER_ONLY.get(_label(model), ())
