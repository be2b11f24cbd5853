"""The supervision's side of one OCPP 1.6J connection: the library's ChargePoint plus our
handlers, one mixin per functional block."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import ocpp.messages
from channels.db import database_sync_to_async
from ocpp.exceptions import FormationViolationError, SecurityError
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.messages import Call
from ocpp.v16 import ChargePoint

from badges.authorization import Decision
from badges.identifiers import IdTagError, is_autocharge_tag, normalize_id_tag
from ocpp_gateway.connection import LoggedConnection
from ocpp_gateway.models import MessageType
from ocpp_gateway.v16.authorization import AuthorizationHandlers
from ocpp_gateway.v16.data_transfer import DataTransferHandlers
from ocpp_gateway.v16.provisioning import ProvisioningHandlers
from ocpp_gateway.v16.transactions import TransactionHandlers
from ocpp_gateway.v16.validation import check_request
from stations.models import Station

# The library validates each payload in a thread of the default executor: a hop per frame
# each way for CPU-bound work that holds the GIL anyway (a tenth of an Authorize's CPU, py-spy).
# Its documented switch validates in the event loop instead.
ocpp.messages.ASYNC_VALIDATION = False

SUBPROTOCOL = "ocpp1.6"
ID_TAG_MAX_LENGTH = 20  # CiString20
_ACTIONS_WITH_ID_TAG = {"Authorize", "StartTransaction", "StopTransaction"}

logger = logging.getLogger(__name__)


class CentralSystemChargePoint(
    ProvisioningHandlers,
    AuthorizationHandlers,
    TransactionHandlers,
    DataTransferHandlers,
    ChargePoint,
):
    def __init__(self, *, station: Station, connection: LoggedConnection, response_timeout: float):
        super().__init__(station.charge_point_id, connection, response_timeout=response_timeout)
        self.station = station
        # Set by the consumer: what to start once a BootNotification has been answered.
        self.after_boot: Callable[[], None] = lambda: None
        # A station never accepted at boot gets no other service until it is. Stations need
        # not boot again on every reconnect, so an earlier accepted boot counts.
        self.booted = station.last_boot_at is not None

    async def _handle_call(self, msg: Call):
        """Refuse what the library would mishandle, with OCPP-J 1.6's error codes, then let it
        route the call to our handlers."""
        if not isinstance(msg.action, str):
            raise FormationViolationError(details={"cause": "The action must be a string."})
        if msg.action not in self.route_map:
            raise OcppNotImplemented(details={"cause": f"{msg.action} is not handled here"})
        if not self.booted and msg.action != "BootNotification":
            raise SecurityError(
                details={"cause": "Send a BootNotification and wait until it is accepted."}
            )
        check_request(msg)
        return await super()._handle_call(msg)

    async def current_station(self) -> Station:
        """The station as staff configured it now (mode, company): decisions must not use the
        state it had when it connected."""
        await database_sync_to_async(self.station.refresh_from_db)(
            fields=["auth_mode", "company", "charge_point_id"]
        )
        return self.station

    def record_decision(self, decision: Decision) -> None:
        self._connection.record_decision(
            accepted=decision.accepted,
            ocpp_status=decision.status.value,
            reason=decision.reason.value,
            id_tag=decision.id_tag,
        )


def tolerate_long_vid_tag(text: str, message_type: int | None, action: str, payload) -> str:
    """Some stations send the MAC with separators (``VID:A0:14:31:0E:00:4E``, 21 characters),
    over CiString20. Rather than refusing a vehicle we can identify, hand the library the
    canonical tag; the log keeps what the station sent."""
    if (
        message_type != MessageType.CALL
        or action not in _ACTIONS_WITH_ID_TAG
        or not isinstance(payload, dict)
    ):
        return text
    id_tag = payload.get("idTag")
    if not isinstance(id_tag, str) or len(id_tag) <= ID_TAG_MAX_LENGTH:
        return text
    if not is_autocharge_tag(id_tag):
        return text
    try:
        canonical = normalize_id_tag(id_tag)
    except IdTagError:
        return text
    frame = json.loads(text)
    frame[3] = {**payload, "idTag": canonical}
    return json.dumps(frame, separators=(",", ":"))
