"""Firmware campaigns and log uploads end to end: ``ocpp``-library stations (1.6 and 2.0.1)
against a real server, the campaign and the log request made through the REST API, the log
uploaded by the station itself over HTTP to the URL it was given. Named after the OCA's OCTT
2.0.1 CSMS cases of blocks L and N they cover; the cases left out are listed in the README."""

import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from fleet.models import StaffMembership
from ocpp_gateway.models import FirmwareUpdate, LogRequest
from simulator import v201 as simulator201
from stations.models import Station
from tests.e2e.stations import Api, Online201, staff_token, station_online, wait_for
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIRMWARE_URL = "https://firmware.example.com/dc-150-2.1.0.bin"
SIGNATURE = "c2lnbmF0dXJl"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


@pytest.fixture
def api(server_url):
    return Api(server_url, staff_token())


def _settled(update_id: int, progress: str) -> FirmwareUpdate | None:
    return FirmwareUpdate.objects.filter(pk=update_id, progress=progress).first()


# --- L: Firmware management --------------------------------------------------------------------


def test_tc_l_01_cs_tc_l_02_cs_tc_l_07_cs_a_campaign_over_a_201_and_a_16_station_reports_each(
    server_url, api
):
    """One campaign for every DC-150: the 2.0.1 station gets the signed-firmware fields and
    its requestId, downloads and installs (TC_L_01, with an install time: TC_L_02); the 1.6
    station gets 1.6's fields and its download fails (TC_L_07). Each shows its own progress."""
    new_station = StationFactory(charge_point_id="FW-201")
    old_station = StationFactory(charge_point_id="FW-16", company=new_station.company)
    StationFactory(charge_point_id="FW-OTHER-MODEL", company=new_station.company)
    install_at = timezone.now() + timedelta(minutes=5)
    station201 = Online201(server_url, new_station)
    try:
        with station_online(server_url, "FW-16", firmware_download_fails=True) as (station16, _):
            code, campaign = api.post(
                "/firmware-campaigns/",
                {
                    "name": "DC-150 2.1.0",
                    "company": new_station.company_id,
                    "location": FIRMWARE_URL,
                    "retrieve_at": timezone.now().isoformat(),
                    "install_at": install_at.isoformat(),
                    "retries": 3,
                    "retry_interval": 60,
                    "signing_certificate": CERTIFICATE,
                    "signature": SIGNATURE,
                    "vendor": "Simulator",
                    "model": "DC-150",
                },
            )
            assert code == 201, campaign
            updates = {update["station"]: update["id"] for update in campaign["updates"]}
            assert set(updates) == {new_station.pk, old_station.pk}

            assert wait_for(lambda: _settled(updates[new_station.pk], "installed"))
            assert wait_for(lambda: _settled(updates[old_station.pk], "failed"))

            (sent201,) = station201.station.calls(Action.update_firmware)
            assert sent201["request_id"] == updates[new_station.pk]
            assert sent201["retries"] == 3 and sent201["retry_interval"] == 60
            firmware = sent201["firmware"]
            assert firmware["location"] == FIRMWARE_URL
            assert firmware["signing_certificate"] == CERTIFICATE
            assert firmware["signature"] == SIGNATURE
            assert firmware["install_date_time"].startswith(install_at.strftime("%Y-%m-%dT%H:%M"))
            (sent16,) = station16.calls("UpdateFirmware")
            assert sent16["location"] == FIRMWARE_URL
            assert "request_id" not in sent16 and "firmware" not in sent16

            code, shown = api.request("GET", f"/firmware-campaigns/{campaign['id']}/")
            assert code == 200
            assert shown["progress"]["installed"] == 1 and shown["progress"]["failed"] == 1
            by_station = {update["station"]: update for update in shown["updates"]}
            assert by_station[new_station.pk]["ocpp_status"] == "Installed"
            assert by_station[old_station.pk]["ocpp_status"] == "DownloadFailed"
    finally:
        station201.close()
    assert Station.objects.get(pk=new_station.pk).firmware_status == "Installed"


