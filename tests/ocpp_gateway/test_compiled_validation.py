"""The compiled validator (ocpp_gateway.transport.validation) against jsonschema, the authority,
over every request schema the ``ocpp`` library ships for OCPP 1.6 and 2.0.1.

A payload the compiled validator accepts skips jsonschema: so it must accept nothing that
jsonschema refuses (a false accept would let a malformed request reach the handlers). Each
schema's valid payloads are made from the schema itself, then mutated at every depth: each
property replaced by values of every JSON type and edge values, required properties removed,
unknown ones added, enum values in the wrong case, strings one character too long (in emoji),
arrays emptied or overfilled. The two must agree on every one (the compiled validator may only
refuse more, which costs time but not correctness: none such is known, and the test says so
if one appears).
"""

import copy
import json
import math
from pathlib import Path

import ocpp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match
from ocpp.exceptions import (
    FormationViolationError,
    OccurenceConstraintViolationError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.messages import Call, MessageType, get_validator

from ocpp_gateway.transport import validation
from ocpp_gateway.transport.validation import check_payload, compiled_validator
from ocpp_gateway.versions.v16 import validation as v16_validation
from ocpp_gateway.versions.v16.validation import check_request
from ocpp_gateway.versions.v201 import charge_point as v201_charge_point

SCHEMAS = Path(ocpp.__file__).parent
REQUESTS = sorted(
    [("1.6", path.stem) for path in (SCHEMAS / "v16/schemas").glob("*.json")]
    + [
        ("2.0.1", path.stem.removesuffix("Request"))
        for path in (SCHEMAS / "v201/schemas").glob("*Request.json")
    ]
)
REQUESTS = [(version, action) for version, action in REQUESTS if not action.endswith("Response")]
# Schemas left to jsonschema alone (fastjsonschema's multipleOf is more lenient in floats).
NOT_COMPILED = {("1.6", "RemoteStartTransaction"), ("1.6", "SetChargingProfile")}

TIMESTAMP = "2026-01-15T08:00:00Z"
EMOJI = "\U0001f50c"  # outside the BMP: one character, two UTF-16 units, four UTF-8 bytes
# Every JSON type, and the values where validators tend to differ.
EDGE_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    -0.0,
    1.5,
    -1.5,
    0.1,
    2**31 - 1,
    2**31,
    2**63,
    2**64,
    10**40,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    "",
    "a",
    "1",
    "true",
    "null",
    EMOJI,
    "x" * 5600,
    EMOJI * 2000,
    [],
    [None],
    [1, "a"],
    [{}],
    {},
    {"a": 1},
    {"a": {"b": [None, {"c": EMOJI}]}},
]


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        schema = root["definitions"][name]
    return schema


