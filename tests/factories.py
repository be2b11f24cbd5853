"""factory_boy factories: ``.build()`` for the pure tests, ``.create()`` for the rest."""

from importlib import import_module

import factory
from django.apps import apps
from django.utils import timezone

from badges.models import Badge, BadgeMode, BadgeState, BadgeType, BadgeUsage
from fleet.models import AuthorizationGroup, Company, Vehicle
from stations.models import AuthMode, Station


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Fleet {n}")
    contact_email = factory.LazyAttribute(lambda c: f"contact{c.name.split()[-1]}@example.com")


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    company = factory.SubFactory(CompanyFactory)
    license_plate = factory.Sequence(lambda n: f"AB-{n:03d}-CD")
    make = "Renault"
    model = "Kangoo E-Tech"


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    charge_point_id = factory.Sequence(lambda n: f"CP-{n:04d}")
    name = factory.LazyAttribute(lambda s: f"Station {s.charge_point_id}")
    company = factory.SubFactory(CompanyFactory)
    auth_mode = AuthMode.BADGE
    # A station that was accepted at boot before: it may talk without booting again.
    last_boot_at = factory.LazyFunction(timezone.now)


class AuthorizationGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthorizationGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    company = factory.SubFactory(CompanyFactory)


class BadgeFactory(factory.django.DjangoModelFactory):
    """An enabled Autocharge badge attributed to a vehicle of its company."""

    class Meta:
        model = Badge

    class Params:
        mac_number = factory.Sequence(lambda n: n + 1)

    rfid = factory.LazyAttribute(lambda b: f"VID:A01431{b.mac_number:06X}")
    visual_number = factory.LazyAttribute(lambda b: b.rfid.removeprefix("VID:"))
    type = BadgeType.PHYSICAL
    state = BadgeState.ENABLED
    usage = BadgeUsage.PROFESSIONAL
    mode = BadgeMode.VEHICLE
    company = factory.SubFactory(CompanyFactory)
    vehicle = factory.SubFactory(VehicleFactory, company=factory.SelfAttribute("..company"))


def seed_autocharge_profiles() -> None:
    """The vendor profiles the data migration seeds, again: transactional tests flush them."""
    import_module("stations.migrations.0005_seed_autocharge_profiles").seed(apps, None)


def accepted_session(*, company=None, **fields):
    """An open session of a badge accepted at its company's station (meter read from 0)."""
    from stations.models import ChargingSession

    badge = BadgeFactory(company=company) if company else BadgeFactory()
    defaults = {
        "station": StationFactory(company=badge.company),
        "connector_id": 1,
        "id_tag": badge.rfid,
        "badge": badge,
        "vehicle": badge.vehicle,
        "company": badge.company,
        "authorization_status": "Accepted",
        "authorization_reason": "ok",
        "meter_start": 0,
    }
    return ChargingSession.objects.create(**{**defaults, **fields})


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stations.Site"

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Depot {n}")
    grid_limit_kw = 100
