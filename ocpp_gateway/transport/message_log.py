"""Turning OCPP-J frames into message-log rows (unsaved), leniently: a frame that is not valid
OCPP is still logged whole, because staff need to see what a buggy station sent."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from badges.identifiers import IdTagError, normalize_id_tag
from ocpp_gateway.models import Direction, LogStatus, MessageType, OcppMessage, time_ordered_uuid

_STATUS_BEARING_TYPES = {MessageType.CALL_RESULT, MessageType.CALL_ERROR}

# The station's HTTP Basic password travels as the value of the configuration key
# AuthorizationKey (OCPP 1.6 security whitepaper), or of the device-model variable
# SecurityCtrlr.BasicAuthPassword (OCPP 2.0.1, A01); it is replaced by REDACTED wherever a
# payload is stored or shown.
AUTHORIZATION_KEY = "AuthorizationKey"
PASSWORD_COMPONENT, PASSWORD_VARIABLE = "SecurityCtrlr", "BasicAuthPassword"
REDACTED = "***"


def _named(part: Any, name: str) -> bool:
    return (
        isinstance(part, dict)
        and isinstance(part.get("name"), str)
        and part["name"].casefold() == name.casefold()
    )


def _is_password_variable(item: Any) -> bool:
    """A SetVariables/GetVariables item about the station's password, carrying a value."""
    return (
        isinstance(item, dict)
        and _named(item.get("component"), PASSWORD_COMPONENT)
        and _named(item.get("variable"), PASSWORD_VARIABLE)
        and "attributeValue" in item
    )


def _password_items(action: str, payload: Any) -> list[dict]:
    """The items of a SetVariables request (``action``) or a GetVariables answer (None)
    that carry the station's password."""
    field = "setVariableData" if action == "SetVariables" else "getVariableResult"
    items = payload.get(field) if isinstance(payload, dict) else None
    return (
        [item for item in items if _is_password_variable(item)] if isinstance(items, list) else []
    )


def is_authorization_key_change(action: str, payload: Any) -> bool:
    """Whether this request sets the station's password: a ChangeConfiguration of
    AuthorizationKey (keys are case-insensitive in OCPP), or a SetVariables of
    SecurityCtrlr.BasicAuthPassword."""
    if action == "SetVariables":
        return bool(_password_items(action, payload))
    return (
        action == "ChangeConfiguration"
        and isinstance(payload, dict)
        and isinstance(payload.get("key"), str)
        and payload["key"].casefold() == AUTHORIZATION_KEY.casefold()
        and "value" in payload
    )


def password_of(action: str, payload: dict[str, Any]) -> Any:
    """The password a request that sets it carries."""
    if action == "SetVariables":
        return _password_items(action, payload)[0]["attributeValue"]
    return payload["value"]


def with_password(action: str, payload: dict[str, Any], password: Any) -> dict[str, Any]:
    """``payload`` (a copy) with the password it sets replaced by ``password``."""
    if action != "SetVariables":
        return {**payload, "value": password}
    return {
        **payload,
        "setVariableData": [
            {**item, "attributeValue": password} if _is_password_variable(item) else item
            for item in payload["setVariableData"]
        ],
    }


def redact_request(action: str, payload: Any) -> Any:
    """``payload`` (a copy) without the password a request setting it carries; any other
    payload as it is."""
    if is_authorization_key_change(action, payload):
        return with_password(action, payload, REDACTED)
    return payload


def redact_answer(payload: Any) -> Any:
    """``payload`` (a copy) without a password a GetConfiguration or GetVariables answer may
    report: it is write-only, but a station that gets it wrong must not leak it here."""
    if _password_items("", payload):
        return {
            **payload,
            "getVariableResult": [
                {**item, "attributeValue": REDACTED} if _is_password_variable(item) else item
                for item in payload["getVariableResult"]
            ],
        }
    keys = payload.get("configurationKey") if isinstance(payload, dict) else None
    if not isinstance(keys, list):
        return payload
    return {
        **payload,
        "configurationKey": [
            {**key, "value": REDACTED}
            if isinstance(key, dict)
            and isinstance(key.get("key"), str)
            and key["key"].casefold() == AUTHORIZATION_KEY.casefold()
            and "value" in key
            else key
            for key in keys
        ],
    }


