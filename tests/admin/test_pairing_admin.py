"""Pairing mode in the admin: arming a station ("Arm for pairing…", "Cancel pairing"), pairing a
vehicle ("Pair at a station…"), and the read-only list of pairing windows."""

import html
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from badges.models import Badge, EnrolledVia, PairingOutcome, PairingWindow
from stations.enrolment import authorization_request, pairing_open
from tests.factories import (
    AuthorizationGroupFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

STATIONS_URL = reverse("admin:stations_station_changelist")
VEHICLES_URL = reverse("admin:fleet_vehicle_changelist")
WINDOWS_URL = reverse("admin:badges_pairingwindow_changelist")


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def arm(client, station, **data):
    payload = {"action": "arm_for_pairing", "_selected_action": [station.pk], **data}
    return client.post(STATIONS_URL, payload)


def cancel(client, *stations):
    payload = {"action": "cancel_pairing", "_selected_action": [s.pk for s in stations]}
    return client.post(STATIONS_URL, payload)


def pair(client, vehicle, **data):
    payload = {"action": "pair_at_station", "_selected_action": [vehicle.pk], **data}
    return client.post(VEHICLES_URL, payload)


def hh_mm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


# --- Arm for pairing… -------------------------------------------------------------------------


def test_arming_a_station_asks_for_the_vehicle_and_proposes_the_default_duration(
    english_client, station, settings
):
    settings.AUTOCHARGE_PAIRING_MINUTES = 7

    response = arm(english_client, station, index=0)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/autocharge/action_form.html"
    form = response.context["form"]
    assert list(form.fields) == ["vehicle", "minutes", "connector_id", "acknowledge_shared_mac"]
    assert form["minutes"].value() == 7
    content = response.content.decode()
    assert "Arm for pairing" in content
    assert f'name="_selected_action" value="{station.pk}"' in content
    assert 'name="action" value="arm_for_pairing"' in content
    assert not PairingWindow.objects.exists()


def test_arming_a_station_opens_a_window_for_the_vehicle(
    english_client, station, vehicle, admin_user
):
    before = timezone.now()

    response = arm(
        english_client, station, confirm="yes", vehicle=vehicle.pk, minutes=5, connector_id=2
    )

    assert response.status_code == 302
    window = PairingWindow.objects.get()
    assert (window.station, window.vehicle, window.connector_id, window.opened_by) == (
        station,
        vehicle,
        2,
        admin_user,
    )
    assert window.closed_at is None
    assert window.opened_at >= before
    assert window.expires_at == window.opened_at + timedelta(minutes=5)
    assert messages_of(response) == [
        (
            "success",
            f"Dépôt Nord (CP-DEPOT-1) is armed for FT-123-ER until {hh_mm(window.expires_at)}: "
            "plug the vehicle in now.",
        )
    ]


def test_a_window_without_a_connector_waits_on_any_connector(english_client, station, vehicle):
    arm(english_client, station, confirm="yes", vehicle=vehicle.pk, minutes=10, connector_id="")

    assert PairingWindow.objects.get().connector_id is None


@pytest.mark.parametrize(
    ("minutes", "error"),
    [
        ("", "This field is required."),
        ("0", "Ensure this value is greater than or equal to 1."),
        ("61", "Ensure this value is less than or equal to 60."),
    ],
)
def test_a_window_lasts_one_to_sixty_minutes(english_client, station, vehicle, minutes, error):
    response = arm(english_client, station, confirm="yes", vehicle=vehicle.pk, minutes=minutes)

    assert response.status_code == 200
    assert response.context["form"].errors["minutes"] == [error]
    assert not PairingWindow.objects.exists()


def test_a_station_already_armed_refuses_a_second_window(english_client, station, vehicle):
    first = pairing_open(station=station, vehicle=vehicle, minutes=10)
    other = VehicleFactory(company=vehicle.company, license_plate="GH-456-IJ")

    response = arm(english_client, station, confirm="yes", vehicle=other.pk, minutes=10)

    assert response.status_code == 200
    message = (
        f"Dépôt Nord (CP-DEPOT-1) is already armed for FT-123-ER until {hh_mm(first.expires_at)}."
    )
    assert response.context["form"].non_field_errors() == [message]
    assert message in html.unescape(response.content.decode())
    assert list(PairingWindow.objects.all()) == [first]


def test_a_vehicle_that_may_not_charge_at_the_station_is_refused(english_client, station):
    stranger = VehicleFactory(company=CompanyFactory(name="Taxis Bleus"), license_plate="TX-1")

    response = arm(english_client, station, confirm="yes", vehicle=stranger.pk, minutes=10)

    assert response.status_code == 200
    assert response.context["form"].errors["vehicle"] == [
        "Taxis Bleus's vehicles may not charge at Dépôt Nord (CP-DEPOT-1): neither its station "
        "nor in one of its authorization groups."
    ]
    assert not PairingWindow.objects.exists()


@pytest.fixture
def shared_mac_vehicle(company):
    return VehicleFactory(
        company=company, license_plate="VW-333-ID", make="Volkswagen", model="ID.3 Pro S"
    )


def test_arming_for_a_shared_mac_vehicle_needs_the_confirmation(
    english_client, station, shared_mac_vehicle, admin_user
):
    refused = arm(english_client, station, confirm="yes", vehicle=shared_mac_vehicle.pk, minutes=5)

    assert refused.status_code == 200
    assert "acknowledge_shared_mac" in refused.context["form"].errors
    content = html.unescape(refused.content.decode())
    assert "Volkswagen ID.3 vehicles are known to send a shared or changing MAC address" in content
    assert "I know this model shares its MAC" in content
    assert not PairingWindow.objects.exists()

    accepted = arm(
        english_client,
        station,
        confirm="yes",
        vehicle=shared_mac_vehicle.pk,
        minutes=5,
        acknowledge_shared_mac="on",
    )

    assert accepted.status_code == 302
    window = PairingWindow.objects.get()
    assert (window.vehicle, window.opened_by) == (shared_mac_vehicle, admin_user)


def test_only_one_station_is_armed_at_a_time(english_client, station, vehicle):
    other = StationFactory(company=station.company)

    response = english_client.post(
        STATIONS_URL,
        {
            "action": "arm_for_pairing",
            "_selected_action": [station.pk, other.pk],
            "confirm": "yes",
            "vehicle": vehicle.pk,
            "minutes": 5,
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == [("error", "Select exactly one station to arm.")]
    assert not PairingWindow.objects.exists()


# --- Cancel pairing ---------------------------------------------------------------------------


def test_cancelling_pairing_closes_the_open_window(english_client, station, vehicle):
    window = pairing_open(station=station, vehicle=vehicle, minutes=10)

    response = cancel(english_client, station)

    assert response.status_code == 302
    window.refresh_from_db()
    assert window.closed_at is not None
    assert window.outcome == PairingOutcome.CANCELLED
    assert messages_of(response) == [
        ("success", "Pairing at Dépôt Nord (CP-DEPOT-1) for FT-123-ER ended: Cancelled.")
    ]
    assert not PairingWindow.objects.open().exists()


def test_cancelling_a_station_that_is_not_armed_says_so(english_client, station):
    response = cancel(english_client, station)

    assert messages_of(response) == [
        ("warning", "Dépôt Nord (CP-DEPOT-1) was not armed for pairing.")
    ]
    assert not PairingWindow.objects.exists()


def test_after_cancelling_the_station_can_be_armed_again(english_client, station, vehicle):
    pairing_open(station=station, vehicle=vehicle, minutes=10)
    cancel(english_client, station)

    response = arm(english_client, station, confirm="yes", vehicle=vehicle.pk, minutes=3)

    assert response.status_code == 302
    assert PairingWindow.objects.count() == 2
    assert PairingWindow.objects.open().get().expires_at > timezone.now()


# --- The station's page -----------------------------------------------------------------------


def test_the_station_page_shows_its_open_pairing_window(english_client, station, vehicle):
    url = reverse("admin:stations_station_change", args=[station.pk])
    assert "Not armed" in english_client.get(url).content.decode()

    window = pairing_open(station=station, vehicle=vehicle, minutes=10, connector_id=2)
    content = english_client.get(url).content.decode()

    window_url = reverse("admin:badges_pairingwindow_change", args=[window.pk])
    assert (
        f'<a href="{window_url}">Armed for FT-123-ER until {hh_mm(window.expires_at)}, '
        "connector 2</a>"
    ) in content


# --- Pair at a station… -----------------------------------------------------------------------


def test_pairing_a_vehicle_offers_the_stations_it_may_charge_at(english_client, station, vehicle):
    shared = StationFactory(company=CompanyFactory(name="Parking Gare"), charge_point_id="CP-GARE")
    group = AuthorizationGroupFactory(company=vehicle.company)
    group.stations.add(shared)
    StationFactory(company=CompanyFactory(name="Taxis Bleus"), charge_point_id="CP-TAXI-9")

    response = pair(english_client, vehicle, index=0)

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields["station"].queryset) == {station, shared}
    assert form["minutes"].value() == 10
    assert "Pair at a station" in response.content.decode()


def test_pairing_a_vehicle_at_a_station_opens_the_window(
    english_client, station, vehicle, admin_user
):
    response = pair(english_client, vehicle, confirm="yes", station=station.pk, minutes=4)

    assert response.status_code == 302
    window = PairingWindow.objects.get()
    assert (window.station, window.vehicle, window.connector_id, window.opened_by) == (
        station,
        vehicle,
        None,
        admin_user,
    )
    assert window.expires_at == window.opened_at + timedelta(minutes=4)
    assert messages_of(response)[0][0] == "success"


def test_pairing_a_shared_mac_vehicle_warns_before_anything_is_chosen(
    english_client, station, shared_mac_vehicle
):
    page = pair(english_client, shared_mac_vehicle, index=0)
    refused = pair(english_client, shared_mac_vehicle, confirm="yes", station=station.pk, minutes=4)
    accepted = pair(
        english_client,
        shared_mac_vehicle,
        confirm="yes",
        station=station.pk,
        minutes=4,
        acknowledge_shared_mac="on",
    )

    warning = "Volkswagen ID.3 vehicles are known to send a shared or changing MAC address"
    assert warning in html.unescape(page.content.decode())
    assert 'name="acknowledge_shared_mac"' in page.content.decode()
    assert refused.status_code == 200
    assert "acknowledge_shared_mac" in refused.context["form"].errors
    assert accepted.status_code == 302
    assert PairingWindow.objects.get().vehicle == shared_mac_vehicle


def test_pairing_a_vehicle_at_an_armed_station_shows_the_error(english_client, station, vehicle):
    first = pairing_open(station=station, vehicle=vehicle, minutes=10)
    other = VehicleFactory(company=vehicle.company, license_plate="GH-456-IJ")

    response = pair(english_client, other, confirm="yes", station=station.pk, minutes=4)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Dépôt Nord (CP-DEPOT-1) is already armed for FT-123-ER until {hh_mm(first.expires_at)}."
    ]
    assert list(PairingWindow.objects.all()) == [first]


# --- The pairing windows ----------------------------------------------------------------------


@pytest.fixture
def windows(station, vehicle, admin_user):
    """One window of each status: open, cancelled, paired (by a real authorization request),
    and one left to expire."""
    other_station = StationFactory(company=station.company, charge_point_id="CP-DEPOT-2")
    third_station = StationFactory(company=station.company, charge_point_id="CP-DEPOT-3")
    fourth_station = StationFactory(company=station.company, charge_point_id="CP-DEPOT-4")
    cancelled = pairing_open(station=other_station, vehicle=vehicle, opened_by=admin_user)
    PairingWindow.objects.filter(pk=cancelled.pk).update(
        closed_at=timezone.now(), outcome=PairingOutcome.CANCELLED
    )
    paired = pairing_open(station=third_station, vehicle=vehicle, opened_by=admin_user)
    authorization_request(id_tag="VID:A014310E004E", station=third_station)
    expired = pairing_open(station=fourth_station, vehicle=vehicle, opened_by=admin_user)
    PairingWindow.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    open_window = pairing_open(station=station, vehicle=vehicle, opened_by=admin_user)
    return {
        "open": open_window,
        "cancelled": cancelled,
        "paired": PairingWindow.objects.get(pk=paired.pk),
        "expired": expired,
    }


def test_a_window_that_paired_made_the_vehicle_s_badge(windows, vehicle, admin_user):
    badge = Badge.objects.get()

    assert windows["paired"].badge == badge
    assert windows["paired"].outcome == PairingOutcome.PAIRED
    assert (badge.rfid, badge.vehicle, badge.enrolled_via, badge.enrolled_by) == (
        "VID:A014310E004E",
        vehicle,
        EnrolledVia.PAIRING,
        admin_user,
    )


def test_the_pairing_list_shows_every_window_with_its_status(english_client, windows):
    response = english_client.get(WINDOWS_URL)

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(windows.values())
    content = response.content.decode()
    for status in ["Open", "Cancelled", "Paired", "Expired"]:
        assert f'<td class="field-status_display">{status}</td>' in content, status
    assert "VID:A014310E004E" in content
    assert content.count('<td class="field-opened_by nowrap">admin</td>') == 4


@pytest.mark.parametrize("status", ["open", "cancelled", "paired", "expired"])
def test_the_pairing_list_filters_on_the_status(english_client, windows, status):
    response = english_client.get(WINDOWS_URL, {"status": status})

    assert list(response.context["cl"].result_list) == [windows[status]]


def test_the_pairing_list_speaks_french(french_client, windows):
    content = html.unescape(french_client.get(WINDOWS_URL).content.decode())

    assert "Fenêtres d’appairage" in content
    for status in ["Ouvert", "Annulé", "Appairé", "Expiré"]:
        assert f'<td class="field-status_display">{status}</td>' in content, status


def test_pairing_windows_are_read_only(english_client, windows):
    window = windows["open"]
    url = reverse("admin:badges_pairingwindow_change", args=[window.pk])

    page = english_client.get(url)
    changed = english_client.post(url, {"minutes": 60})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert changed.status_code == 403
    assert english_client.get(reverse("admin:badges_pairingwindow_add")).status_code == 403
    window.refresh_from_db()
    assert window.closed_at is None


def test_the_station_actions_speak_french(french_client, station):
    content = html.unescape(french_client.get(STATIONS_URL).content.decode())

    assert "Armer pour l’appairage…" in content
    assert "Annuler l’appairage" in content


@pytest.mark.parametrize(
    ("client_name", "message"),
    [
        ("english_client", "Ensure this value is less than or equal to 2147483647."),
        ("french_client", "Assurez-vous que cette valeur est inférieure ou égale à 2147483647."),
    ],
)
def test_a_connector_past_its_column_is_a_form_error(
    request, station, vehicle, client_name, message
):
    client = request.getfixturevalue(client_name)

    response = arm(
        client, station, confirm="yes", vehicle=vehicle.pk, minutes=5, connector_id=2**63
    )

    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not PairingWindow.objects.exists()
