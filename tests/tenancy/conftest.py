"""Two companies, Alpha and Beta, each with a staff user holding every model permission (not a
superuser) and one record of every kind; API and admin clients for each of them."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from badges.models import Badge, PairingWindow, UnknownVehicle
from fleet.models import AuthorizationGroup, Company, StaffMembership, Vehicle
from ocpp_gateway.models import Direction, LogStatus, MessageType, OcppMessage
from stations.enrolment import authorization_request
from stations.models import (
    AuthMethod,
    ChargingSession,
    Connector,
    MeterValue,
    SecurityEvent,
    Station,
)
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)


@dataclass
class Tenant:
    """A company, its staff user and one record of each kind."""

    company: Company
    staff: object
    vehicle: Vehicle
    group: AuthorizationGroup
    badge: Badge
    station: Station
    session: ChargingSession
    message: OcppMessage
    unknown_vehicle: UnknownVehicle
    pairing: PairingWindow
    security_event: SecurityEvent

    def record(self, kind: str):
        return getattr(self, kind)


def make_staff(username: str, company: Company | None):
    user = get_user_model().objects.create_user(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    if company is not None:
        StaffMembership.objects.create(user=user, company=company)
    return user


def make_tenant(name: str, number: int) -> Tenant:
    company = CompanyFactory(name=name)
    vehicle = VehicleFactory(company=company, license_plate=f"{name.upper()}-1")
    station = StationFactory(company=company, charge_point_id=f"CP-{name.upper()}")
    Connector.objects.create(station=station, connector_id=1, status="Available")
    group = AuthorizationGroupFactory(company=company, name=f"{name} depots")
    group.stations.add(station)
    badge = BadgeFactory(company=company, vehicle=vehicle, rfid=f"VID:A014310E00{number:02X}")
    badge.groups.add(group)
    started = timezone.now() - timedelta(hours=1)
    session = ChargingSession.objects.create(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        vehicle=vehicle,
        company=company,
        auth_method=AuthMethod.AUTOCHARGE,
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=0,
        started_at=started,
    )
    MeterValue.objects.create(
        station=station, session=session, connector_id=1, timestamp=started, value="10"
    )
    message = OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction=Direction.IN,
        message_type=MessageType.CALL,
        unique_id="1",
        action="Authorize",
        status=LogStatus.REJECTED,
        id_tag=f"VID:B0000000{number:04X}",
        created_at=timezone.now(),
    )
    # An unknown vehicle presented at the company's station: the inbox entry and its sighting.
    authorization_request(id_tag=f"VID:B0000000{number:04X}", station=station, connector_id=1)
    unknown_vehicle = UnknownVehicle.objects.get(mac=f"B0000000{number:04X}")
    now = timezone.now()
    pairing = PairingWindow.objects.create(
        station=station, vehicle=vehicle, opened_at=now, expires_at=now + timedelta(minutes=5)
    )
    security_event = SecurityEvent.objects.create(
        kind="mac_changed", severity="info", station=station, id_tag=badge.rfid
    )
    return Tenant(
        company=company,
        staff=make_staff(f"{name.lower()}-staff", company),
        vehicle=vehicle,
        group=group,
        badge=badge,
        station=station,
        session=session,
        message=message,
        unknown_vehicle=unknown_vehicle,
        pairing=pairing,
        security_event=security_event,
    )


@pytest.fixture
def alpha(db) -> Tenant:
    return make_tenant("Alpha", 1)


@pytest.fixture
def beta(db) -> Tenant:
    return make_tenant("Beta", 2)


@pytest.fixture
def tenants(alpha, beta) -> tuple[Tenant, Tenant]:
    return alpha, beta


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def admin_client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alpha_api(tenants) -> APIClient:
    return api_client(tenants[0].staff)


@pytest.fixture
def alpha_admin(tenants) -> Client:
    return admin_client_of(tenants[0].staff)


@pytest.fixture
def homeless_staff(db):
    """A staff user with every permission and no company."""
    return make_staff("homeless", None)
