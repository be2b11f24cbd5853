"""Firmware Management profile: what the station reports of a firmware update or of a
diagnostics upload (FirmwareStatusNotification, DiagnosticsStatusNotification), shown with the
station as its 2.0.1 counterparts are (``v201.diagnostics``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from stations import services


class DiagnosticsHandlers:
    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(self, status: str, **_):
        await database_sync_to_async(services.station_record_firmware_status)(
            station=self.station, status=status
        )
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status: str, **_):
        # 1.6's diagnostics upload is 2.0.1's log upload: one field for both.
        await database_sync_to_async(services.station_record_log_status)(
            station=self.station, status=status
        )
        return call_result.DiagnosticsStatusNotification()
