"""The supervision's side of one OCPP 2.0.1 connection: the library's ChargePoint plus our
handlers, one mixin per functional block of the 2.0.1 specification (A security, B
provisioning, C authorization, E transactions, H reservations, J meter values, L firmware,
N diagnostics, P data transfer). They call the same services as the 1.6 handlers."""

from __future__ import annotations

from ocpp.exceptions import (
    OccurrenceConstraintViolationError,
    OCPPError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway.operations.configuration import DEVICE_MODEL_VARIABLES
from ocpp_gateway.transport.validation import check_payload
from ocpp_gateway.versions.common import GatewayChargePoint
from ocpp_gateway.versions.v201.authorization import AuthorizationHandlers
from ocpp_gateway.versions.v201.data_transfer import DataTransferHandlers
from ocpp_gateway.versions.v201.diagnostics import DiagnosticsHandlers
from ocpp_gateway.versions.v201.provisioning import ProvisioningHandlers
from ocpp_gateway.versions.v201.reservations import ReservationHandlers
from ocpp_gateway.versions.v201.security import SecurityHandlers
from ocpp_gateway.versions.v201.smart_charging import SmartChargingHandlers
from ocpp_gateway.versions.v201.transactions import TransactionHandlers


class RpcFrameworkError(OCPPError):
    """OCPP-J 2.0.1: the content is not a valid RPC request (no readable message id…)."""

    code = "RpcFrameworkError"
    default_description = "Not a valid RPC request"


# jsonschema keyword that failed → the OCPP-J 2.0.1 error it means (part 4, §4.3).
_ERRORS_BY_KEYWORD: dict[str, type[OCPPError]] = {
    "type": TypeConstraintViolationError,  # "somestring": 12
    "required": OccurrenceConstraintViolationError,  # a field missing
    "additionalProperties": ProtocolError,  # not the PDU's structure
}
# Errors of frames the library could not unpack → the 2.0.1 code.
_UNREADABLE_CODES = {
    "FormatViolation": "RpcFrameworkError",  # not JSON
    "ProtocolError": "RpcFrameworkError",  # not an array, elements missing
    "PropertyConstraintViolation": "MessageTypeNotSupported",  # unknown message type id
}


class CsmsChargePoint(
    GatewayChargePoint,
    SecurityHandlers,
    ProvisioningHandlers,
    AuthorizationHandlers,
    TransactionHandlers,
    ReservationHandlers,
    DiagnosticsHandlers,
    DataTransferHandlers,
    SmartChargingHandlers,  # sites
    ChargePoint,
):
    SUBPROTOCOL = "ocpp2.0.1"
    ACTIONS = frozenset(action.value for action in Action)
    CALLS = call
    CALL_RESULTS = call_result
    CONFIGURATION = DEVICE_MODEL_VARIABLES
    UNREADABLE_MESSAGE_ID = "-1"  # OCPP-J 2.0.1 §4.2.3

    def malformed_action_error(self) -> OCPPError:
        return RpcFrameworkError(details={"cause": "The action must be a string."})

    def check_request(self, msg: Call) -> None:
        check_payload(msg, version="2.0.1", errors_by_keyword=_ERRORS_BY_KEYWORD)

    def unreadable_error_code(self, error: OCPPError | None) -> str:
        if error is None:
            return "FormatViolation"  # JSON only by Python's lax reading (NaN, Infinity)
        return _UNREADABLE_CODES.get(error.code, error.code)
