"""Operating stations from the admin: list actions, the "Send a command" page, the command
history and the configuration view, the Autocharge readiness column and the vendor profiles."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from fleet.models import StaffMembership
from ocpp_gateway.models import Command
from stations.models import AutochargeProfile, ConfigurationKey, Station

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:stations_station_changelist")


def send_url(station: Station) -> str:
    return reverse("admin:stations_station_command", args=[station.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def connected(station):
    Station.objects.filter(pk=station.pk).update(connection_state="connected", vendor="Kempower")
    station.refresh_from_db()
    return station


def run_action(client, action: str, *stations):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [s.pk for s in stations]},
        follow=True,
    )


def test_the_station_list_shows_the_autocharge_readiness(english_client, connected):
    Station.objects.filter(pk=connected.pk).update(autocharge_readiness="reboot_required")

    content = english_client.get(CHANGELIST).content.decode()

    assert "Autocharge readiness" in content
    assert "Ready after a reboot" in content


def test_reading_the_configuration_records_a_command_for_the_station(english_client, connected):
    response = run_action(english_client, "read_configuration", connected)

    command = Command.objects.get()
    assert (command.station, command.action, command.state) == (
        connected,
        "GetConfiguration",
        "pending",
    )
    assert command.requested_by.username == "admin"
    assert messages_of(response) == [
        "Sent to 1 station(s); the answers show in the command history."
    ]


def test_an_action_on_an_offline_station_says_so(english_client, station):
    response = run_action(english_client, "soft_reset", station)

    assert messages_of(response) == [f"Not connected: {station}."]
    assert Command.objects.get().state == "failed"


def test_enable_autocharge_from_the_list(english_client, connected):
    response = run_action(english_client, "enable_autocharge", connected)

    connected.refresh_from_db()
    assert connected.autocharge_readiness == "checking"
    assert messages_of(response) == [
        "Configuring 1 station(s) for Autocharge; the readiness column shows the outcome."
    ]


def test_enable_autocharge_without_a_profile_warns(english_client, connected):
    Station.objects.filter(pk=connected.pk).update(vendor="ABB")

    response = run_action(english_client, "enable_autocharge", connected)

    assert messages_of(response) == [f"No Autocharge profile for: {connected}."]


def test_the_actions_speak_french(french_client, connected):
    content = french_client.get(CHANGELIST).content.decode()

    for wording in ["Activer l’Autocharge", "Lire la configuration", "Vider le cache"]:
        assert wording in content, wording


def test_staff_without_the_command_permission_are_not_offered_operations(client, station):
    user = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=station.company)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_station"]))
    client.force_login(user)

    content = client.get(CHANGELIST).content.decode()

    assert "read_configuration" not in content
    assert client.get(send_url(station)).status_code == 403


def test_the_send_command_page_checks_the_payload_against_the_schema(english_client, connected):
    page = english_client.get(send_url(connected))
    response = english_client.post(
        send_url(connected), {"action": "UnlockConnector", "payload": '{"connectorId": "one"}'}
    )

    assert page.status_code == 200
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "payload": ["'one' is not of type 'integer' (at connectorId)"]
    }
    assert not Command.objects.exists()


def test_the_send_command_page_records_the_command_and_shows_it(english_client, connected):
    response = english_client.post(
        send_url(connected),
        {"action": "RemoteStartTransaction", "payload": '{"connectorId": 1, "idTag": "CARD-1"}'},
    )

    command = Command.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:ocpp_gateway_command_change", args=[command.pk])
    assert command.payload == {"connectorId": 1, "idTag": "CARD-1"}


def test_the_send_command_page_speaks_french(french_client, connected):
    content = french_client.get(send_url(connected)).content.decode()
    assert "Envoyer une commande" in content


def test_the_station_page_shows_the_configuration_and_recent_commands(english_client, connected):
    now = timezone.now()
    ConfigurationKey.objects.create(
        station=connected, key="AllowedAuthenticationMethods", value="rfid,evmac", read_at=now
    )
    ConfigurationKey.objects.create(
        station=connected, key="NumberOfConnectors", value="2", readonly=True, read_at=now
    )
    command = Command.objects.create(station=connected, action="ClearCache", state="accepted")

    content = english_client.get(
        reverse("admin:stations_station_change", args=[connected.pk])
    ).content.decode()

    assert (
        "<code>AllowedAuthenticationMethods</code></td><td><code>rfid,evmac</code></td><td></td>"
        in content
    )
    assert (
        "<code>NumberOfConnectors</code></td><td><code>2</code></td><td>read-only</td>" in content
    )
    assert reverse("admin:ocpp_gateway_command_change", args=[command.pk]) in content
    assert f"?station__id__exact={connected.pk}" in content  # the command history
    assert send_url(connected) in content


def test_a_command_shows_its_request_answer_and_the_log_of_its_frames(english_client, connected):
    command = Command.objects.create(
        station=connected,
        action="ChangeConfiguration",
        payload={"key": "AutochargeEnabled", "value": "true"},
        state="rejected",
        ocpp_status="Rejected",
        response={"status": "Rejected"},
        unique_id="4f6c",
    )

    content = english_client.get(
        reverse("admin:ocpp_gateway_command_change", args=[command.pk])
    ).content.decode()

    assert "&quot;AutochargeEnabled&quot;" in content
    assert "&quot;Rejected&quot;" in content
    assert reverse("admin:ocpp_gateway_ocppmessage_changelist") + "?q=4f6c" in content


def test_a_vendor_profile_is_added_with_its_settings(english_client):
    response = english_client.post(
        reverse("admin:stations_autochargeprofile_add"),
        {
            "vendor": "Monta",
            "model": "",
            "firmware_version": "",
            "push_on_boot": "on",
            "notes": "",
            "settings-TOTAL_FORMS": "1",
            "settings-INITIAL_FORMS": "0",
            "settings-MIN_NUM_FORMS": "0",
            "settings-MAX_NUM_FORMS": "1000",
            "settings-0-key": "AutoChargeEnabled",
            "settings-0-mode": "equals",
            "settings-0-value": "true",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    profile = AutochargeProfile.objects.get(vendor="Monta")
    assert profile.push_on_boot is True
    assert [(s.key, s.value, s.mode) for s in profile.settings.all()] == [
        ("AutoChargeEnabled", "true", "equals")
    ]
