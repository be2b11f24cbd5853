"""Requests checked against their schema before the library sees them, so that each version
answers with its own OCPP-J error codes (stations' retry logic reads the code).

A valid payload is recognised by a compiled validator (fastjsonschema: plain Python code made
once per schema, several times faster than jsonschema's walk); whatever it refuses goes through
jsonschema, which stays the authority for errors, their codes and messages, and for what is
accepted: a payload the compiled validator refused that jsonschema finds valid is accepted.
tests/ocpp_gateway/test_compiled_validation.py checks that the compiled validator accepts
nothing jsonschema refuses, over every request schema of both versions."""

from __future__ import annotations

import functools
from collections.abc import Callable

import fastjsonschema
from jsonschema.exceptions import best_match
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError
from ocpp.messages import Call, MessageType, get_validator

# The schemas say "integer" without bounds; the database does not store every integer.
_MAX_ID = 2**31 - 1
_MAX_INTEGER = 2**63 - 1
_ID_KEYS = {"connectorId", "evseId"}

# The library validates every schema as Draft 4, whatever its "$schema" says (2.0.1's say
# draft-06): the compiled validator is told the same (as draft-06, it would take 1.0 for an
# integer, which Draft 4 refuses).
_DRAFT_4 = "http://json-schema.org/draft-04/schema#"
# Keywords where fastjsonschema is more lenient than jsonschema: it finds 21.4 a multiple of
# 0.1, jsonschema (in floats) does not. Schemas using them are checked by jsonschema alone
# (1.6's SetChargingProfile and RemoteStartTransaction, which stations do not send).
_NOT_COMPILED_KEYWORDS = frozenset({"multipleOf"})


def check_payload(
    call: Call, *, version: str, errors_by_keyword: dict[str, type[OCPPError]]
) -> None:
    """Raise the error ``errors_by_keyword`` names for the jsonschema keyword that failed
    first (PropertyConstraintViolation for the others), or for an integer out of range."""
    validator = get_validator(MessageType.Call, call.action, version)
    if not _compiled_accepts(call.action, version, call.payload):
        error = best_match(validator.iter_errors(call.payload))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "payload"
            raise errors_by_keyword.get(error.validator, PropertyConstraintViolationError)(
                details={"cause": f"{error.message} (at {where})"}
            )
    _check_ranges(call.payload)


def _compiled_accepts(action: str, version: str, payload) -> bool:
    """Whether the compiled validator finds ``payload`` valid (False: ask jsonschema)."""
    compiled = compiled_validator(action, version)
    if compiled is None:
        return False
    try:
        compiled(payload)
    except Exception:  # refused, or could not tell: jsonschema decides
        return False
    return True


@functools.cache
def compiled_validator(action: str, version: str) -> Callable | None:
    """The compiled validator of the request schema ``get_validator`` holds for ``action``
    (None where the schema uses a keyword it checks more leniently than jsonschema). Made on
    first use: compiling every schema up front would cost every process 0.2 s."""
    schema = get_validator(MessageType.Call, action, version).schema
    if _uses_keyword(schema, _NOT_COMPILED_KEYWORDS):
        return None
    # Every "$ref" of these schemas points into their own "definitions": nothing is fetched.
    return fastjsonschema.compile(
        {**schema, "$schema": _DRAFT_4},
        use_default=False,  # the payload is never filled in with the schema's defaults
        use_formats=False,  # as the library's Draft4Validator, which has no format checker
        detailed_exceptions=False,  # the messages come from jsonschema
    )


def _uses_keyword(schema, keywords: frozenset[str]) -> bool:
    """Whether ``schema`` names one of ``keywords`` anywhere (a property so named counts too)."""
    if isinstance(schema, dict):
        return any(
            key in keywords or _uses_keyword(value, keywords) for key, value in schema.items()
        )
    if isinstance(schema, list):
        return any(_uses_keyword(item, keywords) for item in schema)
    return False


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
