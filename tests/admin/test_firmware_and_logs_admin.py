"""The admin of firmware campaigns and log uploads, in English and French: a campaign created
from the form is sent through the service, its progress shown per station; a log request is
sent the same way and its file offered for download once uploaded."""

import pytest
from django.urls import reverse

from ocpp_gateway.models import FirmwareCampaign, FirmwareUpdate, LogRequest
from ocpp_gateway.operations.log_uploads import log_request_send
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def words(client, english: str, french: str) -> str:
    return french if client.language == "fr" else english


def test_the_campaign_form_renders_in_both_languages(any_language_client):
    response = any_language_client.get(reverse("admin:ocpp_gateway_firmwarecampaign_add"))
    assert response.status_code == 200
    content = response.content.decode()
    assert words(any_language_client, "Firmware location", "Emplacement du firmware") in content
    assert words(any_language_client, "Add firmware campaign", "Ajout de campagne") in content


def test_a_campaign_created_in_the_admin_is_sent_and_shows_each_station(
    any_language_client, company
):
    first = StationFactory(company=company, vendor="Kempower", charge_point_id="KEMP-1")
    StationFactory(company=company, vendor="Kempower", charge_point_id="KEMP-2")
    StationFactory(company=company, vendor="Alfen")

    response = any_language_client.post(
        reverse("admin:ocpp_gateway_firmwarecampaign_add"),
        {
            "company": company.pk,
            "name": "Kempower 1.4",
            "location": "https://firmware.example.com/k.bin",
            "retrieve_at_0": "2026-12-07",
            "retrieve_at_1": "02:00:00",
            "vendor": "kempower",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = FirmwareCampaign.objects.get()
    updates = FirmwareUpdate.objects.filter(campaign=campaign)
    assert sorted(update.station.charge_point_id for update in updates) == ["KEMP-1", "KEMP-2"]
    assert all(update.command.action == "UpdateFirmware" for update in updates)
    page = any_language_client.get(
        reverse("admin:ocpp_gateway_firmwarecampaign_change", args=[campaign.pk])
    ).content.decode()
    assert first.charge_point_id in page
    # Not connected: failed at once.
    assert words(any_language_client, "Failed: 2", "Échouée : 2") in page


def test_a_campaign_matching_no_station_is_refused_in_the_form(french_client, company):
    response = french_client.post(
        reverse("admin:ocpp_gateway_firmwarecampaign_add"),
        {
            "company": company.pk,
            "name": "Nothing",
            "location": "https://firmware.example.com/k.bin",
            "retrieve_at_0": "2026-12-07",
            "retrieve_at_1": "02:00:00",
            "vendor": "Nobody",
        },
    )
    assert response.status_code == 200
    assert "Aucune borne de l’entreprise ne correspond" in response.content.decode()
    assert not FirmwareCampaign.objects.exists()


def test_a_log_request_from_the_admin_is_sent_and_listed(any_language_client, station):
    response = any_language_client.post(
        reverse("admin:ocpp_gateway_logrequest_add"),
        {"station": station.pk, "log_type": "DiagnosticsLog"},
    )
    assert response.status_code == 302
    log_request = LogRequest.objects.get()
    assert log_request.command.action == "GetDiagnostics"
    assert log_request.command.payload["location"].startswith("http://testserver/ocpp-uploads/")
    page = any_language_client.get(reverse("admin:ocpp_gateway_logrequest_changelist"))
    assert page.status_code == 200
    assert words(any_language_client, "Log uploads", "Journaux téléversés") in page.content.decode()


def test_an_uploaded_log_is_linked_and_downloads(admin_client, station, settings, tmp_path):
    settings.OCPP_UPLOAD_ROOT = tmp_path
    log_request = log_request_send(station=station, base_url="http://testserver")
    location = log_request.command.payload["location"].removeprefix("http://testserver")
    admin_client.put(f"{location}diag.txt", b"all good", content_type="text/plain")
    download = reverse("admin:ocpp_gateway_logrequest_download", args=[log_request.pk])

    listing = admin_client.get(reverse("admin:ocpp_gateway_logrequest_changelist"))
    assert download in listing.content.decode()
    response = admin_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"all good"
    assert "diag.txt" in response["Content-Disposition"]
