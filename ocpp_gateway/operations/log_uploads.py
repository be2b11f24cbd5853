"""Diagnostics and logs: GetDiagnostics (OCPP 1.6) or GetLog (2.0.1, block N) asking a station
to upload to the portal itself, at a URL holding a one-time token (stations upload by HTTP
without a login); the file received, stored under ``OCPP_UPLOAD_ROOT``; the progress from
DiagnosticsStatusNotification / LogStatusNotification."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from ocpp_gateway.models import (
    CommandAction,
    LogProgress,
    LogRequest,
    LogType,
    progress_before_report,
)
from ocpp_gateway.operations.commands import StationNotConnected, command_send, protocol_of
from stations import services as station_services
from stations.models import OcppVersion, Station

# DiagnosticsStatus (1.6) and UploadLogStatus (2.0.1) → progress; Idle says nothing.
_PROGRESS_OF_STATUS = {
    "Uploading": LogProgress.UPLOADING,
    "Uploaded": LogProgress.UPLOADED,
    "UploadFailed": LogProgress.FAILED,
    "UploadFailure": LogProgress.FAILED,
    "BadMessage": LogProgress.FAILED,
    "NotSupportedOperation": LogProgress.FAILED,
    "PermissionDenied": LogProgress.FAILED,
}
# The path the station is given: /ocpp-uploads/<token>/ (supervision.urls).
UPLOAD_PATH = "/ocpp-uploads/{token}/"


class UploadRefused(Exception):
    """An upload the portal does not take; ``status`` is the HTTP answer."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def upload_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.OCPP_UPLOAD_ROOT)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_request_send(
    *,
    station: Station,
    base_url: str,
    log_type: str = LogType.DIAGNOSTICS,
    requested_by=None,
) -> LogRequest:
    """Record the request and ask the station to upload its log to
    ``base_url``/ocpp-uploads/<token>/ (``base_url``: how stations reach the portal, e.g.
    ``https://portal.example.com``). 1.6 stations have only diagnostics. A station that is not
    connected gets a failed command (the request shows ``failed``), not an exception."""
    version = protocol_of(station)
    if version == OcppVersion.V16:
        log_type = LogType.DIAGNOSTICS
    token = secrets.token_urlsafe(32)
    location = base_url.rstrip("/") + UPLOAD_PATH.format(token=token)
    with transaction.atomic():
        request = LogRequest.objects.create(
            station=station,
            log_type=log_type,
            token_hash=_hash(token),
            expires_at=timezone.now() + timedelta(hours=settings.OCPP_UPLOAD_VALID_HOURS),
            requested_by=requested_by,
        )
        if version == OcppVersion.V201:
            action = CommandAction.GET_LOG
            # The requestId (the row's key) is what the notifications name.
            payload = {
                "log": {"remoteLocation": location},
                "logType": log_type,
                "requestId": request.pk,
            }
        else:
            action, payload = CommandAction.GET_DIAGNOSTICS, {"location": location}
        try:
            request.command = command_send(
                station=station, action=action, payload=payload, requested_by=requested_by
            )
        except StationNotConnected as offline:
            request.command = offline.command
            request.progress = LogProgress.FAILED
        request.save(update_fields=["command", "progress"])
    return request


def log_status_record(*, station: Station, status: str, request_id: int | None) -> None:
    """A DiagnosticsStatusNotification or LogStatusNotification: the station's log status, and
    the progress of the request it names (2.0.1 ``requestId``; else the latest request)."""
    station_services.station_record_log_status(station=station, status=status)
    requests = LogRequest.objects.filter(station=station)
    request = (
        requests.filter(pk=request_id).first()
        if request_id is not None
        else requests.order_by("-created_at", "-pk").first()
    )
    if request is None:
        return
    request.ocpp_status = status[:32]
    # A file already received stays uploaded whatever the station reports next.
    if request.progress != LogProgress.UPLOADED:
        request.progress = _PROGRESS_OF_STATUS.get(status, request.progress)
    request.save(update_fields=["ocpp_status", "progress"])


def log_request_for_upload(token: str) -> LogRequest:
    """The request a token names, if it still takes an upload; UploadRefused (404) otherwise:
    an unknown, used or expired token is told apart from nothing."""
    request = LogRequest.objects.filter(token_hash=_hash(token)).first()
    if request is None or request.uploaded_at is not None or request.expires_at < timezone.now():
        raise UploadRefused("No upload is expected at this address.", status=404)
    return request


def log_upload_receive(*, token: str, file_name: str, content: File) -> LogRequest:
    """Store the file a station uploaded with ``token`` (once: the token is then spent)."""
    request = log_request_for_upload(token)
    if content.size is not None and content.size > settings.OCPP_UPLOAD_MAX_BYTES:
        raise UploadRefused(f"The file is over {settings.OCPP_UPLOAD_MAX_BYTES} bytes.", status=413)
    name = get_valid_filename(PurePosixPath(file_name or "").name or "log") or "log"
    with transaction.atomic():
        # Lock the row: two uploads racing on one token store one file.
        request = LogRequest.objects.select_for_update().get(pk=request.pk)
        if request.uploaded_at is not None:
            raise UploadRefused("No upload is expected at this address.", status=404)
        path = upload_storage().save(f"{request.station_id}/{request.pk}-{name}", content)
        request.file_name, request.file_path = name[:255], path
        request.file_size = upload_storage().size(path)
        request.uploaded_at = timezone.now()
        request.progress = LogProgress.UPLOADED
        request.save(
            update_fields=["file_name", "file_path", "file_size", "uploaded_at", "progress"]
        )
    return request


def log_progress(request: LogRequest) -> str:
    """The request's progress, the command's fate included until the station reports."""
    if request.progress != LogProgress.PENDING:
        return request.progress
    return progress_before_report(request.command)
