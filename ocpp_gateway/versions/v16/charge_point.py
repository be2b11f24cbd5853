"""The supervision's side of one OCPP 1.6J connection: the library's ChargePoint plus our
handlers, one mixin per functional block."""

from __future__ import annotations

import logging

from ocpp.exceptions import FormationViolationError, OCPPError
from ocpp.messages import Call
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from badges.identifiers import IdTagError, is_autocharge_tag, normalize_id_tag
from ocpp_gateway.models import MessageType
from ocpp_gateway.operations.configuration import CONFIGURATION_KEYS
from ocpp_gateway.versions.common import GatewayChargePoint
from ocpp_gateway.versions.v16.authorization import AuthorizationHandlers
from ocpp_gateway.versions.v16.data_transfer import DataTransferHandlers
from ocpp_gateway.versions.v16.diagnostics import DiagnosticsHandlers
from ocpp_gateway.versions.v16.provisioning import ProvisioningHandlers
from ocpp_gateway.versions.v16.smart_charging import SmartChargingHandlers
from ocpp_gateway.versions.v16.transactions import TransactionHandlers
from ocpp_gateway.versions.v16.validation import check_request, v16_error_code

ID_TAG_MAX_LENGTH = 20  # CiString20
_ACTIONS_WITH_ID_TAG = {"Authorize", "StartTransaction", "StopTransaction"}

logger = logging.getLogger(__name__)


class CentralSystemChargePoint(
    GatewayChargePoint,
    ProvisioningHandlers,
    AuthorizationHandlers,
    TransactionHandlers,
    DiagnosticsHandlers,
    DataTransferHandlers,
    SmartChargingHandlers,  # sites
    ChargePoint,
):
    SUBPROTOCOL = "ocpp1.6"
    ACTIONS = frozenset(action.value for action in Action)
    CALLS = call
    CALL_RESULTS = call_result
    CONFIGURATION = CONFIGURATION_KEYS

    def malformed_action_error(self) -> OCPPError:
        return FormationViolationError(details={"cause": "The action must be a string."})

    def check_request(self, msg: Call) -> None:
        check_request(msg)

    def unreadable_error_code(self, error: OCPPError | None) -> str:
        if error is None:
            return "FormationViolation"  # the library's JSON is laxer than ours (NaN, Infinity)
        code = v16_error_code(error.code)
        # An unknown message type id: 1.6 has no code of its own for it.
        return "FormationViolation" if code == "PropertyConstraintViolation" else code

    def adjust_frame(self, frame: list, message_type: int | None, action: str, payload) -> list:
        return tolerate_long_vid_tag(frame, message_type, action, payload)


def tolerate_long_vid_tag(frame: list, message_type: int | None, action: str, payload) -> list:
    """Some stations send the MAC with separators (``VID:A0:14:31:0E:00:4E``, 21 characters),
    over CiString20. Rather than refusing a vehicle we can identify, hand the library the
    canonical tag; the log keeps what the station sent."""
    if (
        message_type != MessageType.CALL
        or action not in _ACTIONS_WITH_ID_TAG
        or not isinstance(payload, dict)
    ):
        return frame
    id_tag = payload.get("idTag")
    if not isinstance(id_tag, str) or len(id_tag) <= ID_TAG_MAX_LENGTH:
        return frame
    if not is_autocharge_tag(id_tag):
        return frame
    try:
        canonical = normalize_id_tag(id_tag)
    except IdTagError:
        return frame
    return [*frame[:3], {**frame[3], "idTag": canonical}]
