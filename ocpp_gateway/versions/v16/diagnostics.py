"""Firmware Management profile: what the station reports of a diagnostics upload
(DiagnosticsStatusNotification), recorded with the station and on its latest GetDiagnostics
(``ocpp_gateway.operations.log_uploads``; 1.6 names no request). FirmwareStatusNotification
is shared by both versions (``ocpp_gateway.versions.common``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from ocpp_gateway.operations import log_uploads


class DiagnosticsHandlers:
    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status: str, **_):
        # 1.6's diagnostics upload is 2.0.1's log upload: one field for both.
        await database_sync_to_async(log_uploads.log_status_record)(
            station=self.station, status=status, request_id=None
        )
        return call_result.DiagnosticsStatusNotification()
