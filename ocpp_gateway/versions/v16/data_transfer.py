"""DataTransfer: vendor-specific messages. None is handled yet, so the vendor is unknown."""

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus


class DataTransferHandlers:
    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_):
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
