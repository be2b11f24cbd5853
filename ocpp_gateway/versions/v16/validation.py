"""OCPP-J 1.6 error codes for requests that fail their schema.

The ``ocpp`` library validates too, but names errors the 2.0.1 way (``FormatViolation``) and
maps a missing field to ``ProtocolError``. OCPP-J 1.6 section 4.2.3 names them differently, and
stations' retry logic reads the code, so requests are checked here first, with 1.6's names.
"""

from __future__ import annotations

from ocpp.exceptions import (
    FormationViolationError,
    OccurenceConstraintViolationError,
    OCPPError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call

from ocpp_gateway.transport.validation import check_payload

# jsonschema keyword that failed → the OCPP-J 1.6 error it means.
_ERRORS_BY_KEYWORD: dict[str, type[OCPPError]] = {
    "type": TypeConstraintViolationError,  # "somestring": 12
    "required": OccurenceConstraintViolationError,  # a field missing
    "additionalProperties": FormationViolationError,  # not the PDU's structure
}


def check_request(call: Call) -> None:
    """Raise the OCPP-J 1.6 error for the first schema violation of ``call``'s payload."""
    check_payload(call, version="1.6", errors_by_keyword=_ERRORS_BY_KEYWORD)


def v16_error_code(code: str) -> str:
    """The 1.6 spelling of an error code the library produced with 2.0.1's names."""
    return {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    }.get(code, code)
