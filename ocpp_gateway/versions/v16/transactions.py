"""Core profile, transactions: StartTransaction, MeterValues, StopTransaction.

Each handler returns only after its service committed: the station is never told "stored" about
something that is not.
"""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from badges.authorization import authorize
from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.versions.v16.conversions import id_tag_info, parse_timestamp, sampled_values
from stations import services


class TransactionHandlers:
    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
        **_,
    ):
        station = await self.current_station()
        session, decision = await database_sync_to_async(services.session_start)(
            station=station,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            started_at=parse_timestamp(timestamp),
            log_entry_id=self.logged_connection.request_id,
            reservation_id=reservation_id,
        )
        self.record_decision(decision)
        return call_result.StartTransaction(
            transaction_id=session.transaction_id, id_tag_info=id_tag_info(decision)
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list, transaction_id: int | None = None, **_
    ):
        await shared_transactions.run(
            services.meter_values_record,
            station=self.station,
            connector_id=connector_id,
            transaction_id=transaction_id,
            samples=sampled_values(meter_value),
        )
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        # OCPP 1.6 §6.49: reason "may only be omitted when the Reason is Local".
        reason: str = "Local",
        id_tag: str | None = None,
        transaction_data: list | None = None,
        **_,
    ):
        await database_sync_to_async(services.session_stop)(
            station=self.station,
            transaction_id=transaction_id,
            meter_stop=meter_stop,
            stopped_at=parse_timestamp(timestamp),
            reason=reason,
            samples=sampled_values(transaction_data or []),
        )
        if id_tag is None:
            return call_result.StopTransaction()
        # The station asks for the tag's current status along with the stop.
        station = await self.current_station()
        decision = await database_sync_to_async(authorize)(id_tag=id_tag, station=station)
        return call_result.StopTransaction(id_tag_info=id_tag_info(decision))