class RefusingFirmwareStation(simulator201.SimulatedStation201):
    """Refuses the signing certificate, as a station that finds it revoked does."""

    @on(Action.update_firmware)
    def on_update_firmware(self, **payload):
        self.received.append((Action.update_firmware, payload))
        return call_result.UpdateFirmware(status="RevokedCertificate")

    @after(Action.update_firmware)
    def after_update_firmware(self, **_):
        pass  # refused: nothing to download, nothing to report


def test_tc_l_04_cs_an_update_refused_for_its_certificate_shows_failed(server_url, api):
    station = StationFactory(charge_point_id="FW-REVOKED")
    online = Online201(server_url, station, station_class=RefusingFirmwareStation)
    try:
        code, campaign = api.post(
            "/firmware-campaigns/",
            {
                "name": "Revoked",
                "company": station.company_id,
                "location": FIRMWARE_URL,
                "retrieve_at": timezone.now().isoformat(),
                "signing_certificate": CERTIFICATE,
                "signature": SIGNATURE,
                "stations": [station.pk],
            },
        )
        assert code == 201, campaign
        update_id = campaign["updates"][0]["id"]
        wait_for(
            lambda: FirmwareUpdate.objects.filter(
                pk=update_id, command__ocpp_status="RevokedCertificate"
            ).exists()
        )
        code, shown = api.request("GET", f"/firmware-campaigns/{campaign['id']}/")
        assert shown["updates"][0]["progress"] == "failed"
    finally:
        online.close()


# --- N: Diagnostics -----------------------------------------------------------------------------


def _staff(username: str, company) -> Client:
    """A browser logged in as a staff user of ``company`` who may see log uploads."""
    user = get_user_model().objects.create_user(username=username, password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="ocpp_gateway", codename="view_logrequest")
    )
    client = Client()
    client.force_login(user)
    return client


def _download_path(log_request: LogRequest) -> str:
    return f"/admin/ocpp_gateway/logrequest/{log_request.pk}/download/"