def redact(message_type: int | None, action: str, payload: Any) -> Any:
    """``payload`` of a logged frame, without the station's password if it carries it."""
    if message_type == MessageType.CALL:
        return redact_request(action, payload)
    if message_type == MessageType.CALL_RESULT:
        return redact_answer(payload)
    return payload


def _no_constants(name: str):
    # NaN and Infinity are Python's extension, not JSON: a frame carrying them is malformed.
    raise ValueError(f"{name} is not JSON")


# Made once: ``json.loads`` with an option makes a decoder at every call (half its time on a
# short frame, cProfile).
_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constants)


def loads(text: str) -> Any:
    """Strict JSON (RFC 8259), as OCPP-J requires."""
    return _STRICT_JSON.decode(text)


_NUL = "\\u0000"  # as json.dumps writes it: PostgreSQL text cannot hold it


def _needs_repair(serialised: str) -> bool:
    if _NUL in serialised:
        return True
    try:
        serialised.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _repaired(value: Any) -> Any:
    """``value`` with lone surrogates and NUL characters replaced: no UTF-8 encoder takes the
    former, no PostgreSQL text the latter."""
    serialised = json.dumps(value, ensure_ascii=False).replace(_NUL, "\\ufffd")
    return json.loads(serialised.encode("utf-8", "replace").decode("utf-8"))


NOT_JSON = object()  # the value of a frame that is not strict JSON


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame read once (``read_frame``): the log, the ``ocpp`` library and the handlers share
    its value instead of parsing the text again."""

    text: str
    """As stored and handled: lone surrogates and NUL characters replaced."""
    value: Any
    """Its JSON value, or ``NOT_JSON``."""
    message_id_kept: bool = False
    """Its message id is left as sent although it needed repair (see ``read_frame``)."""
    huge_numbers: bool = False
    """It holds a number no float holds (``1e400``): ``inf`` in its value, as the library
    reads it; the log keeps the literal (``log_entry``)."""


def read_frame(text: str, *, keep_message_id: bool = False) -> Frame:
    """Parse ``text`` once; re-serialise it only when it carries lone surrogates (``"\\ud800"``
    escapes) or NUL characters, which no UTF-8 encoder or PostgreSQL text takes.
    ``keep_message_id``: leave the message id alone, so the answer echoes it exactly (JSON
    escapes it again on the way out)."""
    huge = False
    try:
        value = _STRICT_FINITE_JSON.decode(text)
    except _HugeNumber:
        value, huge = loads(text), True
    except (ValueError, RecursionError):  # not JSON: only the raw text can need repair
        return Frame(text.encode("utf-8", "replace").decode("utf-8"), NOT_JSON)
    # Both can only come as \u escapes in a text decoded from UTF-8: most frames have none.
    if ("\\u" not in text and text.isascii()) or not _needs_repair(
        json.dumps(value, ensure_ascii=False)
    ):
        return Frame(text, value, huge_numbers=huge)
    if keep_message_id and isinstance(value, list) and len(value) > 1:
        repaired = [_repaired(value[0]), value[1], *_repaired(value[2:])]
        return Frame(json.dumps(repaired), repaired, message_id_kept=True, huge_numbers=huge)
    repaired = _repaired(value)
    return Frame(json.dumps(repaired, ensure_ascii=False), repaired, huge_numbers=huge)


def parse_frame(frame: Frame) -> tuple[int | None, str, str, Any]:
    """``(message_type, unique_id, action, payload)``; message_type is None when the frame is
    not an OCPP-J array, and the payload is then the raw text."""
    text, frame = frame.text, frame.value
    if frame is NOT_JSON:  # not JSON, or nested deeper than Python parses
        return None, message_id_of(text), "", text
    if not isinstance(frame, list) or len(frame) not in _LENGTHS.get(_type_of(frame), ()):
        return None, _unique_id_of(frame), "", text
    message_type, unique_id = frame[0], str(frame[1])[:64]
    if message_type == MessageType.CALL:
        return message_type, unique_id, str(frame[2])[:64], frame[3]
    if message_type == MessageType.CALL_ERROR:
        details = frame[4] if len(frame) > 4 else {}
        return (
            message_type,
            unique_id,
            "",
            {
                "errorCode": frame[2],
                "errorDescription": frame[3],
                "errorDetails": details,
            },
        )
    return message_type, unique_id, "", frame[2]


# How many elements each kind of OCPP-J frame has (a CALLERROR's details may be left out).
_LENGTHS = {MessageType.CALL: (4,), MessageType.CALL_RESULT: (3,), MessageType.CALL_ERROR: (4, 5)}


def _type_of(frame: list) -> int | None:
    kind = frame[0] if frame else None
    return kind if isinstance(kind, int) and not isinstance(kind, bool) else None


def looks_like_an_answer(text: str) -> bool:
    """A malformed CALLRESULT or CALLERROR (answers get no error back)."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, list) and bool(frame) and _type_of(frame) in (3, 4)


