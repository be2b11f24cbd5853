"""Sentences the gateway stores in English, shown in the reader's language."""

import pytest
from django.urls import reverse
from django.utils import translation

from ocpp_gateway.models import Command
from stations.models import AutochargeReadiness, Station
from stations.services import station_interrupt_autocharge_check
from supervision.stored_text import NO_PROFILE, stored_text_display
from tests.factories import StationFactory


def test_a_sentence_with_values_is_translated_with_its_values():
    stored = NO_PROFILE % {"vendor": "'Wallbox'", "model": "'Pulsar'"}
    assert stored == "No profile for vendor 'Wallbox', model 'Pulsar'."

    with translation.override("fr"):
        assert stored_text_display(stored) == (
            "Aucun profil pour le fabricant 'Wallbox', modèle 'Pulsar'."
        )
    with translation.override("en"):
        assert stored_text_display(stored) == stored


def test_any_other_text_shows_as_stored():
    with translation.override("fr"):
        assert stored_text_display("AutochargeEnabled = true") == "AutochargeEnabled = true"
        assert stored_text_display("") == ""


@pytest.mark.django_db
def test_the_station_page_and_the_admin_show_the_gateways_details_in_french(admin_client):
    station = StationFactory(charge_point_id="CP-FR")
    Station.objects.filter(pk=station.pk).update(autocharge_readiness=AutochargeReadiness.CHECKING)
    station_interrupt_autocharge_check(station=station)
    command = Command.objects.create(
        station=station,
        action="Reset",
        payload={"type": "Soft"},
        state="failed",
        detail="The station disconnected before answering.",
    )
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}

    portal = admin_client.get(reverse("portal:station-detail", args=[station.pk]), **french)
    station_admin = admin_client.get(
        reverse("admin:stations_station_change", args=[station.pk]), **french
    )
    command_admin = admin_client.get(
        reverse("admin:ocpp_gateway_command_change", args=[command.pk]), **french
    )

    for response in (portal, station_admin):
        assert "La borne s’est déconnectée pendant la vérification." in response.content.decode()
    assert "La borne s’est déconnectée avant de répondre." in command_admin.content.decode()
    assert "disconnected" not in command_admin.content.decode()


@pytest.mark.parametrize(
    ("stored", "french"),
    [
        ("CP-1 is not connected.", "CP-1 n’est pas connectée."),
        (
            "Profile Kempower: waiting for the station's connection.",
            "Profil Kempower : en attente de la connexion de la borne.",
        ),
        (
            "Profile Kempower: reading the configuration.",
            "Profil Kempower : lecture de la configuration.",
        ),
    ],
)
def test_each_pattern_reads_french(stored, french):
    with translation.override("fr"):
        assert stored_text_display(stored) == french
