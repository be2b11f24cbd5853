"""Two companies with a station, a vehicle and its badge each; a staff user of the first and a
superuser, with signed-in clients."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from badges.models import Badge
from fleet.models import Company, StaffMembership, Vehicle
from stations.models import Station
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory


@dataclass
class Fleet:
    company: Company
    station: Station
    vehicle: Vehicle
    badge: Badge


def make_fleet(name: str, number: int) -> Fleet:
    company = CompanyFactory(name=name)
    vehicle = VehicleFactory(company=company, license_plate=f"{name.upper()}-1")
    return Fleet(
        company=company,
        station=StationFactory(company=company, charge_point_id=f"CP-{name.upper()}"),
        vehicle=vehicle,
        badge=BadgeFactory(company=company, vehicle=vehicle, rfid=f"VID:A014310E00{number:02X}"),
    )


def make_staff(username: str, company: Company):
    user = get_user_model().objects.create_user(username=username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    StaffMembership.objects.create(user=user, company=company)
    return user


@pytest.fixture
def alpha(db) -> Fleet:
    return make_fleet("Alpha", 1)


@pytest.fixture
def beta(db) -> Fleet:
    return make_fleet("Beta", 2)


@pytest.fixture
def alpha_staff(alpha):
    return make_staff("alice", alpha.company)


@pytest.fixture
def alpha_client(alpha_staff) -> Client:
    client = Client()
    client.force_login(alpha_staff)
    return client