def message_id_of(text: str) -> str:
    """The message id of a frame that is JSON only by Python's lax reading (NaN…): enough to
    answer it with an error."""
    try:
        return _unique_id_of(json.loads(text))
    except (ValueError, RecursionError):
        return ""


def _unique_id_of(frame: Any) -> str:
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return frame[1]
    return ""


def _id_tag_of(payload: Any) -> str:
    """The idTag a request carries, in canonical form when it has one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("idTag"), str):
        return ""
    raw = payload["idTag"]
    try:
        return normalize_id_tag(raw)[:64]  # the column holds 64; the payload keeps it all
    except IdTagError:
        return raw.strip().upper()[:64]


def _ocpp_status_of(message_type: int | None, payload: Any) -> str:
    """The status a result carries (``Accepted``, ``Invalid``…), or a call error's code."""
    if message_type not in _STATUS_BEARING_TYPES or not isinstance(payload, dict):
        return ""
    if message_type == MessageType.CALL_ERROR:
        return str(payload.get("errorCode", ""))[:64]
    status = payload.get("status")
    if status is None and isinstance(payload.get("idTagInfo"), dict):
        status = payload["idTagInfo"].get("status")
    return str(status)[:64] if status is not None else ""


# A JSON number a float cannot hold (``1e400``, 309 digits) becomes ``inf`` when parsed, which
# no JSON column takes: noticed while the frame is parsed, then kept as its literal, in a string.
class _HugeNumber(Exception):
    pass


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise _HugeNumber
    return number


_STRICT_FINITE_JSON = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)


def _finite_or_literal(literal: str) -> float | str:
    number = float(literal)
    return number if math.isfinite(number) else literal


def _literal_huge_numbers(text: str) -> str:
    try:
        frame = json.loads(text, parse_float=_finite_or_literal)
    except (ValueError, RecursionError):
        return text
    return json.dumps(frame, ensure_ascii=False)


@dataclass(slots=True, eq=False)
class LogRow:
    """A message-log row on its way to the writer: ``OcppMessage``'s columns, by the names and
    in the order of its fields (``test_log_ids`` checks it), without a model instance's cost (a
    third of a logged frame's time, cProfile; two rows per call)."""

    id: uuid.UUID
    station_id: int | None
    charge_point_id: str
    direction: str
    message_type: int | None
    unique_id: str
    action: str
    status: str
    ocpp_status: str
    reason: str
    id_tag: str
    payload: Any
    created_at: datetime

    @property
    def pk(self) -> uuid.UUID:
        return self.id

    def as_model(self) -> OcppMessage:
        return OcppMessage(**{field.name: getattr(self, field.name) for field in fields(self)})


def log_entry(
    *,
    text: str = "",
    frame: Frame | None = None,
    direction: Direction,
    station_id: int | None,
    charge_point_id: str,
    answering: LogRow | None = None,
) -> LogRow:
    """The row for one frame, given as ``text`` or already read (``frame``). ``answering`` is
    the request this frame answers, whose action a CALLRESULT or CALLERROR does not repeat."""
    if frame is None or frame.message_id_kept:
        frame = read_frame(frame.text if frame is not None else text)
    if frame.huge_numbers:
        frame = read_frame(_literal_huge_numbers(frame.text))
    message_type, unique_id, action, payload = parse_frame(frame)
    payload = redact(message_type, action, payload)
    if not action and answering is not None and answering.unique_id == unique_id:
        action = answering.action
    return LogRow(
        time_ordered_uuid(),
        station_id,
        charge_point_id,
        direction,
        message_type,
        unique_id[:64],
        action,
        LogStatus.ERROR if message_type in (MessageType.CALL_ERROR, None) else "",  # status
        _ocpp_status_of(message_type, payload),
        "",  # reason: given with the decision
        _id_tag_of(payload) if message_type == MessageType.CALL else "",
        payload,
        datetime.now(UTC),  # USE_TZ: the time Django's timezone.now() gives, without its lookups
    )
