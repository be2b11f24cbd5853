"""What the security tests share: a company's staff user, the login lockout and API throttles
turned back on (the suite turns them off)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from fleet.models import StaffMembership
from tests.api.conftest import PASSWORD
from tests.factories import CompanyFactory


def make_user(username: str, company=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=True)
    if company is not None:
        StaffMembership.objects.create(user=user, company=company)
        codenames = ["view_vehicle", "add_vehicle"]
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def staff(db):
    return make_user("alice", CompanyFactory(name="Acme"))


@pytest.fixture
def lockout(settings):
    """django-axes on (the suite turns it off), locking out at the third failure."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


@pytest.fixture
def rates(monkeypatch):
    """Set API throttle rates for one test, counted in a cache of its own."""
    cache = LocMemCache("throttle-test", {})
    cache.clear()  # locmem caches of one name share their storage
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)

    def set_rates(**rates):
        rates = {"anon": None, "user": None, "token": None, **rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    return set_rates
