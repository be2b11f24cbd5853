"""The admin's *History* pages: each recorded change with its date, user, source and every
field's old → new value, in English and French; another company's object stays out of reach."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from fleet.models import StaffMembership
from stations.models import Station
from tests.admin.test_badge_admin import badge_form
from tests.admin.test_station_password import PASSWORD, save_station
from tests.factories import BadgeFactory, CompanyFactory

pytestmark = pytest.mark.django_db


def history_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])


def rows(response) -> list[str]:
    """The history table's rows, as text without tags or extra blanks, newest first."""
    assert response.status_code == 200
    body = re.search(r"<tbody>(.*)</tbody>", response.content.decode(), re.S).group(1)
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).replace("&rarr;", "→").split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def disabled_badge(admin_client):
    """A badge the superuser ``admin`` disabled in the admin."""
    badge = BadgeFactory(rfid="VID:A014310E004E", description="Kangoo FT-123-ER")
    response = admin_client.post(
        reverse("admin:badges_badge_change", args=[badge.pk]),
        badge_form(
            rfid=badge.rfid,
            visual_number=badge.visual_number,
            description=badge.description,
            state="disabled",
            company=badge.company.pk,
            vehicle=badge.vehicle.pk,
        ),
    )
    assert response.status_code == 302
    return badge


def test_a_badge_s_history_page_shows_who_changed_what_from_which_value_to_which(
    english_client, disabled_badge
):
    changed, created = rows(english_client.get(history_url(disabled_badge)))

    assert "admin admin Changed State: Enabled → Disabled" in changed
    # Made by a factory: no user, through the system; every value it was created with.
    assert "— system Created" in created
    assert "Rfid: — → VID:A014310E004E" in created.replace("RFID", "Rfid")


def test_the_history_page_speaks_french_to_a_french_browser(french_client, disabled_badge):
    response = french_client.get(history_url(disabled_badge))
    changed, created = rows(response)

    assert "Historique" in response.content.decode()
    assert "admin admin Modification État: Activé → Désactivé" in changed
    assert "— système Création" in created


def test_a_station_s_password_change_shows_in_its_history_without_any_value(
    english_client, station
):
    save_station(english_client, station, new_password=PASSWORD)
    password_hash = Station.objects.get(pk=station.pk).basic_auth_password_hash

    response = english_client.get(history_url(station))

    assert "Password: — → password set" in rows(response)[0]
    assert PASSWORD not in response.content.decode()
    assert password_hash not in response.content.decode()


def test_staff_of_another_company_cannot_read_a_badge_s_history(client, disabled_badge):
    user = get_user_model().objects.create_user(username="autre", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="badges"))
    StaffMembership.objects.create(user=user, company=CompanyFactory(name="Autre"))
    client.force_login(user)

    response = client.get(history_url(disabled_badge))

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_staff_of_the_badge_s_company_read_its_history(client, disabled_badge):
    user = get_user_model().objects.create_user(username="martin", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="badges"))
    StaffMembership.objects.create(user=user, company=disabled_badge.company)
    client.force_login(user)

    assert "State: Enabled → Disabled" in rows(client.get(history_url(disabled_badge)))[0]
