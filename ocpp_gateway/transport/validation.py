"""Requests checked against their schema before the library sees them, so that each version
answers with its own OCPP-J error codes (stations' retry logic reads the code)."""

from __future__ import annotations

from jsonschema.exceptions import best_match
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError
from ocpp.messages import Call, MessageType, get_validator

# The schemas say "integer" without bounds; the database does not store every integer.
_MAX_ID = 2**31 - 1
_MAX_INTEGER = 2**63 - 1
_ID_KEYS = {"connectorId", "evseId"}


def check_payload(
    call: Call, *, version: str, errors_by_keyword: dict[str, type[OCPPError]]
) -> None:
    """Raise the error ``errors_by_keyword`` names for the jsonschema keyword that failed
    first (PropertyConstraintViolation for the others), or for an integer out of range."""
    validator = get_validator(MessageType.Call, call.action, version)
    error = best_match(validator.iter_errors(call.payload))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "payload"
        raise errors_by_keyword.get(error.validator, PropertyConstraintViolationError)(
            details={"cause": f"{error.message} (at {where})"}
        )
    _check_ranges(call.payload)


def _check_ranges(value, key: str = "") -> None:
    """Integers a station may send that no station means: negative or huge connector and
    EVSE ids, numbers beyond 64 bits. Refused as bad values rather than failing deeper down."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            _check_ranges(child, child_key)
    elif isinstance(value, list):
        for child in value:
            _check_ranges(child, key)
    elif isinstance(value, int) and not isinstance(value, bool):
        limit = (0, _MAX_ID) if key in _ID_KEYS else (-_MAX_INTEGER, _MAX_INTEGER)
        if not limit[0] <= value <= limit[1]:
            raise PropertyConstraintViolationError(
                details={"cause": f"{key or 'value'} {value} is out of range"}
            )
