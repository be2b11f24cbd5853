"""Block B, provisioning: BootNotification, StatusNotification, and the device model the
station reports (NotifyReport, NotifyEvent). Heartbeat is shared:
``ocpp_gateway.versions.common``."""

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action, RegistrationStatusEnumType

from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.versions.v16.conversions import format_timestamp, parse_timestamp
from ocpp_gateway.versions.v201.conversions import event_variables, reported_variables
from stations import services


class ProvisioningHandlers:
    @on(Action.boot_notification)
    async def on_boot_notification(self, charging_station: dict, reason: str, **_):
        await shared_transactions.run(
            services.station_record_boot,
            station=self.station,
            vendor=charging_station["vendor_name"],
            model=charging_station["model"],
            serial_number=charging_station.get("serial_number", ""),
            firmware_version=charging_station.get("firmware_version", ""),
            reason=reason,
        )
        self.booted = True
        return call_result.BootNotification(
            current_time=format_timestamp(timezone.now()),
            interval=settings.OCPP_HEARTBEAT_INTERVAL,
            status=RegistrationStatusEnumType.accepted,
        )

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_
    ):
        # The domain's connector is 1.6's, which is 2.0.1's EVSE: an EVSE with several
        # connectors is one place where one vehicle charges. Which connector is in the info.
        await shared_transactions.run(
            services.connector_update_status,
            station=self.station,
            connector_id=evse_id,
            status=connector_status,
            info=f"connector {connector_id}" if evse_id else "",
            timestamp=parse_timestamp(timestamp),
        )
        return call_result.StatusNotification()

    @on(Action.notify_report)
    async def on_notify_report(self, report_data: list | None = None, **_):
        await database_sync_to_async(services.device_model_record)(
            station=self.station, variables=reported_variables(report_data or [])
        )
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def on_notify_event(self, event_data: list, **_):
        await database_sync_to_async(services.device_model_record)(
            station=self.station, variables=event_variables(event_data)
        )
        return call_result.NotifyEvent()
