"""Block P, DataTransfer: vendor-specific messages. None is handled yet, so the vendor is
unknown."""

from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action, DataTransferStatusEnumType


class DataTransferHandlers:
    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_):
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)
