"""OCPP-J 1.6 error codes for requests that fail their schema.

The ``ocpp`` library validates too, but names errors the 2.0.1 way (``FormatViolation``) and
maps a missing field to ``ProtocolError``. OCPP-J 1.6 section 4.2.3 names them differently, and
stations' retry logic reads the code, so requests are checked here first, with 1.6's names.
"""

from __future__ import annotations

from jsonschema.exceptions import best_match
from ocpp.exceptions import (
    FormationViolationError,
    OccurenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call, MessageType, get_validator

# jsonschema keyword that failed → the OCPP-J 1.6 error it means.
_ERRORS_BY_KEYWORD: dict[str, type[OCPPError]] = {
    "type": TypeConstraintViolationError,  # "somestring": 12
    "required": OccurenceConstraintViolationError,  # a field missing
    "additionalProperties": FormationViolationError,  # not the PDU's structure
}


# The schemas say "integer" without bounds; the database does not store every integer.
_MAX_CONNECTOR_ID = 2**31 - 1
_MAX_INTEGER = 2**63 - 1


def check_request(call: Call) -> None:
    """Raise the OCPP-J 1.6 error for the first schema violation of ``call``'s payload."""
    validator = get_validator(MessageType.Call, call.action, "1.6")
    error = best_match(validator.iter_errors(call.payload))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "payload"
        raise _ERRORS_BY_KEYWORD.get(error.validator, PropertyConstraintViolationError)(
            details={"cause": f"{error.message} (at {where})"}
        )
    _check_ranges(call.payload)


def _check_ranges(value, key: str = "") -> None:
    """Integers a station may send that no station means: negative or huge connector ids,
    numbers beyond 64 bits. Refused as bad values rather than failing deeper down."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            _check_ranges(child, child_key)
    elif isinstance(value, list):
        for child in value:
            _check_ranges(child, key)
    elif isinstance(value, int) and not isinstance(value, bool):
        limit = (0, _MAX_CONNECTOR_ID) if key == "connectorId" else (-_MAX_INTEGER, _MAX_INTEGER)
        if not limit[0] <= value <= limit[1]:
            raise PropertyConstraintViolationError(
                details={"cause": f"{key or 'value'} {value} is out of range"}
            )


def v16_error_code(code: str) -> str:
    """The 1.6 spelling of an error code the library produced with 2.0.1's names."""
    return {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    }.get(code, code)
