"""A station's password in the admin: typed, generated (shown once, after saving) or removed on
the station's page, never shown again, and optionally sent to a connected station as its
AuthorizationKey."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from fleet.models import StaffMembership
from ocpp_gateway.models import Command
from stations.models import Station
from stations.services import station_set_password
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Password-16+"
GENERATED = re.compile(r"New password of CP-DEPOT-1: ([A-Za-z0-9]{20})\. Copy it now")


def change_url(station) -> str:
    return reverse("admin:stations_station_change", args=[station.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def stored_hash(station) -> str:
    return Station.objects.values_list("basic_auth_password_hash", flat=True).get(pk=station.pk)


def save_station(client, station, follow=True, **fields):
    """Post the station's page unchanged but for ``fields``."""
    page = client.get(change_url(station))
    management = page.context["inline_admin_formsets"][0].formset.management_form
    data = {
        "charge_point_id": station.charge_point_id,
        "name": station.name,
        "company": station.company.pk,
        "auth_mode": station.auth_mode,
        **{management.add_prefix(name): value for name, value in management.initial.items()},
        "_continue": "Save and continue editing",
        **fields,
    }
    return client.post(change_url(station), data, follow=follow)


@pytest.fixture
def connected(station):
    Station.objects.filter(pk=station.pk).update(connection_state="connected")
    station.refresh_from_db()
    return station


def test_the_station_page_offers_to_type_generate_remove_and_send_a_password(
    english_client, station
):
    content = english_client.get(change_url(station)).content.decode()

    assert "New password" in content
    assert "Generate a new password" in content
    assert "Remove the password" in content
    assert "Send it to the station" in content
    assert "None: the station connects without credentials." in content


def test_a_typed_password_is_stored_hashed_and_never_shown(english_client, station):
    response = save_station(english_client, station, new_password=PASSWORD)

    assert response.status_code == 200
    assert f"The password of {station} was changed." in messages_of(response)
    assert PASSWORD not in response.content.decode()
    assert stored_hash(station) != PASSWORD
    assert Station.objects.get(pk=station.pk).check_password(PASSWORD)
    assert "Set on " in response.content.decode()


def test_a_typed_password_rotates_the_old_one(english_client, station):
    station_set_password(station=station, password=PASSWORD)

    save_station(english_client, station, new_password="the-next-password-1")

    station = Station.objects.get(pk=station.pk)
    assert station.check_password("the-next-password-1")
    assert not station.check_password(PASSWORD)


def test_saving_with_the_password_fields_empty_keeps_the_password(english_client, station):
    station_set_password(station=station, password=PASSWORD)
    before = stored_hash(station)

    response = save_station(english_client, station, name="Renamed")

    assert response.status_code == 200
    assert stored_hash(station) == before
    assert Station.objects.get(pk=station.pk).name == "Renamed"


def test_a_generated_password_is_shown_once_after_saving(english_client, station):
    response = save_station(english_client, station, generate_password="on")

    [shown] = [m for m in map(GENERATED.search, messages_of(response)) if m]
    password = shown.group(1)
    assert Station.objects.get(pk=station.pk).check_password(password)
    assert password not in stored_hash(station)
    # Shown once: the next visit of the page does not show it again.
    assert password not in english_client.get(change_url(station)).content.decode()


@pytest.mark.parametrize("length", [15, 41])
def test_a_password_of_15_or_41_characters_is_refused_on_the_form(english_client, station, length):
    response = save_station(english_client, station, new_password="x" * length)

    form = response.context["adminform"].form
    assert form.errors["new_password"] == [
        f"The password must be 16 to 40 characters long, not {length}."
    ]
    assert stored_hash(station) == ""


def test_the_refusal_is_in_french_for_a_french_user(french_client, station):
    response = save_station(french_client, station, new_password="x" * 15)

    assert response.context["adminform"].form.errors["new_password"] == [
        "Le mot de passe doit compter de 16 à 40 caractères, et non 15."
    ]