def test_tc_n_25_cs_a_201_station_uploads_its_log_which_only_its_company_staff_download(
    server_url, api
):
    station = StationFactory(charge_point_id="LOG-201")
    online = Online201(server_url, station)
    try:
        code, body = api.post(
            "/log-uploads/", {"station": station.pk, "log_type": "DiagnosticsLog"}
        )
        assert code == 201, body
        log_request = wait_for(
            lambda: LogRequest.objects.filter(pk=body["id"], ocpp_status="Uploaded").first()
        )
        (sent,) = online.station.calls(Action.get_log)
    finally:
        online.close()
    assert sent["request_id"] == body["id"] and sent["log_type"] == "DiagnosticsLog"
    assert sent["log"]["remote_location"].startswith(f"{api.base.removesuffix('/api/v1')}/ocpp-")
    assert online.station.upload_statuses == [201]  # an HTTP PUT
    assert log_request.progress == "uploaded" and log_request.file_name == "LOG-201.log"

    downloaded = _staff("own", station.company).get(_download_path(log_request))
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == b"log of LOG-201\n"

    other_staff = _staff("other", CompanyFactory())
    assert other_staff.get(_download_path(log_request)).status_code == 404
    anonymous = Client().get(_download_path(log_request))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]

    # The API's download, over HTTP: the superuser's token, and nothing without one.
    url = f"{api.base}/log-uploads/{log_request.pk}/download/"
    request = urllib.request.Request(url, headers={"Authorization": f"Token {api.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"log of LOG-201\n"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 401


def test_get_diagnostics_of_a_16_station_lands_by_multipart_post_and_the_url_is_spent(
    server_url, api
):
    station = StationFactory(charge_point_id="LOG-16")
    with station_online(server_url, "LOG-16") as (station16, _):
        code, body = api.post("/log-uploads/", {"station": station.pk})
        assert code == 201, body
        log_request = wait_for(
            lambda: LogRequest.objects.filter(pk=body["id"], ocpp_status="Uploaded").first()
        )
        (sent,) = station16.calls("GetDiagnostics")
    assert station16.upload_statuses == [201]
    assert log_request.file_name == "LOG-16-diagnostics.log"
    assert log_request.command.action == "GetDiagnostics"
    # The one-time URL takes nothing more.
    again = urllib.request.Request(sent["location"], data=b"more", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(again, timeout=10)
    assert refused.value.code == 404


class RefusingLogStation(simulator201.SimulatedStation201):
    @on(Action.get_log)
    def on_get_log(self, **payload):
        self.received.append((Action.get_log, payload))
        return call_result.GetLog(status="Rejected")

    @after(Action.get_log)
    def after_get_log(self, **_):
        pass  # refused: nothing to upload


def test_tc_n_34_cs_a_refused_log_request_shows_failed(server_url, api):
    station = StationFactory(charge_point_id="LOG-REFUSED")
    online = Online201(server_url, station, station_class=RefusingLogStation)
    try:
        code, body = api.post("/log-uploads/", {"station": station.pk})
        assert code == 201, body
        wait_for(lambda: LogRequest.objects.filter(pk=body["id"], command__state="rejected"))
    finally:
        online.close()
    code, shown = api.request("GET", f"/log-uploads/{body['id']}/")
    assert (shown["progress"], shown["downloadable"]) == ("failed", False)


def test_tc_n_35_cs_a_security_log_lands(server_url, api):
    station = StationFactory(charge_point_id="LOG-SECURITY")
    online = Online201(server_url, station)
    try:
        code, body = api.post("/log-uploads/", {"station": station.pk, "log_type": "SecurityLog"})
        assert code == 201, body
        wait_for(lambda: LogRequest.objects.filter(pk=body["id"], ocpp_status="Uploaded"))
        (sent,) = online.station.calls(Action.get_log)
    finally:
        online.close()
    assert sent["log_type"] == "SecurityLog"
    assert LogRequest.objects.get(pk=body["id"]).file_size == len(b"log of LOG-SECURITY\n")


class BusyLogStation(simulator201.SimulatedStation201):
    """Keeps its first upload pending; a second request cancels it (AcceptedCanceled) and is
    uploaded instead."""

    @on(Action.get_log)
    def on_get_log(self, **payload):
        self.received.append((Action.get_log, payload))
        status = "AcceptedCanceled" if len(self.calls(Action.get_log)) > 1 else "Accepted"
        return call_result.GetLog(status=status)

    @after(Action.get_log)
    def after_get_log(self, log: dict, request_id: int, **_):
        if len(self.calls(Action.get_log)) > 1:
            self._spawn(self._upload_log(log["remote_location"], request_id))


def test_tc_n_36_cs_a_second_request_cancelling_the_first_is_accepted_and_lands(server_url, api):
    station = StationFactory(charge_point_id="LOG-SECOND")
    online = Online201(server_url, station, station_class=BusyLogStation)
    try:
        _, first = api.post("/log-uploads/", {"station": station.pk})
        wait_for(lambda: LogRequest.objects.filter(pk=first["id"], command__state="accepted"))
        _, second = api.post("/log-uploads/", {"station": station.pk})
        wait_for(lambda: LogRequest.objects.filter(pk=second["id"], ocpp_status="Uploaded"))
    finally:
        online.close()
    second_request = LogRequest.objects.get(pk=second["id"])
    assert second_request.command.ocpp_status == "AcceptedCanceled"
    assert second_request.command.state == "accepted" and second_request.file_path
    _, shown = api.request("GET", f"/log-uploads/{first['id']}/")
    assert (shown["progress"], shown["downloadable"]) == ("sent", False)
