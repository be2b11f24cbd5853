"""Smart Charging profile (OCPP 1.6 §3.13): the site's shares are computed again once the
station has been answered (its transaction is known to it then, so a TxProfile can name it)
when a transaction starts or stops, or a connector reports a status."""

from ocpp.routing import after
from ocpp.v16.enums import Action


class SmartChargingHandlers:
    @after(Action.start_transaction)
    def after_start_transaction(self, connector_id: int, **_):
        self.site_rebalance_later(f"a session started on connector {connector_id}")

    @after(Action.stop_transaction)
    def after_stop_transaction(self, transaction_id: int, **_):
        self.site_rebalance_later(f"session {transaction_id} stopped")

    @after(Action.status_notification)
    def after_status_notification(self, connector_id: int, status: str, **_):
        self.site_rebalance_later(f"connector {connector_id} is {status}")