def _valid_value(schema: dict, root: dict, *, full: bool, depth: int = 0):
    """A value ``schema`` accepts: every property (``full``) or the required ones only."""
    schema = _resolve(schema, root)
    if "enum" in schema:
        return schema["enum"][-1 if full else 0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        names = properties if full and depth < 6 else schema.get("required", [])
        return {
            name: _valid_value(properties[name], root, full=full, depth=depth + 1) for name in names
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        if full:
            count = max(count, 1)
        return [
            _valid_value(schema.get("items", {}), root, full=full, depth=depth + 1)
            for _ in range(count)
        ]
    if kind == "string":
        if schema.get("format") == "date-time":
            return TIMESTAMP
        return EMOJI * min(schema.get("maxLength", 8), 8) if full else "a"
    if kind == "integer":
        return int(schema.get("minimum", 1))  # some say "minimum": 0.0, and 0.0 is no integer
    if kind == "number":
        return schema.get("minimum", 0) + (0.5 if full else 0)
    if kind == "boolean":
        return full
    return {}


def _seeds(root: dict) -> list:
    return [_valid_value(root, root, full=False), _valid_value(root, root, full=True)]


def _set(payload, path, value):
    """``payload`` with ``value`` at ``path`` (the containers on the way copied, no other)."""
    if not path:
        return value
    copied = copy.copy(payload)
    copied[path[0]] = _set(payload[path[0]], path[1:], value)
    return copied


def _walk(value, schema: dict, root: dict, path=()):
    """Every (path, value, schema) in ``value``, its schema resolved."""
    schema = _resolve(schema, root)
    yield path, value, schema
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, child in value.items():
            yield from _walk(child, properties.get(key, {}), root, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, schema.get("items", {}), root, (*path, index))


def _focus(value, schema: dict, root: dict, path):
    """``value`` reduced to its required properties, in their smallest form, off ``path``:
    still valid, and smaller, for jsonschema to check faster with a value mutated at ``path``."""
    if not path:
        return value
    schema = _resolve(schema, root)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        focused = {
            key: _valid_value(properties[key], root, full=False)
            for key in schema.get("required", ())
        }
        focused[head] = _focus(value[head], properties.get(head, {}), root, rest)
        return focused
    items = list(value)
    items[head] = _focus(value[head], schema.get("items", {}), root, rest)
    return items


def _mutations(seed, root: dict, mutated: set[int]):
    """Payloads made from the valid ``seed``: most invalid, some still valid. The schemas whose
    values are mutated are added to ``mutated``, and those already there are left alone."""
    yield seed
    for value in EDGE_VALUES:
        yield value  # the payload itself not an object
    for path, value, schema in _walk(seed, root, root):
        # A definition ("$ref") used in many places is mutated in the first only: both
        # validators check it with the same code wherever it is.
        if id(schema) in mutated:
            continue
        mutated.add(id(schema))
        base = _focus(seed, root, root, path)
        if path:
            for edge in EDGE_VALUES:
                yield _set(base, path, edge)
        if isinstance(value, dict):
            for key in value:  # required or not: removed
                yield _set(base, path, {k: v for k, v in value.items() if k != key})
            for extra in ("unexpected", "customData", "vendorId", ""):
                if extra not in value:
                    yield _set(base, path, {**value, extra: "a"})
        if isinstance(value, list) and path:
            yield _set(base, path, value * 3)
            yield _set(base, path, value[:1] * (schema.get("maxItems", 1) + 1))
            yield _set(base, path, [*value, "a"])
        if isinstance(value, str) and path:
            for variant in (value.lower(), value.upper(), f" {value}", value + "x"):
                yield _set(base, path, variant)
            limit = schema.get("maxLength")
            if limit is not None:
                yield _set(base, path, EMOJI * limit)  # valid: maxLength counts characters
                yield _set(base, path, EMOJI * (limit + 1))
                yield _set(base, path, "a" * (limit + 1))
        if isinstance(value, bool) and path:
            yield _set(base, path, int(value))
        elif isinstance(value, int | float) and path:
            for number in (value + 1, value - 1, value + 0.5, float(value), -value, value * 10**20):
                yield _set(base, path, number)


def _dump(payload) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _verdicts(version: str, action: str, payload, dumped: str) -> tuple[bool, bool]:
    """(jsonschema's, the compiled validator's) verdict on ``payload`` (``dumped``)."""
    authority = get_validator(MessageType.Call, action, version)
    compiled = compiled_validator(action, version)
    try:
        compiled(payload)
    except Exception:
        compiled_valid = False
    else:
        compiled_valid = True
    # The compiled validator never writes into the payload (no defaults filled in).
    assert _dump(payload) == dumped
    return authority.is_valid(payload), compiled_valid


@pytest.mark.parametrize(("version", "action"), REQUESTS, ids=lambda value: value)
def test_compiled_validator_agrees_with_jsonschema(version, action):
    if (version, action) in NOT_COMPILED:
        assert compiled_validator(action, version) is None
        return
    root = get_validator(MessageType.Call, action, version).schema
    false_accepts, false_refusals, seen, mutated = [], [], set(), set()
    for seed in _seeds(root)[::-1]:  # every property first, then the required ones only
        assert get_validator(MessageType.Call, action, version).is_valid(seed), seed
        for payload in _mutations(seed, root, mutated):
            key = _dump(payload)
            if key in seen:
                continue
            seen.add(key)
            authority, compiled = _verdicts(version, action, payload, key)
            if compiled and not authority:
                false_accepts.append(key[:300])
            elif authority and not compiled:
                false_refusals.append(key[:300])
    assert not false_accepts, f"{len(false_accepts)} false accepts, e.g. {false_accepts[:3]}"
    assert not false_refusals, f"{len(false_refusals)} needless refusals: {false_refusals[:3]}"
    assert len(seen) > len(EDGE_VALUES)


def test_every_request_schema_is_covered():
    assert len([r for r in REQUESTS if r[0] == "1.6"]) == 39
    assert len([r for r in REQUESTS if r[0] == "2.0.1"]) == 64
    assert {r for r in REQUESTS if compiled_validator(r[1], r[0]) is None} == NOT_COMPILED


# Random JSON, put anywhere in the requests stations send most.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_FREQUENT = [
    ("1.6", "Authorize"),
    ("1.6", "MeterValues"),
    ("1.6", "StartTransaction"),
    ("1.6", "StatusNotification"),
    ("2.0.1", "TransactionEvent"),
    ("2.0.1", "StatusNotification"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), request=st.sampled_from(_FREQUENT), value=_JSON)
def test_random_values_anywhere(data, request, value):
    version, action = request
    root = get_validator(MessageType.Call, action, version).schema
    seed = data.draw(st.sampled_from(_seeds(root)))
    paths = [path for path, _, _ in _walk(seed, root, root) if path]
    payload = _set(seed, data.draw(st.sampled_from(paths)), value) if paths else value
    authority, compiled = _verdicts(version, action, payload, _dump(payload))
    assert compiled == authority, payload


# --- Through check_payload: the same errors as before, and a valid payload passes -----------


# The versions' own maps (jsonschema keyword -> OCPP-J error).
V16_ERRORS = v16_validation._ERRORS_BY_KEYWORD
V201_ERRORS = v201_charge_point._ERRORS_BY_KEYWORD


def _jsonschema_alone(call: Call, version: str, errors_by_keyword):
    """What check_payload answered before the compiled validator: jsonschema on every payload."""
    validator = get_validator(MessageType.Call, call.action, version)
    error = best_match(validator.iter_errors(call.payload))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "payload"
        raise errors_by_keyword.get(error.validator, PropertyConstraintViolationError)(
            details={"cause": f"{error.message} (at {where})"}
        )
    validation._check_ranges(call.payload)


def _outcome(check, call: Call, version: str, errors_by_keyword):
    try:
        check(call, version=version, errors_by_keyword=errors_by_keyword)
    except OCPPError as error:
        return type(error), error.details
    return None


@pytest.mark.parametrize(("version", "action"), _FREQUENT, ids=lambda value: value)
def test_check_payload_answers_as_before(version, action):
    """Every mutated payload: the same error (class and message), or none, as jsonschema alone."""
    errors_by_keyword = V16_ERRORS if version == "1.6" else V201_ERRORS
    root = get_validator(MessageType.Call, action, version).schema
    mutated, refused = set(), 0
    for seed in _seeds(root)[::-1]:
        for payload in _mutations(seed, root, mutated):
            call = Call("1", action, payload)
            expected = _outcome(_jsonschema_alone, call, version, errors_by_keyword)
            assert _outcome(check_payload, call, version, errors_by_keyword) == expected, payload
            refused += expected is not None
    assert refused > len(EDGE_VALUES)


def _error(call: Call, version: str, errors_by_keyword) -> tuple[type, str]:
    with pytest.raises(Exception) as raised:
        check_payload(call, version=version, errors_by_keyword=errors_by_keyword)
    return type(raised.value), raised.value.details["cause"]


@pytest.mark.parametrize(
    ("payload", "error", "cause"),
    [
        ({"idTag": 12}, TypeConstraintViolationError, "12 is not of type 'string' (at idTag)"),
        (
            {},
            OccurenceConstraintViolationError,
            "'idTag' is a required property (at payload)",
        ),
        (
            {"idTag": "A", "x": 1},
            FormationViolationError,
            "Additional properties are not allowed ('x' was unexpected) (at payload)",
        ),
        (
            {"idTag": EMOJI * 21},
            PropertyConstraintViolationError,
            f"'{EMOJI * 21}' is too long (at idTag)",
        ),
    ],
)
def test_invalid_payload_raises_the_same_error(payload, error, cause):
    with pytest.raises(error) as raised:
        check_request(Call("1", "Authorize", payload))
    assert raised.value.details == {"cause": cause}


def test_invalid_201_payload_raises_the_same_error():
    payload = {"idToken": {"idToken": "A", "type": "Central", "extra": True}}
    error, cause = _error(Call("1", "Authorize", payload), "2.0.1", V201_ERRORS)
    assert error is ProtocolError
    assert cause == ("Additional properties are not allowed ('extra' was unexpected) (at idToken)")
    error, cause = _error(Call("1", "Authorize", {"idToken": {"type": "x"}}), "2.0.1", V201_ERRORS)
    assert error is OccurrenceConstraintViolationError
    assert cause == "'idToken' is a required property (at idToken)"


def test_valid_payload_passes_without_jsonschema(monkeypatch):
    calls = []
    monkeypatch.setattr(validation, "best_match", lambda errors: calls.append(errors))
    check_request(Call("1", "Authorize", {"idTag": "VID:0A1B2C3D4E5F"}))
    check_payload(
        Call("2", "Authorize", {"idToken": {"idToken": "0A1B2C3D4E5F", "type": "MacAddress"}}),
        version="2.0.1",
        errors_by_keyword=V201_ERRORS,
    )
    assert calls == []


def test_jsonschema_decides_when_the_compiled_validator_refuses(monkeypatch):
    """A payload the compiled validator refuses but jsonschema accepts is accepted."""

    def refuses(action, version):
        def validate(payload):
            raise ValueError("refused")

        return validate

    monkeypatch.setattr(validation, "compiled_validator", refuses)
    check_request(Call("1", "Authorize", {"idTag": "VID:0A1B2C3D4E5F"}))
    with pytest.raises(TypeConstraintViolationError):
        check_request(Call("1", "Authorize", {"idTag": 12}))


def test_ranges_still_checked_on_valid_payloads():
    payload = {"connectorId": 2**31, "errorCode": "NoError", "status": "Available"}
    with pytest.raises(PropertyConstraintViolationError) as raised:
        check_request(Call("1", "StatusNotification", payload))
    assert raised.value.details == {"cause": "connectorId 2147483648 is out of range"}
