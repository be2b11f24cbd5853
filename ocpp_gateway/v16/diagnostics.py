"""Firmware Management profile: what the station reports of a diagnostics upload
(DiagnosticsStatusNotification), shown with the station as 2.0.1's log upload is
(``v201.diagnostics``). FirmwareStatusNotification is shared by both versions
(``ocpp_gateway.charge_point``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from stations import services


class DiagnosticsHandlers:
    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status: str, **_):
        # 1.6's diagnostics upload is 2.0.1's log upload: one field for both.
        await database_sync_to_async(services.station_record_log_status)(
            station=self.station, status=status
        )
        return call_result.DiagnosticsStatusNotification()
