"""Firmware updates and log uploads below the end-to-end tests: the payloads each protocol gets,
progress from notifications, and the upload URL's rules (one use, expiry, size, methods)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ocpp_gateway.models import (
    Command,
    CommandState,
    FirmwareCampaign,
    FirmwareProgress,
    LogProgress,
    LogRequest,
)
from ocpp_gateway.operations.commands import CommandInvalid
from ocpp_gateway.operations.firmware import (
    FirmwareOrder,
    campaign_progress,
    firmware_campaign_start,
    firmware_status_record,
    firmware_update_send,
    update_progress,
)
from ocpp_gateway.operations.log_uploads import log_progress, log_request_send, log_status_record
from stations.models import ConnectionState, OcppVersion, Station
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

LOCATION = "https://firmware.example.com/fw.bin"


def connected(**fields) -> Station:
    return StationFactory(connection_state=ConnectionState.CONNECTED, **fields)


def order(**fields) -> FirmwareOrder:
    return FirmwareOrder(location=LOCATION, retrieve_at=timezone.now(), **fields)


class TestFirmware:
    def test_a_201_station_is_named_its_update_as_request_id(self):
        station = connected(ocpp_version=OcppVersion.V201)
        update = firmware_update_send(station=station, order=order(signature="c2ln"))
        payload = update.command.payload
        assert update.command.action == "UpdateFirmware"
        assert payload["requestId"] == update.pk
        assert payload["firmware"]["location"] == LOCATION
        assert payload["firmware"]["signature"] == "c2ln"
        assert update_progress(update) == FirmwareProgress.PENDING

    def test_a_16_station_gets_only_16_fields(self):
        update = firmware_update_send(
            station=connected(ocpp_version=OcppVersion.V16), order=order(signature="c2ln")
        )
        assert set(update.command.payload) == {"location", "retrieveDate"}

    def test_a_station_not_connected_is_recorded_failed(self):
        update = firmware_update_send(station=StationFactory(), order=order())
        assert update.progress == FirmwareProgress.FAILED
        assert update.command.state == CommandState.FAILED

    def test_the_answer_then_the_notifications_make_the_progress(self):
        station = connected(ocpp_version=OcppVersion.V201)
        update = firmware_update_send(station=station, order=order())
        Command.objects.filter(pk=update.command.pk).update(state=CommandState.ACCEPTED)
        update.refresh_from_db()
        assert update_progress(update) == FirmwareProgress.SENT
        for status, progress in [
            ("Downloading", "downloading"),
            ("SignatureVerified", "downloaded"),
            ("InstallRebooting", "installing"),
            ("Idle", "installing"),  # says nothing of the update
            ("InstallVerificationFailed", "failed"),
        ]:
            firmware_status_record(station=station, status=status, request_id=update.pk)
            update.refresh_from_db()
            assert (update.progress, update.ocpp_status) == (progress, status)
        station.refresh_from_db()
        assert station.firmware_status == "InstallVerificationFailed"

    def test_a_notification_naming_another_stations_update_changes_nothing(self):
        update = firmware_update_send(station=connected(), order=order())
        firmware_status_record(station=connected(), status="Installed", request_id=update.pk)
        update.refresh_from_db()
        assert update.progress == FirmwareProgress.PENDING

    def test_a_16_notification_goes_to_the_latest_update(self):
        station = connected()
        older = firmware_update_send(station=station, order=order())
        latest = firmware_update_send(station=station, order=order())
        firmware_status_record(station=station, status="Installed", request_id=None)
        older.refresh_from_db(), latest.refresh_from_db()
        assert (older.progress, latest.progress) == ("pending", "installed")

    def test_a_campaign_counts_every_step(self):
        stations = [connected(), StationFactory()]
        campaign = firmware_campaign_start(
            campaign=FirmwareCampaign(
                company=CompanyFactory(), name="v2", location=LOCATION, retrieve_at=timezone.now()
            ),
            stations=stations,
        )
        counts = campaign_progress(campaign)
        assert counts["pending"] == 1 and counts["failed"] == 1 and counts["installed"] == 0

    def test_a_campaign_the_schemas_refuse_saves_nothing(self):
        campaign = FirmwareCampaign(
            company=CompanyFactory(),
            name="too long",
            location=LOCATION,
            retrieve_at=timezone.now(),
            signature="x" * 801,  # 2.0.1: at most 800
        )
        with pytest.raises(CommandInvalid):
            firmware_campaign_start(campaign=campaign, stations=[connected()])
        assert not FirmwareCampaign.objects.exists() and not Command.objects.exists()


@pytest.fixture
def upload_root(settings, tmp_path):
    settings.OCPP_UPLOAD_ROOT = tmp_path
    settings.OCPP_UPLOAD_MAX_BYTES = 100
    return tmp_path


def upload_path(log_request: LogRequest) -> str:
    location = (
        log_request.command.payload.get("location")
        or (log_request.command.payload["log"]["remoteLocation"])
    )
    return location.removeprefix("http://testserver")


class TestLogUploads:
    def request(self, version=OcppVersion.V16) -> LogRequest:
        return log_request_send(
            station=connected(ocpp_version=version), base_url="http://testserver/"
        )

    def test_a_16_station_is_asked_for_diagnostics_at_a_url_of_its_own(self):
        first, second = self.request(), self.request()
        assert first.command.action == "GetDiagnostics"
        assert upload_path(first).startswith("/ocpp-uploads/")
        assert upload_path(first) != upload_path(second)
        # Only the token's hash is kept.
        assert upload_path(first).split("/")[2] not in first.token_hash

    def test_a_201_station_is_asked_for_its_log_by_request_id(self):
        log_request = log_request_send(
            station=connected(ocpp_version=OcppVersion.V201),
            base_url="https://portal.example.com",
            log_type="SecurityLog",
        )
        payload = log_request.command.payload
        assert payload["requestId"] == log_request.pk and payload["logType"] == "SecurityLog"
        assert payload["log"]["remoteLocation"].startswith("https://portal.example.com/ocpp-")

    def test_a_put_lands_once(self, upload_root):
        log_request = self.request()
        path = upload_path(log_request)
        response = Client().put(f"{path}station.log", b"boot ok\n", content_type="text/plain")
        assert response.status_code == 201
        log_request.refresh_from_db()
        assert (log_request.file_name, log_request.file_size) == ("station.log", 8)
        assert (upload_root / log_request.file_path).read_bytes() == b"boot ok\n"
        assert log_progress(log_request) == LogProgress.UPLOADED
        again = Client().put(path, b"again", content_type="text/plain")
        assert again.status_code == 404

    def test_a_multipart_post_lands(self, upload_root):
        from django.core.files.uploadedfile import SimpleUploadedFile

        log_request = self.request()
        response = Client().post(
            upload_path(log_request), {"file": SimpleUploadedFile("diag.zip", b"PK\x03\x04")}
        )
        assert response.status_code == 201
        log_request.refresh_from_db()
        assert log_request.file_name == "diag.zip"

    def test_a_file_over_the_limit_is_refused_and_the_url_still_takes_one(self, upload_root):
        log_request = self.request()
        path = upload_path(log_request)
        response = Client().put(path, b"x" * 101, content_type="application/octet-stream")
        assert response.status_code == 413
        assert Client().put(path, b"x" * 100, content_type="text/plain").status_code == 201

    def test_an_expired_or_unknown_token_takes_nothing(self, upload_root):
        log_request = self.request()
        LogRequest.objects.filter(pk=log_request.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert Client().put(upload_path(log_request), b"x").status_code == 404
        assert Client().put("/ocpp-uploads/not-a-token/", b"x").status_code == 404
        assert not any(upload_root.iterdir())

    def test_a_post_without_a_file_or_a_get_is_refused_clearly(self, upload_root):
        path = upload_path(self.request())
        response = Client().post(path, {"comment": "no file"})
        assert response.status_code == 400 and b"multipart" in response.content
        assert Client().get(path).status_code == 405

    def test_a_file_name_cannot_leave_the_station_directory(self, upload_root):
        log_request = self.request()
        response = Client().put(
            upload_path(log_request),
            b"x",
            content_type="text/plain",
            headers={"Content-Disposition": 'attachment; filename="../../etc/passwd"'},
        )
        assert response.status_code == 201
        log_request.refresh_from_db()
        assert log_request.file_name == "passwd"
        assert (upload_root / str(log_request.station_id)).is_dir()

    def test_notifications_make_the_progress_and_an_upload_stays_uploaded(self, upload_root):
        log_request = self.request(OcppVersion.V201)
        station = log_request.station
        log_status_record(station=station, status="Uploading", request_id=log_request.pk)
        log_request.refresh_from_db()
        assert log_request.progress == LogProgress.UPLOADING
        Client().put(upload_path(log_request), b"x", content_type="text/plain")
        log_status_record(station=station, status="UploadFailure", request_id=log_request.pk)
        log_request.refresh_from_db()
        assert (log_request.progress, log_request.ocpp_status) == ("uploaded", "UploadFailure")
        station.refresh_from_db()
        assert station.log_status == "UploadFailure"
