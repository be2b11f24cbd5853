"""Block E, transactions (TransactionEvent), and block J, meter values outside transactions
(MeterValues).

Each handler returns only after its service committed: the station is never told "stored"
about something that is not. Transaction data is never refused (a refused event makes a station
retry it forever): replays, late offline events and gaps in ``seqNo`` are all taken.
"""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from ocpp_gateway.operations.commands import remote_start_token
from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.versions.v16.conversions import parse_timestamp
from ocpp_gateway.versions.v201.conversions import (
    authorization_status,
    id_tag_of,
    id_token_info,
    sampled_values,
)
from stations import services


class TransactionHandlers:
    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict,
        meter_value: list | None = None,
        offline: bool = False,
        evse: dict | None = None,
        id_token: dict | None = None,
        reservation_id: int | None = None,
        **_,
    ):
        station = await self.current_station()
        token = None
        if id_token is not None:
            id_tag, supported = id_tag_of(id_token)
            token = services.PresentedToken(id_tag=id_tag, unsupported=not supported)
        elif event_type == "Started" and transaction_info.get("remote_start_id") is not None:
            # F01/F02: a transaction we started remotely names our remoteStartId; the Started
            # event may carry no idToken (the token was authorized with the request). Later
            # events may repeat the id: the session is attributed by then.
            token = await database_sync_to_async(self._remote_start_token)(
                station, transaction_info["remote_start_id"]
            )
        _session, decision = await database_sync_to_async(services.transaction_event_record)(
            station=station,
            station_transaction_id=transaction_info["transaction_id"],
            event=event_type,
            seq_no=seq_no,
            timestamp=parse_timestamp(timestamp),
            trigger_reason=trigger_reason,
            offline=offline,
            evse_id=(evse or {}).get("id"),
            token=token,
            stopped_reason=transaction_info.get("stopped_reason", ""),
            samples=sampled_values(meter_value or []),
            log_entry_id=self.logged_connection.request_id,
            reservation_id=reservation_id,
        )
        if decision is None or id_token is None:
            # E01.FR.xx: idTokenInfo answers a token the request carried, not ours.
            return call_result.TransactionEvent()
        # E01.FR.xx: idTokenInfo whenever the request carried a token.
        self.record_decision(decision, ocpp_status=authorization_status(decision))
        return call_result.TransactionEvent(id_token_info=id_token_info(decision))

    @staticmethod
    def _remote_start_token(station, remote_start_id: int) -> services.PresentedToken | None:
        sent = remote_start_token(station=station, remote_start_id=remote_start_id)
        if sent is None or "idToken" not in sent or "type" not in sent:
            return None
        id_tag, supported = id_tag_of({"id_token": sent["idToken"], "type": sent["type"]})
        return services.PresentedToken(id_tag=id_tag, unsupported=not supported)

    @on(Action.meter_values)
    async def on_meter_values(self, evse_id: int, meter_value: list, **_):
        await shared_transactions.run(
            services.meter_values_record,
            station=self.station,
            connector_id=evse_id,
            transaction_id=None,
            samples=sampled_values(meter_value),
        )
        return call_result.MeterValues()
