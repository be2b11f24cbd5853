"""HTTP for stations and staff outside the admin and the API: where a station uploads the log
it was asked for (no login: the one-time token in the URL is the credential), and the download
of a stored log file (``log_file_response``, used by the admin and the API)."""

from __future__ import annotations

import re
import tempfile

from django.conf import settings
from django.core.files import File
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ocpp_gateway.models import LogRequest
from ocpp_gateway.operations.log_uploads import (
    UploadRefused,
    log_request_for_upload,
    log_upload_receive,
    upload_storage,
)

_CHUNK = 64 * 1024
_DISPOSITION_NAME = re.compile(r'filename="?([^";]+)"?')


def _refused(refusal: UploadRefused) -> HttpResponse:
    return HttpResponse(refusal.message, status=refusal.status, content_type="text/plain")


def _body_to_file(request: HttpRequest) -> File:
    """The PUT body in a temporary file, read in chunks and cut off past the size limit
    (``request.body`` would hold it all in memory, and refuse it past Django's own limit)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    received = 0
    while chunk := request.read(_CHUNK):
        received += len(chunk)
        if received > settings.OCPP_UPLOAD_MAX_BYTES:
            spooled.close()
            raise UploadRefused(
                f"The file is over {settings.OCPP_UPLOAD_MAX_BYTES} bytes.", status=413
            )
        spooled.write(chunk)
    spooled.seek(0)
    return File(spooled)


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def log_upload(request: HttpRequest, token: str, file_name: str = "") -> HttpResponse:
    """A station's log: ``PUT`` of the file itself (named by the URL's last segment or a
    Content-Disposition header), or a multipart ``POST`` of one file, as stations do."""
    try:
        log_request_for_upload(token)  # refuse before reading anything
        declared = int(request.headers.get("Content-Length") or 0)
        # A multipart body carries a little more than the file: a few KiB of slack.
        if declared > settings.OCPP_UPLOAD_MAX_BYTES + 16 * 1024:
            raise UploadRefused(
                f"The file is over {settings.OCPP_UPLOAD_MAX_BYTES} bytes.", status=413
            )
        if request.method == "PUT":
            disposition = _DISPOSITION_NAME.search(request.headers.get("Content-Disposition", ""))
            name = file_name or (disposition.group(1) if disposition else "")
            content = _body_to_file(request)
        else:
            uploaded = next(iter(request.FILES.values()), None)
            if uploaded is None:
                raise UploadRefused("Send the file as multipart/form-data.", status=400)
            name, content = file_name or uploaded.name, uploaded
        with content:
            log_upload_receive(token=token, file_name=name, content=content)
    except UploadRefused as refusal:
        return _refused(refusal)
    except ValueError:  # a Content-Length that is not a number
        return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
    return HttpResponse(status=201)


def log_file_response(request: LogRequest) -> FileResponse:
    """The stored file as a download (the caller has checked who may have it)."""
    return FileResponse(
        upload_storage().open(request.file_path, "rb"),
        as_attachment=True,
        filename=request.file_name,
    )


def upload_base_url(request: HttpRequest) -> str:
    """How stations reach the portal: ``OCPP_UPLOAD_BASE_URL``, else the address staff used."""
    return settings.OCPP_UPLOAD_BASE_URL or request.build_absolute_uri("/")