def test_removing_the_password(english_client, station):
    station_set_password(station=station, password=PASSWORD)

    response = save_station(english_client, station, remove_password="on")

    assert f"{station} no longer has a password." in messages_of(response)
    assert stored_hash(station) == ""


def test_typing_and_generating_at_once_is_refused(english_client, station):
    response = save_station(english_client, station, new_password=PASSWORD, generate_password="on")

    assert response.context["adminform"].form.non_field_errors() == [
        "Type a new password, generate one or remove it: one of the three at a time."
    ]
    assert stored_hash(station) == ""


def test_without_a_password_and_stations_refused_without_one_the_page_says_so(
    english_client, station, settings
):
    settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD = False

    content = english_client.get(change_url(station)).content.decode()

    assert "None: the station is refused until it has one." in content


def test_staff_of_another_company_cannot_reach_the_station_s_password(client, station):
    user = get_user_model().objects.create_user(username="autre", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="stations"))
    StaffMembership.objects.create(user=user, company=CompanyFactory(name="Autre"))
    client.force_login(user)
    station_set_password(station=station, password=PASSWORD)
    before = stored_hash(station)

    page = client.get(change_url(station))
    post = client.post(change_url(station), {"remove_password": "on"})

    assert page.status_code == post.status_code == 302
    assert page.url == reverse("admin:index")
    assert stored_hash(station) == before


class TestSendingToTheStation:
    def test_a_generated_password_is_sent_without_being_stored_in_the_command(
        self, english_client, connected
    ):
        response = save_station(
            english_client, connected, generate_password="on", push_authorization_key="on"
        )

        [shown] = [m for m in map(GENERATED.search, messages_of(response)) if m]
        password = shown.group(1)
        assert any("The new password was sent to" in m for m in messages_of(response))
        command = Command.objects.get()
        assert (command.station, command.action, command.state) == (
            connected,
            "ChangeConfiguration",
            "pending",
        )
        assert command.payload == {"key": "AuthorizationKey", "value": "***"}
        assert Station.objects.get(pk=connected.pk).check_password(password)
        command_page = english_client.get(
            reverse("admin:ocpp_gateway_command_change", args=[command.pk])
        ).content.decode()
        assert password not in command_page
        assert password.encode().hex() not in command_page

    def test_an_offline_station_is_refused_on_the_form_and_nothing_is_saved(
        self, english_client, station
    ):
        response = save_station(
            english_client, station, new_password=PASSWORD[:18], push_authorization_key="on"
        )

        assert response.context["adminform"].form.errors["push_authorization_key"] == [
            "CP-DEPOT-1 is not connected: the password cannot be sent to it."
        ]
        assert stored_hash(station) == ""
        assert not Command.objects.exists()

    def test_sending_needs_a_new_password(self, english_client, connected):
        station_set_password(station=connected, password=PASSWORD)

        response = save_station(english_client, connected, push_authorization_key="on")

        assert response.context["adminform"].form.errors["push_authorization_key"] == [
            "Type or generate a new password to send: the stored one is only a hash."
        ]
        assert not Command.objects.exists()

    def test_a_password_too_long_for_authorization_key_is_refused(self, english_client, connected):
        response = save_station(
            english_client, connected, new_password="p" * 21, push_authorization_key="on"
        )

        assert response.context["adminform"].form.errors["new_password"] == [
            "A password sent to a station as its AuthorizationKey may have at most 20 "
            "characters (OCPP 1.6: 16 to 20 bytes); this one has 21."
        ]
        assert stored_hash(connected) == ""
        assert not Command.objects.exists()


def test_saving_one_station_s_password_leaves_the_others_alone(english_client, station):
    other = StationFactory(company=station.company)

    save_station(english_client, station, new_password=PASSWORD)

    assert stored_hash(other) == ""


def test_error_reports_of_the_station_page_leave_the_typed_password_out(english_client, station):
    response = save_station(english_client, station, follow=False, new_password=PASSWORD)

    assert response.status_code == 302
    assert response.wsgi_request.sensitive_post_parameters == ("new_password",)
