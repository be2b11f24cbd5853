"""``/firmware-campaigns/`` and ``/log-uploads/``: created through the services, refused with a
400 that says why, and within the user's company."""

import pytest
from django.utils import timezone

from ocpp_gateway.models import FirmwareCampaign, FirmwareUpdate, LogRequest
from ocpp_gateway.operations.log_uploads import log_request_send
from stations.models import ConnectionState
from tests.factories import AuthorizationGroupFactory, CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/firmware-campaigns/"
LOGS = "/api/v1/log-uploads/"
OPERATOR = (
    "ocpp_gateway.add_command",
    "ocpp_gateway.add_firmwarecampaign",
    "ocpp_gateway.view_firmwarecampaign",
    "ocpp_gateway.add_logrequest",
    "ocpp_gateway.view_logrequest",
)


def campaign_body(**fields) -> dict:
    return {
        "name": "DC-150 2.1.0",
        "location": "https://firmware.example.com/fw.bin",
        "retrieve_at": timezone.now().isoformat(),
        **fields,
    }


@pytest.fixture
def company():
    return CompanyFactory()


def test_a_campaign_for_a_group_goes_to_the_group_s_stations(api, company):
    group = AuthorizationGroupFactory(company=company)
    in_group = StationFactory(company=company, connection_state=ConnectionState.CONNECTED)
    StationFactory(company=company)  # not in the group
    group.stations.add(in_group)

    response = api.post(CAMPAIGNS, campaign_body(company=company.pk, group=group.pk), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [update["station"] for update in body["updates"]] == [in_group.pk]
    assert body["progress"]["pending"] == 1
    assert FirmwareUpdate.objects.get().command.action == "UpdateFirmware"


def test_a_campaign_naming_no_station_is_a_400_that_says_so(api, company):
    response = api.post(CAMPAIGNS, campaign_body(company=company.pk), format="json")
    assert response.status_code == 400
    assert "No station of the company matches" in response.json()["stations"][0]
    assert not FirmwareCampaign.objects.exists()


def test_a_signature_the_schema_refuses_is_a_400_with_the_schema_s_words(api, company):
    station = StationFactory(company=company)
    response = api.post(
        CAMPAIGNS,
        campaign_body(company=company.pk, stations=[station.pk], signature="x" * 801),
        format="json",
    )
    assert response.status_code == 400
    assert "is too long" in str(response.json())
    assert not FirmwareCampaign.objects.exists()


def test_staff_campaign_for_their_company_only(staff_client, company):
    own = StationFactory(company=company)
    other = StationFactory()
    client = staff_client(*OPERATOR, company=company)

    refused = client.post(CAMPAIGNS, campaign_body(stations=[other.pk]), format="json")
    assert refused.status_code == 400 and "stations" in refused.json()

    created = client.post(CAMPAIGNS, campaign_body(stations=[own.pk]), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["company"] == company.pk  # theirs by default

    outsider = staff_client(*OPERATOR, company=CompanyFactory(), username="outsider")
    assert outsider.get(f"{CAMPAIGNS}{created.json()['id']}/").status_code == 404
    assert outsider.get(CAMPAIGNS).json()["count"] == 0


def test_staff_who_may_not_send_commands_cannot_start_a_campaign(staff_client, company):
    station = StationFactory(company=company)
    client = staff_client(*OPERATOR[1:], company=company)
    response = client.post(CAMPAIGNS, campaign_body(stations=[station.pk]), format="json")
    assert response.status_code == 403
    assert not FirmwareCampaign.objects.exists()


def test_a_log_request_is_sent_with_an_upload_url_of_the_portal(api, settings):
    settings.OCPP_UPLOAD_BASE_URL = "https://portal.example.com"
    station = StationFactory(connection_state=ConnectionState.CONNECTED)
    response = api.post(LOGS, {"station": station.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["progress"] == "pending"
    location = LogRequest.objects.get().command.payload["location"]
    assert location.startswith("https://portal.example.com/ocpp-uploads/")


def test_log_uploads_are_within_the_company(staff_client, company):
    own = log_request_send(station=StationFactory(company=company), base_url="http://x")
    log_request_send(station=StationFactory(), base_url="http://x")
    client = staff_client(*OPERATOR, company=company)

    listed = client.get(LOGS).json()
    assert [item["id"] for item in listed["results"]] == [own.pk]
    other_station = StationFactory()
    refused = client.post(LOGS, {"station": other_station.pk}, format="json")
    assert refused.status_code == 400
    # Nothing uploaded yet: nothing to download.
    assert client.get(f"{LOGS}{own.pk}/download/").status_code == 404


def test_an_unknown_log_type_is_a_400(api):
    station = StationFactory()
    response = api.post(LOGS, {"station": station.pk, "log_type": "Everything"}, format="json")
    assert response.status_code == 400 and "log_type" in response.json()


def test_a_campaign_goes_only_to_stations_of_its_company_even_for_a_superuser(api, company):
    own = StationFactory(company=company, vendor="Alfen")
    StationFactory(vendor="Alfen")  # another company's
    response = api.post(CAMPAIGNS, campaign_body(company=company.pk, vendor="Alfen"), format="json")
    assert response.status_code == 201, response.json()
    assert [update["station"] for update in response.json()["updates"]] == [own.pk]
