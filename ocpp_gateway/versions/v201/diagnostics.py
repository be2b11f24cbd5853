"""Block N, diagnostics: what the station reports of a log upload (LogStatusNotification),
recorded with the station and on the GetLog its requestId names
(``ocpp_gateway.operations.log_uploads``). Block L's FirmwareStatusNotification is shared by both
versions (``ocpp_gateway.versions.common``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from ocpp_gateway.operations import log_uploads


class DiagnosticsHandlers:
    @on(Action.log_status_notification)
    async def on_log_status_notification(self, status: str, request_id: int | None = None, **_):
        await database_sync_to_async(log_uploads.log_status_record)(
            station=self.station, status=status, request_id=request_id
        )
        return call_result.LogStatusNotification()
