"""An inbox entry's page has an "Enrol" button: the "Enrol into vehicle…" action for that entry,
back to its page once done."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from badges.models import Badge, InboxStatus, UnknownVehicle
from badges.services import unknown_vehicle_dismiss
from fleet.models import StaffMembership
from tests.admin.test_enrolment_admin import entry_url, inbox, messages_of  # noqa: F401

pytestmark = pytest.mark.django_db


def enrol_url(entry: UnknownVehicle) -> str:
    return reverse("admin:badges_unknownvehicle_enrol", args=[entry.pk])


def test_an_open_entry_s_page_has_the_enrol_button_in_french(french_client, inbox):  # noqa: F811
    entry = inbox["A014310E004E"]

    page = french_client.get(entry_url(entry)).content.decode()

    assert f'<a href="{enrol_url(entry)}" class="enrol-link">Enrôler</a>' in page


def test_the_button_asks_for_the_vehicle_then_enrols_and_returns_to_the_entry(
    english_client,
    inbox,  # noqa: F811
    vehicle,
):
    entry = inbox["A014310E004E"]

    form = english_client.get(enrol_url(entry))
    assert form.status_code == 200
    assert form.templates[0].name == "admin/autocharge/action_form.html"
    assert 'name="vehicle"' in form.content.decode()
    assert not Badge.objects.exists()

    done = english_client.post(enrol_url(entry), {"confirm": "yes", "vehicle": vehicle.pk})

    assert done.status_code == 302 and done.url == entry_url(entry)
    badge = Badge.objects.get()
    assert (badge.rfid, badge.vehicle, badge.company) == (
        "VID:A014310E004E",
        vehicle,
        vehicle.company,
    )
    entry.refresh_from_db()
    assert (entry.status, entry.badge) == (InboxStatus.ENROLLED, badge)
    assert messages_of(done)[0][0] == "success"
    # Enrolled: no button any more.
    assert "enrol-link" not in english_client.get(entry_url(entry)).content.decode()


def test_without_a_vehicle_the_form_says_so_and_nothing_is_created(english_client, inbox):  # noqa: F811
    response = english_client.post(enrol_url(inbox["A014310E004E"]), {"confirm": "yes"})

    assert response.status_code == 200
    assert response.context["form"].errors["vehicle"] == ["This field is required."]
    assert not Badge.objects.exists()


def test_no_button_for_a_dismissed_entry_nor_without_the_permission(
    client,
    django_user_model,
    english_client,
    inbox,  # noqa: F811
    admin_user,
    company,
):
    dismissed = inbox["02AABBCCDDEE"]
    unknown_vehicle_dismiss(entry=dismissed, reason="visitor", dismissed_by=admin_user)
    assert "enrol-link" not in english_client.get(entry_url(dismissed)).content.decode()

    viewer = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    StaffMembership.objects.create(user=viewer, company=company)
    viewer.user_permissions.add(Permission.objects.get(codename="view_unknownvehicle"))
    client.force_login(viewer)
    entry = inbox["A014310E004E"]
    assert client.get(entry_url(entry)).status_code == 200
    assert "enrol-link" not in client.get(entry_url(entry)).content.decode()
    assert client.get(enrol_url(entry)).status_code == 403


def test_another_company_s_entry_is_not_found(client, django_user_model, inbox, company):  # noqa: F811
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    StaffMembership.objects.create(user=staff, company=company)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_unknownvehicle", "add_badge"])
    )
    client.force_login(staff)
    elsewhere = inbox["001A2B3C4D5E"]  # seen at another company's station
    assert client.get(enrol_url(elsewhere)).status_code == 404
    assert client.get(reverse("admin:badges_unknownvehicle_enrol", args=["x"])).status_code == 404
