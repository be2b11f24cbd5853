"""Fixtures of the REST API tests: users, and API clients that authenticate with a token."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from fleet.models import StaffMembership

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct horse battery staple"


def obtain_token(username: str, password: str = PASSWORD) -> str:
    """The token the API hands out for these credentials (the response must be 200)."""
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def client_with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=PASSWORD
    )


@pytest.fixture
def api(superuser) -> APIClient:
    """A superuser's client, authenticated by the token the token endpoint returned."""
    return client_with_token(obtain_token(superuser.username))


@pytest.fixture
def make_staff(db) -> Callable[..., object]:
    """A staff user (not superuser) holding exactly the given ``app_label.codename`` perms,
    working for ``company`` if given (without one, they see no records)."""

    def make(username: str = "staff", *perms: str, is_staff: bool = True, company=None):
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, is_staff=is_staff
        )
        if company is not None:
            StaffMembership.objects.create(user=user, company=company)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def staff_client(make_staff) -> Callable[..., APIClient]:
    """An API client for a new staff user holding the given permissions."""

    def make(*perms: str, username: str = "staff", company=None) -> APIClient:
        user = make_staff(username, *perms, company=company)
        return client_with_token(obtain_token(user.username))

    return make
