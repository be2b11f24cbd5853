"""Two companies, each with a station and a staff user subscribed to every alert, and mail
delivered to Django's test outbox."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from alerts import listeners
from alerts.models import AlertSubscription
from alerts.services import alert_subscription_save
from fleet.models import Company, StaffMembership
from stations.models import Station
from tests.factories import CompanyFactory, StationFactory


@dataclass
class Tenant:
    company: Company
    station: Station
    staff: object
    subscription: AlertSubscription


def make_staff(username: str, company: Company | None, *, email: str = "", superuser=False):
    user = get_user_model().objects.create_user(
        username=username,
        email=email or f"{username}@example.com",
        is_staff=True,
        is_superuser=superuser,
    )
    user.user_permissions.set(Permission.objects.all())
    if company is not None:
        StaffMembership.objects.create(user=user, company=company)
    return user


def subscribe(user, company, **fields) -> AlertSubscription:
    fields = {"language": "en", **fields}
    return alert_subscription_save(
        subscription=AlertSubscription(user=user, company=company, **fields)
    )


def make_tenant(name: str) -> Tenant:
    company = CompanyFactory(name=name)
    station = StationFactory(company=company, charge_point_id=f"CP-{name.upper()}")
    staff = make_staff(name.lower(), company)
    return Tenant(company, station, staff, subscribe(staff, company, daily_digest=True))


@pytest.fixture(autouse=True)
def mail_in_the_test_outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = "https://supervision.example.com"


@pytest.fixture(autouse=True)
def listeners_forgotten():
    """Each test's subscriptions are read afresh: the per-process cache outlives a test."""
    listeners.clear()
    yield
    listeners.clear()


@pytest.fixture
def alpha(db) -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def beta(db) -> Tenant:
    return make_tenant("Beta")


@pytest.fixture
def alpha_client(alpha) -> Client:
    client = Client()
    client.force_login(alpha.staff)
    return client
