"""Block N, diagnostics: what the station reports of a log upload (LogStatusNotification),
shown with the station. Block L's FirmwareStatusNotification is shared by both versions
(``ocpp_gateway.charge_point``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from stations import services


class DiagnosticsHandlers:
    @on(Action.log_status_notification)
    async def on_log_status_notification(self, status: str, **_):
        await database_sync_to_async(services.station_record_log_status)(
            station=self.station, status=status
        )
        return call_result.LogStatusNotification()
