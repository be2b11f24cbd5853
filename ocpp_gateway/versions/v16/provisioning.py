"""Core profile, provisioning: BootNotification, StatusNotification (Heartbeat and what follows
a boot are shared by both versions: ``ocpp_gateway.versions.common``)."""

from django.conf import settings
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, RegistrationStatus

from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.versions.v16.conversions import format_timestamp, parse_timestamp
from stations import services


class ProvisioningHandlers:
    @on(Action.boot_notification)
    async def on_boot_notification(
        self,
        charge_point_vendor: str,
        charge_point_model: str,
        charge_point_serial_number: str = "",
        charge_box_serial_number: str = "",
        firmware_version: str = "",
        **_,
    ):
        await shared_transactions.run(
            services.station_record_boot,
            station=self.station,
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=charge_point_serial_number or charge_box_serial_number,
            firmware_version=firmware_version,
        )
        self.booted = True
        return call_result.BootNotification(
            current_time=format_timestamp(timezone.now()),
            interval=settings.OCPP_HEARTBEAT_INTERVAL,
            status=RegistrationStatus.accepted,
        )

    @on(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        timestamp: str | None = None,
        info: str = "",
        vendor_error_code: str = "",
        **_,
    ):
        await shared_transactions.run(
            services.connector_update_status,
            station=self.station,
            connector_id=connector_id,
            status=status,
            error_code=error_code,
            info=info,
            vendor_error_code=vendor_error_code,
            timestamp=parse_timestamp(timestamp) if timestamp else None,
        )
        return call_result.StatusNotification()
