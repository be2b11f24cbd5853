"""Smart Charging profile (OCPP 1.6 §3.13): the site's shares are computed again once the
station has been answered (its transaction is known to it then, so a TxProfile can name it)
when a transaction starts or stops, or a connector reports a status."""

from channels.db import database_sync_to_async
from ocpp.routing import after
from ocpp.v16.enums import Action

from ocpp_gateway import smart_charging


class SmartChargingHandlers:
    def _rebalance(self, trigger: str) -> None:
        rebalance = database_sync_to_async(smart_charging.station_changed)
        station_id, trigger = self.station.pk, f"{self.station.charge_point_id}: {trigger}"
        self.run_later(lambda: rebalance(station_id=station_id, trigger=trigger))

    @after(Action.start_transaction)
    def after_start_transaction(self, connector_id: int, **_):
        self._rebalance(f"a session started on connector {connector_id}")

    @after(Action.stop_transaction)
    def after_stop_transaction(self, transaction_id: int, **_):
        self._rebalance(f"session {transaction_id} stopped")

    @after(Action.status_notification)
    def after_status_notification(self, connector_id: int, status: str, **_):
        self._rebalance(f"connector {connector_id} is {status}")
