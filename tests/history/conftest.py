"""A depot: Alpha's station, where Alpha's vehicle charges on a professional badge and Beta's
on a personal one (through an authorization group), both through the gateway's services; a
staff user of Alpha (the station's owner), one of Beta, a superuser, and their clients."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from badges.models import Badge, BadgeUsage
from fleet.models import Company, StaffMembership
from portal.selectors import local_midnight
from stations.models import ChargingSession, Station
from stations.services import session_start, session_stop
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)


@dataclass
class Depot:
    alpha: Company
    beta: Company
    station: Station
    alpha_badge: Badge
    beta_badge: Badge
    alpha_session: ChargingSession
    beta_session: ChargingSession


def charge(*, station: Station, badge: Badge, energy_wh: int, started_at) -> ChargingSession:
    session, decision = session_start(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        meter_start=1_000,
        started_at=started_at,
    )
    assert decision.accepted, decision.reason
    session_stop(
        station=station,
        transaction_id=session.pk,
        meter_stop=1_000 + energy_wh,
        stopped_at=started_at + timedelta(minutes=40),
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def depot(db) -> Depot:
    alpha, beta = CompanyFactory(name="Alpha"), CompanyFactory(name="Beta")
    station = StationFactory(company=alpha, charge_point_id="CP-ALPHA")
    alpha_badge = BadgeFactory(
        company=alpha,
        vehicle=VehicleFactory(company=alpha, license_plate="AA-001-AA"),
        rfid="VID:A014310E0001",
    )
    beta_badge = BadgeFactory(
        company=beta,
        vehicle=VehicleFactory(company=beta, license_plate="BB-002-BB"),
        rfid="VID:A014310E0002",
        usage=BadgeUsage.PERSONAL,
    )
    group = AuthorizationGroupFactory(company=beta, name="Alpha's depot")
    group.stations.add(station)
    beta_badge.groups.add(group)
    yesterday = local_midnight(timezone.localdate()) - timedelta(hours=12)
    return Depot(
        alpha=alpha,
        beta=beta,
        station=station,
        alpha_badge=alpha_badge,
        beta_badge=beta_badge,
        alpha_session=charge(
            station=station, badge=alpha_badge, energy_wh=12_000, started_at=yesterday
        ),
        beta_session=charge(
            station=station,
            badge=beta_badge,
            energy_wh=9_000,
            started_at=yesterday + timedelta(hours=1),
        ),
    )


def staff_of(company: Company | None, username: str):
    """A staff user of ``company`` with every model permission (a superuser for ``None``)."""
    User = get_user_model()
    if company is None:
        return User.objects.create_superuser(username=username, password="x")
    user = User.objects.create_user(username=username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    StaffMembership.objects.create(user=user, company=company)
    return user


@pytest.fixture
def superuser(db):
    return staff_of(None, "root")


@pytest.fixture
def alpha_staff(depot):
    return staff_of(depot.alpha, "alice")


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
